"""Where the warehouse files live, and opening them safely.

DuckDB allows one writer process per file, so the pipeline writes only the internal
work file; readers open the published file, which is replaced by atomic rename and
never written in place (see docs/internals.md).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from connectors import duck
from orchestration.lib.settings import DEFAULT_MEMORY_LIMIT


@dataclass(frozen=True)
class MemoryBudget:
    """BRIDGE_MEMORY_LIMIT divided between what holds DuckDB memory at the same time.

    During a sync two processes hold DuckDB databases: the run's (the work file, one instance
    shared by all its connections, the feeds extracted side by side included, plus at most
    one scratch database: the xAPI page decoder while feeds land, a Postgres copy while the
    checks run, a snapshot for the report) and dbt's while it builds. dbt gets half, the
    work file three eighths, scratch one eighth. The limits cap DuckDB's buffers (what grows
    with the data); each Python interpreter's own ~100-250 MB comes on top.
    """

    total: int = DEFAULT_MEMORY_LIMIT

    @property
    def dbt(self) -> int:
        return self.total // 2

    @property
    def work(self) -> int:
        return self.total * 3 // 8

    @property
    def scratch(self) -> int:
        return self.total // 8



@dataclass(frozen=True)
class WarehousePaths:
    published: Path
    restricted: Path
    work: Path
    lock: Path
    data_docs: Path
    report: Path
    dbt_target: Path    # dbt's artifacts and partial-parse cache for this warehouse
    pg_url: str | None = None  # set when the warehouse is PostgreSQL
    memory: MemoryBudget = MemoryBudget()    # BRIDGE_MEMORY_LIMIT, divided

    @classmethod
    def from_url(cls, warehouse: str, work_dir: str | None = None) -> WarehousePaths:
        if warehouse.startswith(("postgresql://", "postgres://")):
            # Postgres holds what readers see; the work file (raw versions, cursors, the
            # authoritative audit log) stays on the pipeline's own disk.
            local = cls.from_url(str(Path(work_dir or "warehouse") / "bridge.duckdb"))
            return cls(**{**local.__dict__, "pg_url": warehouse})
        published = Path(warehouse).expanduser().resolve()
        stem = published.name.removesuffix(".duckdb")
        base = published.parent
        return cls(
            published=published,
            restricted=base / f"{stem}.restricted.duckdb",
            work=base / f"{stem}.work.duckdb",
            lock=base / f"{stem}.lock",
            data_docs=base / "data_docs",
            report=base / "report",
            dbt_target=base / f".{stem}.dbt_target",
        )

    @classmethod
    def for_settings(cls, settings) -> WarehousePaths:
        paths = cls.from_url(settings.warehouse, settings.extra.get("BRIDGE_WORK_DIR"))
        return replace(paths, memory=MemoryBudget(settings.get("BRIDGE_MEMORY_LIMIT")))

    def ensure_dirs(self) -> None:
        self.published.parent.mkdir(parents=True, exist_ok=True)


def connect_work(paths: WarehousePaths) -> duckdb.DuckDBPyConnection:
    """Open the internal work database; it holds salaries, so it is owner-only."""
    paths.ensure_dirs()
    con = duck.connect(paths.work, memory_limit=paths.memory.work)
    os.chmod(paths.work, 0o600)
    return con


def connect_published(paths: WarehousePaths) -> duckdb.DuckDBPyConnection:
    """What a reader does: open the published file read-only."""
    return connect_read_only(paths, paths.published)


def connect_read_only(paths: WarehousePaths, database: Path) -> duckdb.DuckDBPyConnection:
    """A reader's connection to one of the warehouse's files, within the work file's share."""
    return duck.connect(database, read_only=True, memory_limit=paths.memory.work)


def connect_scratch(paths: WarehousePaths, database: str | Path = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB of the run's own (a copy to check, a snapshot to report from, a compaction),
    within the scratch share and spilling beside the work file."""
    paths.ensure_dirs()
    return duck.connect(database, memory_limit=paths.memory.scratch,
                        temp_directory=duck.temp_directory_for(paths.work))


class SyncAlreadyRunning(RuntimeError):
    pass


@contextmanager
def exclusive_sync(paths: WarehousePaths) -> Iterator[None]:
    """One sync writes at a time: a second trigger fails fast instead of fighting for the file."""
    paths.ensure_dirs()
    with open(paths.lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncAlreadyRunning(
                f"another sync holds {paths.lock}; this trigger was not run (nothing was changed)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
