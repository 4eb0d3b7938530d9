"""ensure_roles: HR reporting, auditors and compensation each read their schemas only."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import psycopg2.errors
import psycopg2.extensions
import pytest

from connectors.landing import ensure_schema
from orchestration.lib.postgres.connection import PgTarget, connect
from orchestration.lib.postgres.mirror import mirror_audit
from orchestration.lib.postgres.publish import prepare_build_schemas, swap_published
from orchestration.lib.postgres.roles import (
    AUDITOR_ROLE,
    COMPENSATION_ROLE,
    HR_REPORTING_ROLE,
    WRITER_ROLE,
    ensure_roles,
)

pytestmark = pytest.mark.postgres

Login = Callable[[str], psycopg2.extensions.connection]


@pytest.fixture
def warehouse(
    pg_db: PgTarget, pg_admin: psycopg2.extensions.connection, tmp_path: Path
) -> Iterator[tuple[psycopg2.extensions.connection, Login]]:
    """Roles, one published run (reporting, restricted, audit) built by the writer, and a
    `login(group_role)` that connects as a fresh LOGIN user who is a member of that role."""
    ensure_roles(pg_admin)
    writer = connect(pg_db, role=WRITER_ROLE)
    prepare_build_schemas(writer)
    with writer.cursor() as cur:
        cur.execute("create table reporting__build.dim_employee as select '42' as employee_number")
        cur.execute(
            "create table restricted__build.fct_compensation as "
            "select '42' as employee_number, 51000.50::numeric as annual_base_salary"
        )
    writer.commit()
    swap_published(writer)
    duck = duckdb.connect(str(tmp_path / "bridge.work.duckdb"))
    ensure_schema(duck)
    duck.execute(
        "insert into audit.pipeline_run values ('run-1', now()::timestamp, null, 'running', 'v1', 'manual')"
    )
    mirror_audit(duck, writer)  # the writer creates audit.* in Postgres
    duck.close()

    users: list[str] = []
    cons: list[psycopg2.extensions.connection] = []

    def login(group: str) -> psycopg2.extensions.connection:
        user = f"u_{group}_{uuid.uuid4().hex[:6]}"
        with pg_admin.cursor() as cur:
            cur.execute(f'create role "{user}" login in role "{group}"')
        pg_admin.commit()
        users.append(user)
        con = connect(PgTarget(pg_db.host, pg_db.port, user, pg_db.dbname), autocommit=True)
        cons.append(con)
        return con

    yield writer, login
    for con in cons:
        con.close()
    writer.close()
    with pg_admin.cursor() as cur:
        for user in users:
            cur.execute(f'drop owned by "{user}"')
            cur.execute(f'drop role "{user}"')
    pg_admin.commit()


def _rows(con: psycopg2.extensions.connection, sql: str) -> list[tuple]:
    with con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall() if cur.description else []


def _denied(con: psycopg2.extensions.connection, sql: str) -> bool:
    try:
        _rows(con, sql)
    except psycopg2.errors.InsufficientPrivilege:
        return True
    return False


def test_hr_reporting_reads_reporting_but_not_salaries_or_audit(warehouse) -> None:
    _, login = warehouse
    hr = login(HR_REPORTING_ROLE)
    assert _rows(hr, "select employee_number from reporting.dim_employee") == [("42",)]
    assert _denied(hr, "select * from restricted.fct_compensation")
    assert _denied(hr, "select * from audit.pipeline_run")
    assert _denied(hr, "delete from reporting.dim_employee")
    assert _denied(hr, "create table reporting.mine (x int)")


def test_auditor_reads_audit_and_reporting_but_cannot_change_audit(warehouse) -> None:
    _, login = warehouse
    auditor = login(AUDITOR_ROLE)
    assert _rows(auditor, "select run_id, status from audit.pipeline_run") == [("run-1", "running")]
    assert _rows(auditor, "select count(*) from reporting.dim_employee") == [(1,)]
    assert _denied(auditor, "update audit.pipeline_run set status = 'succeeded'")
    assert _denied(auditor, "delete from audit.pipeline_run")
    assert _denied(auditor, "insert into audit.quarantine (run_id) values ('forged')")
    assert _denied(auditor, "truncate audit.dq_result")
    assert _denied(auditor, "select * from restricted.fct_compensation")


def test_compensation_reads_restricted_only(warehouse) -> None:
    _, login = warehouse
    comp = login(COMPENSATION_ROLE)
    assert _rows(
        comp, "select employee_number, annual_base_salary::text from restricted.fct_compensation"
    ) == [("42", "51000.50")]
    assert _denied(comp, "select * from audit.pipeline_run")
    assert _denied(comp, "update restricted.fct_compensation set annual_base_salary = 0")


def test_grants_follow_the_next_publication_and_later_audit_tables(warehouse) -> None:
    writer, login = warehouse
    hr, auditor, comp = login(HR_REPORTING_ROLE), login(AUDITOR_ROLE), login(COMPENSATION_ROLE)
    prepare_build_schemas(writer)
    with writer.cursor() as cur:
        cur.execute("create table reporting__build.dim_employee as select '43' as employee_number")
        cur.execute("create table reporting__build.dim_job_title as select 'Engineer' as canonical_job_title")
        cur.execute("create table restricted__build.fct_compensation as select '43' as employee_number")
        cur.execute("create table audit.added_later as select 1 as x")  # default privileges apply
    writer.commit()
    swap_published(writer)
    assert _rows(hr, "select employee_number from reporting.dim_employee") == [("43",)]
    assert _rows(hr, "select canonical_job_title from reporting.dim_job_title") == [("Engineer",)]
    assert _denied(hr, "select * from restricted.fct_compensation")
    assert _rows(comp, "select employee_number from restricted.fct_compensation") == [("43",)]
    assert _rows(auditor, "select x from audit.added_later") == [(1,)]
    assert _denied(hr, "select x from audit.added_later")


def test_build_schemas_are_invisible_to_readers(warehouse) -> None:
    writer, login = warehouse
    prepare_build_schemas(writer)
    with writer.cursor() as cur:
        cur.execute("create table restricted__build.fct_compensation as select 1 as salary")
    writer.commit()
    # a blocked run leaves its build for inspection: readers still cannot reach it
    assert _denied(login(COMPENSATION_ROLE), "select * from restricted__build.fct_compensation")
    assert _denied(login(HR_REPORTING_ROLE), "select * from restricted__build.fct_compensation")
