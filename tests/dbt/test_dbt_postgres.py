"""The same project on dbt-postgres: the raw fixture copied into a fresh Postgres
database (payload as jsonb), `dbt build --target postgres`, and the published
tables compared with the DuckDB build of the session, row for row."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import psycopg2
import pytest
import raw_fixture
from dbt_helpers import copy_project, dbt_env, run_dbt, unexpected_failures

from tests.conftest import scratch_database

pytestmark = pytest.mark.postgres

PG_TYPES = {"VARCHAR": "text", "JSON": "jsonb", "BOOLEAN": "boolean", "BIGINT": "bigint",
            "TIMESTAMP": "timestamp", "DATE": "date", "INTEGER": "integer"}
COMPARED = {
    "reporting.dim_employee": "employee_number",
    "reporting.dim_employee_history": "employee_number, valid_from",
    "reporting.dim_job_title": "canonical_job_title",
    "reporting.job_title_alias": "source_system, source_title",
    "reporting.identity_exception": "source_system, source_key",
    "reporting.fct_competency_gap": "employee_number, competency_id",
    "reporting.fct_learning_completion": "statement_id",
    "reporting.fct_training_assignment": "assignment_id",
    "reporting.dim_objective": "objective_id",
    "reporting.fct_objective_progress": "objective_id",
    "reporting.rpt_headcount_reconciliation": "cost_center",
    "restricted.fct_compensation": "payroll_employee_number, pay_period_end",
}


@pytest.fixture(scope="module")
def pg_build(pg_server, dbt_build, tmp_path_factory):
    # the session's server (tests/conftest.py), never stopped here: another worker may be using it
    with scratch_database(pg_server, "bridge_dbt") as target:
        root = tmp_path_factory.mktemp("dbt_pg")
        source = root / "fixture_source.duckdb"
        raw_fixture.build(source)
        pg = psycopg2.connect(**target.dsn_kwargs())
        pg.autocommit = True
        copy_raw(duckdb.connect(str(source), read_only=True), pg)
        project_dir = copy_project(root / "dbt_project")
        env = {**dbt_env(source, project_dir), **target.dbt_env()}
        done = run_dbt(["build", "--target", "postgres"], project_dir, env)
        failures = unexpected_failures(project_dir / "target")
        assert not failures, f"dbt build on postgres failed ({failures}):\n{done.stdout[-6000:]}"
        yield pg
        pg.close()


def copy_raw(src: duckdb.DuckDBPyConnection, pg) -> None:
    with pg.cursor() as cur:
        cur.execute("create extension if not exists pgcrypto")  # sha1 for xAPI mbox_sha1sum
        cur.execute("create schema raw")
        tables = [r[0] for r in src.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()]
        for table in tables:
            cols = src.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = ? order by ordinal_position", [table]).fetchall()
            cur.execute(f"create table raw.{table} (" + ", ".join(f"{c} {PG_TYPES[t]}" for c, t in cols) + ")")
            rows = src.execute(f"select * from raw.{table}").fetchall()
            if rows:
                cur.executemany(f"insert into raw.{table} values ({', '.join(['%s'] * len(cols))})", rows)


def normalise(value):
    if isinstance(value, (Decimal, float)):
        return round(float(value), 6)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return value
    return value


def rows_of(fetch, table: str, order: str) -> list[tuple]:
    # sorted here, not by the databases: their text collations differ
    rows = [tuple(normalise(v) for v in row) for row in fetch(f"select * from {table}")]
    return sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))


@pytest.mark.parametrize("table", sorted(COMPARED))
def test_postgres_build_publishes_what_duckdb_publishes(pg_build, dbt_build, table):
    def pg_fetch(sql):
        with pg_build.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    duck = rows_of(dbt_build.query, table, COMPARED[table])
    assert duck, f"{table} is empty in the DuckDB build"
    assert rows_of(pg_fetch, table, COMPARED[table]) == duck
