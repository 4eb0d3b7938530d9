"""Raw-feed suites validated in the background while dbt builds (lib/quality/early.py)."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
from dq_fixtures import NOW

from orchestration.lib.quality import early
from orchestration.lib.quality.suites import run_suite


def test_the_background_validates_the_frames_read_at_start(clean_db: Callable[[], duckdb.DuckDBPyConnection]) -> None:
    con = clean_db()
    names = early.raw_suite_names()
    assert "raw__xapi__statements" in names and all(n.startswith("raw__") for n in names)
    con.execute("delete from raw.lms__reviews")  # a frame that fails, to compare failures too
    expected = {name: run_suite(con, name, now=NOW) for name in names}
    assert any(not o.success for outcomes in expected.values() for o in outcomes)

    early.start(con, "run-a", names, now=NOW)
    # read before dbt takes the file: a later change is not what gets validated
    con.execute("update raw.lms__users set landed_at = landed_at - interval 10 days")
    runs = early.take("run-a")

    assert {name: run.outcomes for name, run in runs.items()} == expected
    assert all(run.gx_results for name, run in runs.items() if name != "raw__lms__reviews")
    assert early.take("run-a") == {}  # taken once


def test_another_runs_results_are_never_taken(clean_db: Callable[[], duckdb.DuckDBPyConnection]) -> None:
    early.start(clean_db(), "run-a", ["raw__lms__users"], now=NOW)
    assert early.take("run-b") == {}
    assert early.take("run-a") == {}  # one slot, cleared: no later run sees stale results
