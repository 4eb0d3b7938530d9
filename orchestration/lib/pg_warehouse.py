"""The nightly run against a PostgreSQL warehouse (BRIDGE_WAREHOUSE=postgresql://...).

The connectors still land into the DuckDB work file, which keeps raw versions and their
cursors in one transaction; from there each run copies what is new into Postgres with
COPY, dbt-postgres builds the marts into `<schema>__build`, the checks read those, and
publish swaps the build schemas in one transaction. The audit trail is written in the
work file and appended to Postgres' `audit` schema, where auditors read it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg2

from orchestration.lib.postgres import mirror, publish, roles
from orchestration.lib.postgres.connection import connect, parse_warehouse_url
from orchestration.lib.warehouse import WarehousePaths, connect_scratch

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


def audit_copy(paths: WarehousePaths) -> duckdb.DuckDBPyConnection:
    """Postgres' `audit` schema in an in-memory DuckDB, read with the caller's own login (an
    auditor's `bridge_auditor` grant suffices), so `bridge audit` and `bridge status` work
    where the pipeline's work file is not."""
    from connectors.landing import ensure_schema

    duck = connect_scratch(paths)
    ensure_schema(duck)     # the audit tables with their declared types
    tables = [r[0] for r in duck.execute(
        "select table_name from information_schema.tables where table_schema = 'audit'").fetchall()]
    pg = _connect(paths.pg_url, as_writer=False)
    try:
        for table in tables:
            _copy_table(pg, duck, "audit", table, f"insert into audit.{table} by name", paths)
    finally:
        pg.close()
    return duck


def snapshot_published(paths: WarehousePaths, dest: Path) -> Path:
    """What readers of Postgres see (`reporting` and `audit`, never `restricted`) in a DuckDB
    file, so the report site is built from exactly the published tables on either target.

    A run takes it up to three times (the report after publishing, provisioning's people, the
    report again with provisioning's audit rows), and `reporting` changes only when a swap
    publishes: its tables are taken from the previous snapshot when that one was copied from
    the same publication (each table's comment names it), and only `audit` travels again."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    duck = connect_scratch(paths, tmp)
    pg = _connect(paths.pg_url, as_writer=False)
    try:
        # read before the tables: a swap in between leaves an older mark, never a newer one
        mark = _publication_mark(pg)
        reused = mark is not None and _reuse_reporting(duck, dest, mark)
        for schema in ("audit",) if reused else ("reporting", "audit"):
            with pg.cursor() as cur:
                cur.execute("select table_name from information_schema.tables where table_schema = %s "
                            "and table_type = 'BASE TABLE'", (schema,))
                tables = [r[0] for r in cur.fetchall()]
            duck.execute(f'create schema if not exists "{schema}"')
            for table in tables:
                _copy_table(pg, duck, schema, table, f'create table "{schema}"."{table}" as', paths)
                if schema == "reporting" and mark is not None:
                    _mark(duck, table, mark)
    finally:
        pg.close()
        duck.close()
    os.replace(tmp, dest)
    return dest


def _publication_mark(pg: psycopg2.extensions.connection) -> str | None:
    """Which publication `reporting` holds: each swap renames a new build schema into place, so
    its oid and the transaction that last wrote its catalog row (the swap's rename and grants)
    change with every publication and with nothing else that leaves its tables as they were."""
    with pg.cursor() as cur:
        cur.execute("select 'publication ' || oid::text || ':' || xmin::text from pg_namespace "
                    "where nspname = 'reporting'")
        row = cur.fetchone()
    return row[0] if row else None


def _mark(duck: duckdb.DuckDBPyConnection, table: str, mark: str) -> None:
    duck.execute(f"""comment on table "reporting"."{table}" is '{mark.replace("'", "''")}'""")


def _reuse_reporting(duck: duckdb.DuckDBPyConnection, previous: Path, mark: str) -> bool:
    """Copy `reporting` from the previous snapshot if every table of it has `mark`."""
    if not previous.exists():
        return False
    duck.execute("attach ? as previous (read_only)", [str(previous)])
    try:
        tables = duck.execute("select table_name, comment from duckdb_tables() "
                              "where database_name = 'previous' and schema_name = 'reporting'").fetchall()
        if not tables or any(comment != mark for _, comment in tables):
            return False
        duck.execute('create schema if not exists "reporting"')
        for table, _ in tables:
            duck.execute(f'create table "reporting"."{table}" as select * from previous."reporting"."{table}"')
            _mark(duck, table, mark)
        return True
    finally:
        duck.execute("detach previous")


# Postgres types -> DuckDB's, to read COPY's CSV with the table's own types (anything else,
# text and json included, is read as text)
_DUCK_TYPES = {
    "smallint": "smallint", "integer": "integer", "bigint": "bigint", "boolean": "boolean",
    "real": "float", "double precision": "double", "date": "date", "uuid": "uuid",
    "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
}


def _duck_type(data_type: str, precision: int | None, scale: int | None) -> str:
    if data_type == "numeric":
        return f"decimal({precision},{scale or 0})" if precision and precision <= 38 else "double"
    return _DUCK_TYPES.get(data_type, "varchar")


def _copy_table(pg: psycopg2.extensions.connection, duck: duckdb.DuckDBPyConnection, schema: str, table: str,
                into: str, paths: WarehousePaths) -> None:
    """One table from Postgres into DuckDB through COPY's CSV in a file (owner-only, beside the
    work file, removed at once): streamed at both ends, so memory stays flat whatever its size."""
    with pg.cursor() as cur:
        cur.execute("select column_name, data_type, numeric_precision, numeric_scale "
                    "from information_schema.columns where table_schema = %s and table_name = %s "
                    "order by ordinal_position", (schema, table))
        columns = {name: _duck_type(t, p, s) for name, t, p, s in cur.fetchall()}
        cur.execute("set timezone = 'UTC'")     # timestamptz written with its offset, read as the same instant
        paths.ensure_dirs()
        with tempfile.NamedTemporaryFile(dir=paths.work.parent, prefix=".pg_copy_", suffix=".csv") as csv:
            cur.copy_expert(f'copy "{schema}"."{table}" to stdout with (format csv)', csv)
            csv.flush()
            # an empty quoted field is an empty string, an unquoted one NULL (as COPY writes them)
            duck.execute(f"{into} select * from read_csv(?, header = false, columns = ?, "
                         "allow_quoted_nulls = false, auto_detect = false)", [csv.name, columns])
