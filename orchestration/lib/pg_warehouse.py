"""The nightly run against a PostgreSQL warehouse (BRIDGE_WAREHOUSE=postgresql://...).

The connectors still land into the DuckDB work file, which keeps raw versions and their
cursors in one transaction; from there each run copies what is new into Postgres with
COPY, dbt-postgres builds the marts into `<schema>__build`, the checks read those, and
publish swaps the build schemas in one transaction. The audit trail is written in the
work file and appended to Postgres' `audit` schema, where auditors read it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg2

from orchestration.lib.postgres import mirror, publish, roles
from orchestration.lib.postgres.connection import connect, parse_warehouse_url

WRITER = roles.WRITER_ROLE
CHECKED_SCHEMAS = {"intermediate": "intermediate", "reporting__build": "reporting", "restricted__build": "restricted"}


def _connect(url: str, *, as_writer: bool = True) -> psycopg2.extensions.connection:
    return connect(parse_warehouse_url(url), role=WRITER if as_writer else None)


_ready: set[str] = set()


def ensure_ready(url: str) -> None:
    """Roles, grants and the pgcrypto extension, once per process (idempotent)."""
    if url in _ready:
        return
    con = _connect(url, as_writer=False)
    try:
        with con.cursor() as cur:
            cur.execute("create extension if not exists pgcrypto")  # sha1 of xAPI mbox_sha1sum
        con.commit()
        roles.ensure_roles(con, WRITER)
    finally:
        con.close()
    _ready.add(url)


@contextmanager
def _writer(url: str) -> Iterator[psycopg2.extensions.connection]:
    """A connection as the pipeline's writer role, the roles ensured first."""
    ensure_ready(url)
    con = _connect(url)
    try:
        yield con
    finally:
        con.close()


def prepare_run(url: str) -> None:
    """Empty build schemas before dbt builds (drops a blocked run's leftovers)."""
    with _writer(url) as con:
        publish.prepare_build_schemas(con, writer_role=WRITER)


def mirror_raw(duck: duckdb.DuckDBPyConnection, url: str) -> dict[str, int]:
    with _writer(url) as con:
        return mirror.mirror_raw(duck, con)


def mirror_audit(duck: duckdb.DuckDBPyConnection, url: str) -> dict[str, int]:
    with _writer(url) as con:
        return mirror.mirror_audit(duck, con)


def swap(url: str) -> dict[str, int]:
    """Publish the build schemas; returns the published row counts."""
    with _writer(url) as con:
        counts = {
            **publish.row_counts(con, "reporting__build", label="reporting"),
            **publish.row_counts(con, "restricted__build", label="restricted"),
        }
        publish.swap_published(con, writer_role=WRITER)
        return counts


def copy_for_checks(url: str) -> duckdb.DuckDBPyConnection:
    """The built tables in an in-memory DuckDB under their published names, so the same
    suites check either warehouse (the marts are small: a copy costs seconds)."""
    duck = duckdb.connect()
    with _writer(url) as pg:
        with pg.cursor() as cur:
            cur.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema = any(%s) and table_type = 'BASE TABLE'",
                (list(CHECKED_SCHEMAS),),
            )
            tables = cur.fetchall()
        for schema, table in tables:
            target = CHECKED_SCHEMAS[schema]
            duck.execute(f'create schema if not exists "{target}"')
            _copy_table(pg, duck, f'"{schema}"."{table}"', f'create table "{target}"."{table}" as')
    return duck


def audit_copy(url: str) -> duckdb.DuckDBPyConnection:
    """Postgres' `audit` schema in an in-memory DuckDB, read with the caller's own login (an
    auditor's `bridge_auditor` grant suffices), so `bridge audit` and `bridge status` work
    where the pipeline's work file is not."""
    from connectors.landing import ensure_schema

    duck = duckdb.connect()
    ensure_schema(duck)     # the audit tables with their declared types
    tables = [r[0] for r in duck.execute(
        "select table_name from information_schema.tables where table_schema = 'audit'").fetchall()]
    pg = _connect(url, as_writer=False)
    try:
        for table in tables:
            _copy_table(pg, duck, f"audit.{table}", f"insert into audit.{table} by name")
    finally:
        pg.close()
    return duck


def snapshot_published(url: str, dest: Path) -> Path:
    """What readers of Postgres see (`reporting` and `audit`, never `restricted`) in a DuckDB
    file, so the report site is built from exactly the published tables on either target."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    duck = duckdb.connect(str(tmp))
    pg = _connect(url, as_writer=False)
    try:
        for schema in ("reporting", "audit"):
            with pg.cursor() as cur:
                cur.execute("select table_name from information_schema.tables where table_schema = %s "
                            "and table_type = 'BASE TABLE'", (schema,))
                tables = [r[0] for r in cur.fetchall()]
            duck.execute(f'create schema if not exists "{schema}"')
            for table in tables:
                _copy_table(pg, duck, f'"{schema}"."{table}"', f'create table "{schema}"."{table}" as')
    finally:
        pg.close()
        duck.close()
    os.replace(tmp, dest)
    return dest


def _copy_table(pg: psycopg2.extensions.connection, duck: duckdb.DuckDBPyConnection, source: str,
                into: str) -> None:
    import pandas as pd  # here, not at module level: the import costs every code-location load ~3 s

    frame = pd.read_sql_query(f"select * from {source}", pg)
    duck.register("pg_frame", frame)
    try:
        duck.execute(f"{into} select * from pg_frame")
    finally:
        duck.unregister("pg_frame")
