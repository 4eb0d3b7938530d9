"""Write-audit-publish on real DuckDB files: all tables together or none, readers never blocked."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import duckdb
import pytest

from connectors.landing import ensure_schema
from orchestration.lib import publication, run_log
from orchestration.lib.warehouse import SyncAlreadyRunning, WarehousePaths, connect_work, exclusive_sync


def _build(con: duckdb.DuckDBPyConnection, version: int, people: int = 50) -> None:
    """A work build: two reporting tables that must always agree, and a restricted one."""
    con.execute("create schema if not exists reporting")
    con.execute("create schema if not exists restricted")
    con.execute(
        f"create or replace table reporting.dim_employee as "
        f"select i::varchar as employee_number, {version} as version from range({people}) t(i)"
    )
    con.execute(
        f"create or replace table reporting.rpt_headcount_reconciliation as "
        f"select 'CC1' as cost_center, {people} as hris_active, {version} as version"
    )
    con.execute(
        f"create or replace table restricted.fct_compensation as "
        f"select i::varchar as employee_number, 50000 + i as annual_base_salary, {version} as version from range({people}) t(i)"
    )


@pytest.fixture
def work(tmp_path: Path):
    paths = WarehousePaths.from_url(str(tmp_path / "bridge.duckdb"))
    con = connect_work(paths)
    ensure_schema(con)
    yield paths, con
    con.close()


def _start(con, run_id: str) -> None:
    run_log.ensure_started(con, run_id, "test")


def _fail_check(con, run_id: str, name: str) -> None:
    con.execute(
        "insert into audit.dq_result values (?, ?, 'reporting.dim_employee', 'blocking', false, 'x', 3, '[\"7\"]', now(), 'great_expectations')",
        [run_id, name],
    )


def test_publish_replaces_all_tables_and_records_the_decision(work) -> None:
    paths, con = work
    _build(con, version=1)
    _start(con, "run-1")
    decision = publication.publish(con, paths, "run-1")
    assert decision.status == "published"
    assert decision.row_counts["reporting.dim_employee"] == 50
    pub = duckdb.connect(str(paths.published), read_only=True)
    try:
        assert pub.execute("select count(*), min(version) from reporting.dim_employee").fetchone() == (50, 1)
        # the audit trail travels with the published file, this run's decision included
        assert pub.execute("select status from audit.publication where run_id = 'run-1'").fetchone() == ("published",)
        assert pub.execute("select status from audit.pipeline_run where run_id = 'run-1'").fetchone() == ("succeeded",)
        # salaries are not in the main published file
        assert pub.execute(
            "select count(*) from information_schema.tables where table_schema = 'restricted'"
        ).fetchone() == (0,)
    finally:
        pub.close()
    assert stat.S_IMODE(os.stat(paths.restricted).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.work).st_mode) == 0o600


def test_blocked_run_leaves_published_tables_as_they_were(work) -> None:
    paths, con = work
    _build(con, version=1)
    _start(con, "run-1")
    publication.publish(con, paths, "run-1")
    before = duckdb.connect(str(paths.published), read_only=True)
    snapshot = before.execute("select * from reporting.dim_employee order by employee_number").fetchall()
    before.close()

    _build(con, version=2, people=60)
    _start(con, "run-2")
    _fail_check(con, "run-2", "dim_employee__employee_number_unique")
    decision = publication.publish(con, paths, "run-2")
    assert decision.status == "blocked"
    assert decision.blocked_by == ["dim_employee__employee_number_unique"]

    after = duckdb.connect(str(paths.published), read_only=True)
    try:
        assert after.execute("select * from reporting.dim_employee order by employee_number").fetchall() == snapshot
        row = after.execute("select status, blocked_by from audit.publication where run_id = 'run-2'").fetchone()
        assert row[0] == "blocked" and json.loads(row[1]) == ["dim_employee__employee_number_unique"]
    finally:
        after.close()
    restricted = duckdb.connect(str(paths.restricted), read_only=True)
    try:
        assert restricted.execute("select min(version), count(*) from restricted.fct_compensation").fetchone() == (1, 50)
    finally:
        restricted.close()


READER = """
import json, sys, threading, duckdb
path = sys.argv[1]
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
while True:
    last = stop.is_set()  # one more read after the test says the publications are over
    try:
        c = duckdb.connect(path, read_only=True)
        try:
            a = c.execute("select min(version) from reporting.dim_employee").fetchone()[0]
            b = c.execute("select min(version) from reporting.rpt_headcount_reconciliation").fetchone()[0]
            print(json.dumps([a, b]), flush=True)
        finally:
            c.close()
    except Exception as exc:
        print(json.dumps({"error": repr(exc)}), flush=True)
    if last:
        break
