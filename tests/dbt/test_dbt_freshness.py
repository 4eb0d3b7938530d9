"""`dbt source freshness` over the raw fixture, its thresholds from the environment, recorded in
audit.dq_result by orchestration/lib/dbt_freshness.py (dbt warn -> warn, dbt error -> blocking)."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from dbt_helpers import dbt_env, run_dbt

from orchestration.lib.dbt_freshness import freshness_rows, record_source_freshness
from orchestration.lib.quality.audit_rows import ensure_dq_result_table


@pytest.fixture(scope="module")
def freshness(dbt_build, tmp_path_factory):
    """One `dbt source freshness` with thresholds that sort the fixture's feeds three ways:
    xapi landed just now (fresh), every other feed landed in 2026 (older than an hour)."""
    root = tmp_path_factory.mktemp("freshness")
    db = root / "work.duckdb"
    shutil.copyfile(dbt_build.db_path, db)
    con = duckdb.connect(str(db))
    con.execute("update raw.xapi__statements set landed_at = now()::timestamp")
    con.close()
    target = root / "target"
    shutil.copytree(dbt_build.project_dir / "target", target)
    env = dbt_env(db, dbt_build.project_dir)
    env.update({
        "BRIDGE_FRESHNESS_WARN_HOURS": "1", "BRIDGE_FRESHNESS_ERROR_HOURS": "1000000",
        "BRIDGE_FRESHNESS_PAYROLL_WARN_HOURS": "1", "BRIDGE_FRESHNESS_PAYROLL_ERROR_HOURS": "2",
    })
    done = run_dbt(["source", "freshness", "--target-path", str(target)], dbt_build.project_dir, env)
    sources_json = json.loads((target / "sources.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    assert sources_json["results"], done.stdout[-4000:]
    return sources_json, manifest


def test_every_feed_is_recorded_with_the_severity_dbt_gave_it(freshness) -> None:
    sources_json, manifest = freshness
    con = duckdb.connect()
    ensure_dq_result_table(con)
    blocking = record_source_freshness(con, "run-1", sources_json, manifest)
    rows = {r[0]: r[1:] for r in con.execute(
        "select check_name, target_table, severity, success, engine from audit.dq_result where run_id = 'run-1'"
    ).fetchall()}
    # fresh: passes, at the level it could have reached (it has an error threshold)
    assert rows["freshness:xapi.statements"] == ("raw.xapi__statements", "blocking", True, "dbt")
    # older than warn_after (1 h), younger than error_after: a warn finding
    assert rows["freshness:hris.users"] == ("raw.hris__users", "warn", False, "dbt")
    assert rows["freshness:lms.courses"] == ("raw.lms__courses", "warn", False, "dbt")
    # past the payroll error threshold (2 h): blocking, and named as such
    assert rows["freshness:payroll.rows"] == ("raw.payroll__rows", "blocking", False, "dbt")
    assert sorted(blocking) == ["freshness:payroll.files", "freshness:payroll.rows"]
    # tables without a freshness threshold are not measured
    assert "freshness:hr.title_crosswalk" not in rows and "freshness:hris.full_pulls" not in rows
    assert len(rows) == 15


def test_the_observed_value_says_how_old_and_what_the_limits_are(freshness) -> None:
    sources_json, manifest = freshness
    row = next(r for r in freshness_rows("run-1", sources_json, manifest) if r[1] == "freshness:payroll.rows")
    assert row[5].startswith("error: last landed 2026-") and "(warn after 1 hour, error after 2 hour)" in row[5]
    assert row[7] == "[]"  # a table's age names no record


def test_a_table_dbt_could_not_measure_is_a_failed_warn_finding() -> None:
    manifest = {"sources": {"source.p.lms.users": {
        "source_name": "lms", "name": "users", "schema": "raw", "identifier": "lms__users"}}}
    result = {"unique_id": "source.p.lms.users", "status": "runtime error",
              "message": 'Catalog Error: Table with name lms__users does not exist!'}
    (row,) = freshness_rows("run-1", {"results": [result]}, manifest)
    assert row[1:5] == ("freshness:lms.users", "raw.lms__users", "warn", False)
    assert row[5].startswith("runtime error: Catalog Error")
