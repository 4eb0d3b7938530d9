"""The suites and the reconciliation on Postgres run as SQL in the server (GX's Postgres data
source) over the build schemas, and find what the same checks find on DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg2.extensions
import pytest

from orchestration.lib import pg_warehouse
from orchestration.lib.postgres.connection import PgTarget, connect
from orchestration.lib.quality import postgres_checks, reconciliation, suites
from orchestration.lib.quality.postgres_checks import BuiltTables
from tests.quality.dq_fixtures import NOW, build_clean_db

pytestmark = pytest.mark.postgres

WAREHOUSE_SUITES = [n for n, s in suites.SUITES.items() if not suites.on_raw(s.target_table)]
PG_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision"}

DEFECTS = (
    "insert into reporting.dim_employee select * from reporting.dim_employee where employee_number = '1002'",
    "update reporting.fct_competency_gap set gap = -1 where employee_number = '1003'",
    "update restricted.fct_compensation set annual_base_salary = -1, fte = 2 where employee_number = '1002'",
    "insert into restricted.fct_compensation select * from restricted.fct_compensation where employee_number = '1003'",
    "update reporting.fct_objective_progress set progress_pct = 150 where objective_id = 'O2'",
    "update reporting.rpt_headcount_reconciliation set matched = 97 where cost_center = 'CC2'",
    "update intermediate.int_identity__links set employee_number = null where source_key in ('L7', 'L9')",
)


def _copy_into_build_schemas(duck: duckdb.DuckDBPyConnection, pg: psycopg2.extensions.connection) -> None:
    """What dbt-postgres leaves for the checks: the tables in `<schema>__build` (and `intermediate`)."""
    targets = {published: built for built, published in pg_warehouse.CHECKED_SCHEMAS.items()}
    with pg.cursor() as cur:
        cur.execute("create schema if not exists intermediate")
        for schema, table in duck.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('reporting', 'restricted', 'intermediate')").fetchall():
            columns = duck.execute("select column_name, data_type from information_schema.columns "
                                   "where table_schema = ? and table_name = ? order by ordinal_position",
                                   [schema, table]).fetchall()
            name = f'"{targets[schema]}"."{table}"'
            cur.execute(f"create table {name} ({', '.join(f'{c} {PG_TYPES.get(t, t)}' for c, t in columns)})")
            rows = duck.execute(f"select * from {schema}.{table}").fetchall()
            if rows:
                cur.executemany(f"insert into {name} values ({', '.join(['%s'] * len(columns))})", rows)
    pg.commit()


@pytest.fixture
def warehouse(pg_db: PgTarget, tmp_path: Path) -> Iterator[tuple[str, duckdb.DuckDBPyConnection]]:
    url = pg_db.url(with_password=True)
    pg_warehouse.prepare_run(url)
    duck = build_clean_db(tmp_path / "work.duckdb")
    yield url, duck
    duck.close()


def _load(url: str, duck: duckdb.DuckDBPyConnection) -> None:
    pg = connect(url, role=pg_warehouse.WRITER)
    try:
        _copy_into_build_schemas(duck, pg)
    finally:
        pg.close()


def _findings(outcomes: list) -> list[tuple]:
    return [(o.check_name, o.success, o.observed_value, o.unexpected_count, sorted(o.sample_keys)) for o in outcomes]


def test_clean_build_passes_every_suite_through_the_sql_data_source(warehouse) -> None:
    url, duck = warehouse
    _load(url, duck)
    runs = postgres_checks.run_suites(url, WAREHOUSE_SUITES, now=NOW)
    assert [r.suite_name for r in runs] == WAREHOUSE_SUITES
    for run in runs:
        assert [o.check_name for o in run.outcomes] == [s.check_name for s in suites.check_specs(run.suite_name)]
        assert [(o.check_name, o.observed_value) for o in run.outcomes if not o.success] == [], run.suite_name
        assert len(run.gx_results) == len(suites.SUITES[run.suite_name].frames)
        assert run.batch_sizes == []  # nothing was read out of the server
    # the validations ran on GX's SQL execution engine, not on frames
    batch = runs[0].gx_results[0].meta["active_batch_definition"]
    assert batch["data_asset_name"] == "reporting__dim_employee__frame0"
    assert all(o.success for o in postgres_checks.run_reconciliation(url, reconciliation.QualityThresholds()))


def test_defects_give_the_findings_duckdb_gives(warehouse) -> None:
    url, duck = warehouse
    for statement in DEFECTS:
        duck.execute(statement)
    _load(url, duck)
    on_pg = postgres_checks.run_suites(url, WAREHOUSE_SUITES, now=NOW)
    on_duck = suites.run_suites(duck, WAREHOUSE_SUITES, now=NOW)
    pg_findings = [f for r in on_pg for f in _findings(r.outcomes)]
    assert pg_findings == [f for r in on_duck for f in _findings(r.outcomes)]
    failed = {f[0]: f for f in pg_findings if not f[1]}
    assert failed["dim_employee__employee_number_unique"][3:] == (2, ["1002"])
    assert failed["fct_compensation__employee_period_unique"][3:] == (4, ["1003|2026-05-31", "1003|2026-06-30"])
    assert failed["fct_compensation__annual_base_salary_not_negative"][3] == 2
    recon_pg = postgres_checks.run_reconciliation(url)
    assert _findings(recon_pg) == _findings(reconciliation.run_reconciliation(duck))
    assert not {o.check_name: o for o in recon_pg}["lms_users_not_in_hris"].success


def test_missing_built_table_fails_its_checks_without_raising(warehouse) -> None:
    url, duck = warehouse
    duck.execute("drop table reporting.fct_observation")
    _load(url, duck)
    (run,) = postgres_checks.run_suites(url, ["reporting__fct_observation"], now=NOW)
    assert all(not o.success and o.observed_value == "missing table: reporting.fct_observation"
               for o in run.outcomes)


def test_the_checks_sessions_run_without_jit(pg_db: PgTarget) -> None:
    pg_warehouse.ensure_ready(pg_db.url(with_password=True))
    pg = postgres_checks.connect_checks(pg_db)
    try:
        assert BuiltTables(pg).execute("select current_setting('jit')").fetchall() == [("off",)]
    finally:
        pg.close()
