"""The nightly run against a PostgreSQL warehouse (BRIDGE_WAREHOUSE=postgresql://...).

The connectors still land into the DuckDB work file, which keeps raw versions and their
cursors in one transaction; from there each run copies what is new into Postgres with
COPY, dbt-postgres builds the marts into `<schema>__build`, the checks read those, and
publish swaps the build schemas in one transaction. The audit trail is written in the
work file and appended to Postgres' `audit` schema, where auditors read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
    import pandas as pd  # here, not at module level: the import costs every code-location load ~3 s

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
            frame = pd.read_sql_query(f'select * from "{schema}"."{table}"', pg)
            duck.register("pg_frame", frame)
            duck.execute(f'create table "{target}"."{table}" as select * from pg_frame')
            duck.unregister("pg_frame")
    return duck
