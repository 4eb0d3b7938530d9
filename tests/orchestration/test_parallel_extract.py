"""The feeds extracted side by side (orchestration/lib/parallel_extract.py): each lands through
its own cursor on the one work file; a failed feed keeps its error and loses no one else's
records."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from connectors.errors import SourceError
from orchestration.lib import parallel_extract
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehousePaths, connect_work


@pytest.fixture
def work(tmp_path: Path):
    settings = Settings.from_env({"BRIDGE_WAREHOUSE": str(tmp_path / "bridge.duckdb")}, dotenv_path=None,
                                 require_sources=False)
    con = connect_work(WarehousePaths.for_settings(settings))
    con.execute("create table landed (source varchar, n integer)")
    yield con
    con.close()


def test_feeds_run_at_once_and_a_failure_keeps_its_error_and_the_others_records(work) -> None:
    # as many feeds as may run at once meet at a barrier: one after the other, they never would
    meet = threading.Barrier(parallel_extract.workers(2), timeout=60)
    boom = SourceError("lms", "users", "HTTP 500 after 6 attempts", path="/api/users", status=500)

    def lands(source: str):
        def extract(cursor):
            meet.wait()
            cursor.execute("insert into landed values (?, 1)", [source])
            return []
        return extract

    def fails(cursor):
        cursor.execute("insert into landed values ('lms', 1)")     # committed before the failure
        raise boom

    outcomes = parallel_extract.extract_feeds(work, {"hris": lands("hris"), "xapi": lands("xapi"), "lms": fails})
    assert list(outcomes) == ["hris", "xapi", "lms"]
    assert outcomes["hris"].results == [] and outcomes["xapi"].results == [] and outcomes["hris"].error is None
    assert outcomes["lms"].results is None and outcomes["lms"].error is boom
    assert sorted(work.execute("select source from landed").fetchall()) == [("hris",), ("lms",), ("xapi",)]


def test_no_more_feeds_at_once_than_cores() -> None:
    assert parallel_extract.workers(5) >= 1
    assert parallel_extract.workers(1) == 1
    assert parallel_extract.workers(0) == 1
