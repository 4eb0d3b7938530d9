"""Databases for tests/postgres on the session's PostgreSQL server (`pg_server`, tests/conftest.py).

Every test gets its own database, so raw/audit tables never leak between tests; roles are
cluster-wide and shared (ensure_roles is idempotent).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg2
import psycopg2.extensions
import pytest

from orchestration.lib.postgres.connection import PgTarget


def _admin(target: PgTarget, dbname: str | None = None) -> psycopg2.extensions.connection:
    kwargs = target.dsn_kwargs()
    if dbname:
        kwargs["dbname"] = dbname
    con = psycopg2.connect(**kwargs)
    con.autocommit = True
    return con


@pytest.fixture
def pg_db(pg_server: PgTarget) -> Iterator[PgTarget]:
    """A fresh database for one test, dropped afterwards (connections forced out)."""
    name = f"bridge_test_{uuid.uuid4().hex[:10]}"
    admin = _admin(pg_server)
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        yield PgTarget(
            host=pg_server.host,
            port=pg_server.port,
            user=pg_server.user,
            dbname=name,
            password=pg_server.password,
            options=pg_server.options,
        )
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


@pytest.fixture
def pg_admin(pg_db: PgTarget) -> Iterator[psycopg2.extensions.connection]:
    """A superuser connection to the test database (autocommit off)."""
    con = psycopg2.connect(**pg_db.dsn_kwargs())
    yield con
    con.close()
