"""dbt's run results become rows of audit.dq_result (orchestration/lib/dbt_results.py)."""

import json

import duckdb

from connectors.landing import ensure_audit_schema
from orchestration.lib.dbt_results import record_dbt_results

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
    ensure_audit_schema(con)
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
    ensure_audit_schema(con)
    assert record_dbt_results(con, "run-2", {"results": []}, MANIFEST) == []
    assert con.execute("select count(*) from audit.dq_result").fetchone() == (0,)


# --- failing tests name their keys --------------------------------------------------------
# The compiled SQL below is what dbt 1.10's own test macros render (see
# dbt_project/target/compiled/.../*.yml/*.sql after `dbt compile`), against relations in the
# catalog `bridge` that dbt attaches the work file as.

USERS = "model.p.stg_hris__users"
COMP = "model.p.fct_compensation"


def _test(name: str, model: str, kind: str, column: str | None = None, severity: str = "ERROR",
          **kwargs) -> tuple[str, dict]:
    """A test node as dbt's manifest has it (the fields the bridge reads)."""
    node = {"resource_type": "test", "name": name, "config": {"severity": severity}, "attached_node": model,
            "depends_on": {"nodes": [model]},
            "test_metadata": {"name": kind, "kwargs": {**({"column_name": column} if column else {}), **kwargs}}}
    if column:
        node["column_name"] = column
    return f"test.p.{name}", node


KEYED_MANIFEST = {"nodes": {
    USERS: {"resource_type": "model", "schema": "staging", "name": "stg_hris__users", "database": "bridge",
            "columns": {"scim_id": {}, "employee_number": {}, "email": {}, "status": {}}},
    COMP: {"resource_type": "model", "schema": "restricted", "name": "fct_compensation", "database": "bridge",
           "columns": {"employee_number": {}, "pay_period_end": {}, "annual_base_salary": {}}},
    **dict([
        _test("unique_users_scim_id", USERS, "unique", "scim_id"),
        _test("unique_users_employee_number", USERS, "unique", "employee_number"),
        _test("not_null_users_employee_number", USERS, "not_null", "employee_number"),
        _test("accepted_values_users_status", USERS, "accepted_values", "status", severity="warn"),
        _test("unique_combination_comp", COMP, "unique_combination_of_columns",
              combination_of_columns=["employee_number", "pay_period_end"]),
        _test("expression_is_true_comp", COMP, "expression_is_true", expression="annual_base_salary > 0"),
    ]),
}}
COMPILED = {
    "test.p.unique_users_employee_number": """
select
    employee_number as unique_field,
    count(*) as n_records
from "bridge"."staging"."stg_hris__users"
where employee_number is not null
group by employee_number
having count(*) > 1
""",
    "test.p.not_null_users_employee_number": """



select employee_number
from "bridge"."staging"."stg_hris__users"
where employee_number is null
""",
    "test.p.accepted_values_users_status": """
with all_values as (

    select
        status as value_field,
        count(*) as n_records

    from "bridge"."staging"."stg_hris__users"
    group by status

)

select *
from all_values
where value_field not in (
    'active','inactive'
)
""",
    "test.p.unique_combination_comp": """
select employee_number, pay_period_end, count(*) as occurrences
from "bridge"."restricted"."fct_compensation"
group by employee_number, pay_period_end
having count(*) > 1
""",
    "test.p.expression_is_true_comp": """
select * from "bridge"."restricted"."fct_compensation" where not (annual_base_salary > 0)
""",
}


def _work_file(tmp_path):
    # named like any warehouse's work file: its catalog is not dbt's `bridge`
    con = duckdb.connect(str(tmp_path / "acme.work.duckdb"))
    con.execute("create schema staging; create schema restricted")
    con.execute("""create table staging.stg_hris__users as select * from (values
        ('u1', '42', 'a@example.org', 'active'), ('u2', '42', 'b@example.org', 'active'),
        ('u3', null, 'c@example.org', 'active'), ('u4', '00077', 'd@example.org', 'on_sabbatical'),
        ('u5', '8', 'e@example.org', 'active')) t(scim_id, employee_number, email, status)""")
    con.execute("""create table restricted.fct_compensation as select * from (values
        ('42', date '2026-06-26', 91000.50), ('42', date '2026-06-26', 93000.00),
        ('8', date '2026-06-26', -1.00)) t(employee_number, pay_period_end, annual_base_salary)""")
    ensure_audit_schema(con)
    return con


def test_every_failing_dbt_test_names_the_keys_of_its_failing_rows(tmp_path):
    con = _work_file(tmp_path)
    results = {"results": [
        {"unique_id": uid, "status": "warn" if "accepted" in uid else "fail", "failures": 1, "compiled_code": sql}
        for uid, sql in COMPILED.items()
    ] + [{"unique_id": "test.p.unique_users_scim_id", "status": "pass", "failures": 0,
          "compiled_code": "select 1 as unique_field"}]}

    blocking = record_dbt_results(con, "run-k", results, KEYED_MANIFEST)

    samples = dict(con.execute("select check_name, sample_keys from audit.dq_result").fetchall())
    assert sorted(blocking) == ["expression_is_true_comp", "not_null_users_employee_number",
                                "unique_combination_comp", "unique_users_employee_number"]
    assert json.loads(samples["unique_users_employee_number"]) == ["42"]          # the duplicated number
    assert json.loads(samples["unique_combination_comp"]) == ["42|2026-06-26"]
    # a null key: the row is named by the model's other declared key
    assert json.loads(samples["not_null_users_employee_number"]) == ["u3"]
    # a value outside the domain: the keys of the rows holding it, not the value
    assert json.loads(samples["accepted_values_users_status"]) == ["u4"]
    # a whole-row test on a table with salaries: the row's key only
    assert json.loads(samples["expression_is_true_comp"]) == ["8|2026-06-26"]
    assert json.loads(samples["unique_users_scim_id"]) == []                        # passed: nothing to name
    everything = " ".join(samples.values())
    assert "@" not in everything and "91000" not in everything and "-1.0" not in everything


def test_a_sample_query_that_fails_keeps_the_test_result(tmp_path):
    con = _work_file(tmp_path)
    results = {"results": [{"unique_id": "test.p.unique_users_employee_number", "status": "fail", "failures": 2,
                            "compiled_code": "select * from staging.no_such_table"}]}
    assert record_dbt_results(con, "run-e", results, KEYED_MANIFEST) == ["unique_users_employee_number"]
    assert con.execute("select unexpected_count, sample_keys from audit.dq_result").fetchall() == [(2, "[]")]