"""


HOLDER = (
    "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
    "q = 'select min(version), count(*) from reporting.dim_employee'; "
    "print(*c.execute(q).fetchone(), flush=True); sys.stdin.readline(); print(*c.execute(q).fetchone(), flush=True)"
)


def test_a_reader_is_never_blocked_and_never_sees_half_a_publication(work, tmp_path: Path) -> None:
    """Readers are other processes (a BI tool, an analyst's notebook): one reads the published
    file over and over while publications replace it; another holds it open throughout."""
    import subprocess
    import sys

    paths, con = work
    _build(con, version=1)
    _start(con, "run-1")
    publication.publish(con, paths, "run-1")

    def start(code: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", code, str(paths.published)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    reader, holder = start(READER), start(HOLDER)
    seen: list[list[int]] = []
    errors: list[str] = []

    def read_until(version: int) -> None:
        """The reader's reads, up to its first of `version` (it reads on while we wait)."""
        for line in reader.stdout:
            got = json.loads(line)
            if isinstance(got, dict):
                errors.append(got["error"])
                continue
            seen.append(got)
            if got[0] == version:
                return
        pytest.fail(f"the reader stopped before it saw version {version}: {seen[-3:]} {errors[:3]}")

    try:
        held_before = holder.stdout.readline().split()
        read_until(1)
        for version in range(2, 7):
            _build(con, version=version)
            _start(con, f"run-{version}")
            assert publication.publish(con, paths, f"run-{version}").status == "published"
            read_until(version)  # the next publication waits until a reader has seen this one
        reader.stdin.write("done\n")
        reader.stdin.close()
        held_after, _ = holder.communicate("done\n", timeout=60)
        for line in reader.stdout:
            got = json.loads(line)
            if isinstance(got, dict):
                errors.append(got["error"])
            else:
                seen.append(got)
        assert reader.wait(timeout=60) == 0
    finally:
        for proc in (reader, holder):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert not errors, errors[:3]
    assert all(a == b for a, b in seen), "a reader saw tables from two different runs"
    assert list(dict.fromkeys(a for a, _ in seen)) == [1, 2, 3, 4, 5, 6], "the reader went back in time"
    # the reader that held the file open kept one consistent state while it was replaced five times
    assert held_before == held_after.split() == ["1", "50"]


def test_finish_gives_a_failed_run_a_verdict(work) -> None:
    paths, con = work
    _build(con, version=1)
    _start(con, "run-1")
    publication.publish(con, paths, "run-1")
    _start(con, "run-2")
    decision = run_log.finish(con, paths, "run-2", failed_steps=["extract_hris"], trigger="test")
    assert decision.status == "blocked"
    assert decision.blocked_by == ["step_failed: extract_hris"]
    assert con.execute("select status from audit.pipeline_run where run_id = 'run-2'").fetchone() == ("failed",)
    pub = duckdb.connect(str(paths.published), read_only=True)
    try:
        assert pub.execute("select status from audit.publication where run_id = 'run-2'").fetchone() == ("blocked",)
        assert pub.execute("select min(version) from reporting.dim_employee").fetchone() == (1,)
    finally:
        pub.close()


def test_two_syncs_never_write_at_once(tmp_path: Path) -> None:
    paths = WarehousePaths.from_url(str(tmp_path / "bridge.duckdb"))
    with exclusive_sync(paths), pytest.raises(SyncAlreadyRunning), exclusive_sync(paths):
        pass
    with exclusive_sync(paths):  # released afterwards
        pass
