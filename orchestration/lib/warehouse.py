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
from dataclasses import dataclass
from pathlib import Path

import duckdb


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
        return cls.from_url(settings.warehouse, settings.extra.get("BRIDGE_WORK_DIR"))

    def ensure_dirs(self) -> None:
        self.published.parent.mkdir(parents=True, exist_ok=True)


def connect_work(paths: WarehousePaths) -> duckdb.DuckDBPyConnection:
    """Open the internal work database; it holds salaries, so it is owner-only."""
    paths.ensure_dirs()
    con = duckdb.connect(str(paths.work))
    os.chmod(paths.work, 0o600)
    return con


def connect_published(paths: WarehousePaths) -> duckdb.DuckDBPyConnection:
    """What a reader does: open the published file read-only."""
    return duckdb.connect(str(paths.published), read_only=True)


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
