"""Raw-feed suites validated while dbt builds, not after it.

The raw tables are final once the extract steps end, yet the checks step used to validate
them after the dbt build, on a core that the build leaves mostly idle (dbt's Python holds
one core; its DuckDB queries rarely need both). The dbt step reads their frames while dbt
starts up (dbt then attaches the DuckDB file, once the step lets go of it) and hands them
to a background thread; the checks step takes the results, and runs any suite it does not find here.
One run at a time per process (Dagster's in-process executor), so one slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

import duckdb

from orchestration.lib.quality import suites

_pending: tuple[str, Future[dict[str, suites.SuiteRun]]] | None = None


def raw_suite_names() -> list[str]:
    return [name for name, suite in suites.SUITES.items() if suites.on_raw(suite.target_table)]


def start(con: duckdb.DuckDBPyConnection, run_id: str, names: Sequence[str], *, now: datetime | None = None) -> None:
    """Read the suites' frames now; validate them on a background thread."""
    global _pending
    read = [suites.read_suite(con, name, now=now, arrow=True) for name in names]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gx-raw-suites")
    try:
        future = pool.submit(lambda: {r.suite.name: suites.validate_suite(r) for r in read})
    finally:
        pool.shutdown(wait=False)
    _pending = (run_id, future)


def take(run_id: str) -> dict[str, suites.SuiteRun]:
    """This run's suites validated in the background (waiting for them if need be); none
    when the run started none here (another process, or a dbt step that never ran)."""
    global _pending
    pending, _pending = _pending, None
    if pending is None or pending[0] != run_id:
        return {}
    return pending[1].result()
