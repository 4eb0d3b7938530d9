"""DuckDB connections within a memory budget.

DuckDB lets each database it opens take up to 80 % of the machine's memory by default, so
a large join grows the process instead of spilling to disk. Every connection the bridge
opens goes through `connect`, which sets `memory_limit` and, where DuckDB may spill (a file
opened for writing, or an in-memory database given one), `temp_directory`. The limit is per
database instance: connections to one file in one process share one instance and one limit.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

MiB = 2**20
# the smallest share worth opening a database with (DuckDB needs a few MB per thread)
MIN_LIMIT = 32 * MiB


def limit_text(nbytes: int) -> str:
    """A limit in DuckDB's notation, whole MiB (DuckDB shows limits to a tenth of a MiB, so
    a whole MiB reads back exactly)."""
    return f"{max(nbytes, MIN_LIMIT) // MiB}MiB"


def parse_size(text: str) -> int:
    """'1GB', '512MiB', '2 gib' -> bytes, parsed by DuckDB itself (ValueError naming why)."""
    con = duckdb.connect(config={"memory_limit": limit_text(MIN_LIMIT), "threads": 1})
    try:
        return con.execute("select parse_formatted_bytes(?)", [text]).fetchone()[0]
    except duckdb.Error as exc:
        raise ValueError(str(exc).removeprefix("Invalid Input Error: ")) from None
    finally:
        con.close()


def temp_directory_for(path: str | Path) -> Path:
    """Where a database file's spill files go: beside it, so they share its disk and its owner."""
    path = Path(path)
    return path.with_name(path.name + ".tmp")


def connect(database: str | Path = ":memory:", *, memory_limit: int, read_only: bool = False,
            temp_directory: str | Path | None = None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open `database` with DuckDB's memory capped at `memory_limit` bytes (whole MiB).

    A file opened for writing spills to `temp_directory` (default: beside it); an in-memory or
    read-only database spills only where it is told to.
    """
    config: dict[str, str | int] = {"memory_limit": limit_text(memory_limit)}
    if temp_directory is None and str(database) != ":memory:" and not read_only:
        temp_directory = temp_directory_for(database)
    if temp_directory is not None:
        config["temp_directory"] = str(temp_directory)
    if threads is not None:
        config["threads"] = threads
    return duckdb.connect(str(database), read_only=read_only, config=config)
