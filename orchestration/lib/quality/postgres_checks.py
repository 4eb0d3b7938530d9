"""The suites and the reconciliation on a PostgreSQL warehouse, computed in the server.

Great Expectations' Postgres data source runs every expectation of a frame as SQL over a
query asset, and the reconciliation's SQL runs as it is: only counts and at most
MAX_SAMPLE_KEYS keys per check leave the server, whatever the tables' size. dbt builds into
``<schema>__build`` until publish swaps those in, so the suites' published table names are
pointed at the build schemas first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from orchestration.lib.pg_warehouse import CHECKED_SCHEMAS, WRITER
from orchestration.lib.postgres.connection import connect, parse_warehouse_url
from orchestration.lib.quality import reconciliation
from orchestration.lib.quality.gx_engine import postgres_source, validate_sql_frame
from orchestration.lib.quality.outcome import CheckOutcome
from orchestration.lib.quality.suite_model import Frame
from orchestration.lib.quality.suites import SUITES, SuiteRun, frame_sql, run_frames

# The checks' queries are single aggregates over a frame: on large tables their cost estimates
# pass jit_above_cost, and compiling each (0.2-0.7 s measured) costs more than it saves.
_SESSION = "-c jit=off"

_BUILT = {published: built for built, published in CHECKED_SCHEMAS.items() if built != published}
_PUBLISHED_NAME = re.compile(rf"\b({'|'.join(map(re.escape, _BUILT))})\.")


def built(text: str) -> str:
    """SQL (or a ``schema.table`` name) with published schemas replaced by their build schemas."""
    return _PUBLISHED_NAME.sub(lambda m: f"{_BUILT[m.group(1)]}.", text)


class BuiltTables:
    """A psycopg2 connection (autocommit) that reads the built tables under their published
    names, with the ``execute(sql, params).fetchall()`` the SQL checks use on DuckDB."""

    def __init__(self, pg: Any) -> None:
        self._pg = pg

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        cur = self._pg.cursor()
        cur.execute(built(sql).replace("?", "%s"), [built(p) if isinstance(p, str) else p for p in params])
        return cur


def run_suites(url: str, names: Iterable[str], *, now: datetime | None = None) -> list[SuiteRun]:
    """Exactly one outcome per spec of each suite, as ``suites.run_suites`` gives on DuckDB."""
    target = parse_warehouse_url(url)
    connection_string = target.url(with_password=True).replace("postgresql://", "postgresql+psycopg2://", 1)
    # the pipeline's writer role owns the build schemas (as for every other step on Postgres)
    engine_kwargs = {"connect_args": {"options": f"-c role={WRITER} {_SESSION}",
                                      "application_name": "hris-lms-bridge checks"}}
    pg = connect_checks(target)
    try:
        with postgres_source(connection_string, engine_kwargs) as source:
            return [_run_suite(BuiltTables(pg), source, name, now) for name in names]
    finally:
        pg.close()


def _run_suite(tables: BuiltTables, source: Any, name: str, now: datetime | None) -> SuiteRun:
    def validate(run: SuiteRun, index: int, frame: Frame) -> tuple[list[CheckOutcome], Any]:
        query = f"select * from ({built(frame_sql(frame, now))}) as frame"  # GX wants a query starting with SELECT
        return validate_sql_frame(SUITES[name], index, frame, source, query)

    return run_frames(tables, name, validate, error="query failed")


def connect_checks(target: Any) -> Any:
    """A connection for the checks' own SQL, as the writer, autocommit, without JIT (_SESSION)."""
    pg = connect(target, role=WRITER, autocommit=True)
    with pg.cursor() as cur:
        cur.execute("set jit = off")  # as _SESSION
    return pg


def run_reconciliation(url: str, thresholds: reconciliation.QualityThresholds | None = None) -> list[CheckOutcome]:
    pg = connect_checks(parse_warehouse_url(url))
    try:
        return reconciliation.run_reconciliation(BuiltTables(pg), thresholds)
    finally:
        pg.close()
