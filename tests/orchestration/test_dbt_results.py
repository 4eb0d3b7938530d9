"""dbt's run results become rows of audit.dq_result (orchestration/lib/dbt_results.py)."""

import duckdb

from orchestration.lib.dbt_results import record_dbt_results
from orchestration.lib.quality.audit_rows import ensure_dq_result_table

MANIFEST = {"nodes": {
    "model.bridge.dim_employee": {"resource_type": "model", "schema": "reporting", "name": "dim_employee"},
    "model.bridge.fct_gap": {"resource_type": "model", "schema": "reporting", "name": "fct_gap"},
    "test.bridge.unique_dim_employee_id": {
        "name": "unique_dim_employee_id", "config": {"severity": "ERROR"},
        "depends_on": {"nodes": ["model.bridge.dim_employee"]}},
    "test.bridge.lms_users_recent": {
        "name": "lms_users_recent", "config": {"severity": "warn"},
        "depends_on": {"nodes": ["source.bridge.lms.users"]}},
    "test.bridge.not_null_fct_gap_id": {
        "name": "not_null_fct_gap_id", "config": {},
        "depends_on": {"nodes": ["model.bridge.fct_gap"]}},
}, "sources": {
    # source lms.users is the table raw.lms__users (its identifier)
    "source.bridge.lms.users": {"resource_type": "source", "schema": "raw", "name": "users",
                                "identifier": "lms__users"},
}}
RUN_RESULTS = {"results": [
    {"unique_id": "model.bridge.dim_employee", "status": "success"},
    {"unique_id": "test.bridge.unique_dim_employee_id", "status": "fail", "failures": 3},
    {"unique_id": "test.bridge.lms_users_recent", "status": "warn", "failures": 1},
    {"unique_id": "model.bridge.fct_gap", "status": "error"},
    {"unique_id": "test.bridge.not_null_fct_gap_id", "status": "skipped"},
]}


def test_tests_and_failed_models_are_recorded_with_what_blocks():
    con = duckdb.connect()
    ensure_dq_result_table(con)
    blocking = record_dbt_results(con, "run-1", RUN_RESULTS, MANIFEST)

    assert blocking == ["unique_dim_employee_id", "dbt_build__fct_gap"]
    rows = con.execute(
        "select run_id, check_name, target_table, severity, success, observed_value, unexpected_count, "
        "sample_keys, engine, evaluated_at is not null from audit.dq_result order by check_name"
    ).fetchall()
    assert rows == [
        ("run-1", "dbt_build__fct_gap", "reporting.fct_gap", "blocking", False, "error", 0, "[]", "dbt", True),
        ("run-1", "lms_users_recent", "raw.lms__users", "warn", False, "warn", 1, "[]", "dbt", True),
        # skipped because its model failed: not evaluated, so neither passed nor failed
        ("run-1", "not_null_fct_gap_id", "reporting.fct_gap", "blocking", None, "skipped", 0, "[]", "dbt", True),
        ("run-1", "unique_dim_employee_id", "reporting.dim_employee", "blocking", False, "fail", 3, "[]", "dbt", True),
    ]


def test_a_run_with_no_tests_writes_nothing():
    con = duckdb.connect()
    ensure_dq_result_table(con)
    assert record_dbt_results(con, "run-2", {"results": []}, MANIFEST) == []
    assert con.execute("select count(*) from audit.dq_result").fetchone() == (0,)
