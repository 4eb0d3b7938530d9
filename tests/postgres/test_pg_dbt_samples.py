"""On PostgreSQL the failing dbt tests name their keys too: their compiled queries (as dbt-postgres
renders them, database.schema.table) are read again in the warehouse dbt built in."""

from __future__ import annotations

import json

import duckdb

from orchestration.lib.dbt_results import record_dbt_results
from orchestration.lib.postgres.connection import connect
from orchestration.lib.postgres.roles import WRITER_ROLE, ensure_roles
from orchestration.lib.quality.audit_rows import ensure_dq_result_table
from tests.orchestration.test_dbt_results import COMPILED, KEYED_MANIFEST


def test_failing_dbt_tests_name_their_keys_on_postgres(pg_db, pg_admin) -> None:
    ensure_roles(pg_admin)
    writer = connect(pg_db, role=WRITER_ROLE, autocommit=True)
    try:
        with writer.cursor() as cur:
            cur.execute("create schema if not exists staging")
            cur.execute("create schema if not exists restricted")
            cur.execute("""create table staging.stg_hris__users as select * from (values
                ('u1', '42', 'a@example.org', 'active'), ('u2', '42', 'b@example.org', 'active'),
                ('u3', null, 'c@example.org', 'active'), ('u4', '00077', 'd@example.org', 'on_sabbatical'))
                t(scim_id, employee_number, email, status)""")
            cur.execute("""create table restricted.fct_compensation as select * from (values
                ('42', date '2026-06-26', 91000.50), ('8', date '2026-06-26', -1.00))
                t(employee_number, pay_period_end, annual_base_salary)""")
    finally:
        writer.close()
    duck = duckdb.connect()
    ensure_dq_result_table(duck)
    rendered = {uid: sql.replace('"bridge".', f'"{pg_db.dbname}".') for uid, sql in COMPILED.items()}
    results = {"results": [{"unique_id": uid, "status": "fail", "failures": 1, "compiled_code": sql}
                           for uid, sql in rendered.items()]}

    record_dbt_results(duck, "run-pg", results, KEYED_MANIFEST, pg_url=pg_db.url(with_password=True))

    samples = {name: json.loads(keys) for name, keys in
               duck.execute("select check_name, sample_keys from audit.dq_result").fetchall()}
    assert samples["unique_users_employee_number"] == ["42"]
    assert samples["not_null_users_employee_number"] == ["u3"]
    assert samples["accepted_values_users_status"] == ["u4"]
    assert samples["expression_is_true_comp"] == ["8|2026-06-26"]
    assert samples["unique_combination_comp"] == []      # no duplicate pair in this table: nothing to name
