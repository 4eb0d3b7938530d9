"""Databases for tests/postgres on the session's PostgreSQL server (`pg_server`, tests/conftest.py).

Every test gets its own database, so raw/audit tables never leak between tests; roles are
cluster-wide and shared (ensure_roles is idempotent).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import psycopg2.extensions
import pytest

from orchestration.lib.postgres.connection import PgTarget
from tests.conftest import scratch_database


def _admin(target: PgTarget, dbname: str | None = None) -> psycopg2.extensions.connection:
    kwargs = target.dsn_kwargs()
    if dbname:
        kwargs["dbname"] = dbname
    con = psycopg2.connect(**kwargs)
    con.autocommit = True
    return con


@pytest.fixture
def pg_db(pg_server: PgTarget) -> Iterator[PgTarget]:
    """A fresh database for one test, dropped afterwards."""
    with scratch_database(pg_server, "bridge_test") as db:
        yield db


@pytest.fixture
def pg_admin(pg_db: PgTarget) -> Iterator[psycopg2.extensions.connection]:
    """A superuser connection to the test database (autocommit off)."""
    con = psycopg2.connect(**pg_db.dsn_kwargs())
    yield con
    con.close()
