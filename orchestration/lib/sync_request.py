"""What an operator asked of one `bridge sync` on a bad night, and its audit trail.

- `--only hris,lms`: extract only those sources; the build uses what the others last landed.
- `--full-refresh xapi.statements`: forget that stream's cursor, so it is re-read from the
  start; the raw version logs absorb what is already there (only changed records add versions).
- `--dry-run`: extract, build and check, publish and provision nothing (decision `dry_run`).

Each request is written to `audit.operator_request` with who asked and why, in the run's
own audit trail (published with it).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from orchestration.lib.source_config import SOURCES, STREAMS

DDL = """create table if not exists audit.operator_request (
    run_id varchar, requested_at timestamp, requested_by varchar, action varchar, target varchar,
    reason varchar)"""

ONLY_TAG = "bridge/only"  # run tag: the sources `--only` extracts (comma-separated)

# Payroll has no cursor: each run reads every export not loaded yet (by SHA-256).
NO_CURSOR = {"payroll"}


class RequestError(ValueError):
    """An unusable `--only` / `--full-refresh` value (a usage error: exit 2)."""


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class SyncRequest:
    only: tuple[str, ...] = ()
    full_refresh: tuple[tuple[str, str], ...] = ()
    dry_run: bool = False
    reason: str | None = None
    requested_by: str = field(default_factory=_user)

    @property
    def is_plain(self) -> bool:
        return not (self.only or self.full_refresh or self.dry_run)

    def extracted(self) -> tuple[str, ...]:
        return self.only or SOURCES

    def rows(self, run_id: str) -> list[tuple[str, str]]:
        out = [("only", s) for s in self.only]
        out += [("full_refresh", f"{s}.{t}") for s, t in self.full_refresh]
        if self.dry_run:
            out.append(("dry_run", "publication"))
        return out


def extracts(source: str, tags: dict[str, str] | None) -> bool:
    """Whether this run extracts `source` (every source unless `--only` left it out)."""
    only = (tags or {}).get(ONLY_TAG)
    return not only or source in only.split(",")


def parse_only(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in SOURCES]
    if not names or unknown:
        raise RequestError(f"--only takes sources among {', '.join(SOURCES)}, got {text!r}")
    return names


def parse_stream(text: str) -> tuple[str, str]:
    source, _, stream = text.strip().partition(".")
    if source not in SOURCES or stream not in STREAMS[source]:
        choices = ", ".join(f"{s}.{t}" for s in SOURCES if s not in NO_CURSOR for t in STREAMS[s])
        raise RequestError(f"--full-refresh takes SOURCE.STREAM ({choices}), got {text!r}")
    if source in NO_CURSOR:
        raise RequestError("--full-refresh payroll.rows: payroll has no cursor; every export not yet "
                           "loaded is read on each run (withdraw a file with `bridge payroll withdraw`)")
    return source, stream


def check(request: SyncRequest) -> None:
    if request.full_refresh and not request.reason:
        raise RequestError("--full-refresh changes what the next build reads: say why with --reason TEXT")
    skipped = [f"{s}.{t}" for s, t in request.full_refresh if request.only and s not in request.only]
    if skipped:
        raise RequestError(f"--full-refresh {', '.join(skipped)}: that source is not in --only")


def apply(con: duckdb.DuckDBPyConnection, run_id: str, request: SyncRequest) -> None:
    """Record the request and reset the cursors it asks to, in one transaction, before the run."""
    if request.is_plain:
        return
    con.execute(DDL)
    now = datetime.now(UTC).replace(tzinfo=None)
    con.begin()
    try:
        for source, stream in request.full_refresh:
            con.execute("delete from bridge_state.cursor where source = ? and stream = ?", [source, stream])
        for action, target in request.rows(run_id):
            con.execute("insert into audit.operator_request values (?, ?, ?, ?, ?, ?)",
                        [run_id, now, request.requested_by, action, target, request.reason])
    except BaseException:
        con.rollback()
        raise
    con.commit()
