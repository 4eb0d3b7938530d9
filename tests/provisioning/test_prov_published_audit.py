"""Provisioning's plan and results reach the published audit copy without rebuilding the
published file: only the audit rows it lacks travel (publication.refresh_published_audit)."""

from __future__ import annotations

import duckdb

from connectors.landing import ensure_schema
from orchestration.lib import publication
from orchestration.lib.warehouse import WarehousePaths, connect_work

AUDIT = ("pipeline_run", "dq_result", "provisioning_change", "provisioning_result", "publication")


def _audit(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {t: con.execute(f"select * from audit.{t} order by all").fetchall() for t in AUDIT}


def _change(run_id: str, en: str) -> str:
    return (f"insert into audit.provisioning_change values ('{run_id}', 'lms', '{en}', 'u-{en}', 'update', "
            "'title', 'Eng', 'Engineer', timestamp '2026-12-08 01:00:00')")


def test_refresh_copies_only_the_missing_audit_rows_and_keeps_reporting(tmp_path):
    paths = WarehousePaths.from_url(str(tmp_path / "bridge.duckdb"))
    work = connect_work(paths)
    ensure_schema(work)
    work.execute("create schema reporting")
    work.execute("create table reporting.dim_employee as select '00042' as employee_number")
    work.execute("create schema restricted")
    work.execute("create table restricted.salary as select '00042' as employee_number, 1 as amount")
    work.execute("insert into audit.pipeline_run values ('r1', now()::timestamp, null, 'running', 'v', 'test')")
    work.execute("insert into audit.dq_result values ('r0', 'old_check', 't', 'warn', true, '0', 0, '[]', "
                 "now()::timestamp, 'sql')")
    work.execute(_change("r0", "00007"))
    publication.write_published_files(work, paths, "r1", publish_new=True)
    restricted_before = paths.restricted.stat()

    # after publishing, the run's plan and a finding are appended and the run closes (updated in place);
    # a row of an earlier run the published copy lacks is carried too
    work.execute(_change("r1", "00042"))
    work.execute(_change("r1", "00043"))
    work.execute("insert into audit.dq_result values ('r1', 'provisioning_safeguards', 'audit.provisioning_change', "
                 "'blocking', true, '0 deactivations', 0, '[]', now()::timestamp, 'provisioning')")
    work.execute(_change("r0", "00008"))
    work.execute("update audit.pipeline_run set status = 'succeeded' where run_id = 'r1'")
    # the published reporting is what was published, whatever the work file says later
    work.execute("insert into reporting.dim_employee values ('00099')")

    publication.refresh_published_audit(work, paths, "r1")

    pub = duckdb.connect(str(paths.published), read_only=True)
    try:
        assert _audit(pub) == _audit(work)
        assert pub.execute("select count(*) from audit.provisioning_change").fetchone()[0] == 4
        assert pub.execute("select status from audit.pipeline_run").fetchall() == [("succeeded",)]
        assert pub.execute("select employee_number from reporting.dim_employee").fetchall() == [("00042",)]
        assert not pub.execute("select 1 from information_schema.schemata where schema_name = 'restricted'"
                               ).fetchall()
    finally:
        pub.close()
    after = paths.restricted.stat()
    assert (after.st_ino, after.st_mtime_ns) == (restricted_before.st_ino, restricted_before.st_mtime_ns)
    assert not list(tmp_path.glob(".*.tmp*"))     # no half-built copy left beside the published file

    # a second refresh with nothing new changes nothing
    publication.refresh_published_audit(work, paths, "r1")
    pub = duckdb.connect(str(paths.published), read_only=True)
    try:
        assert _audit(pub) == _audit(work)
    finally:
        pub.close()
    work.close()
