"""A PostgreSQL server for tests/postgres: `BRIDGE_TEST_PG_URL`, or a throwaway cluster.

Without the variable, the session runs `scripts/pg_test_server.sh start` (installing
PostgreSQL from apt on a fresh Debian machine) and stops it at the end if it started it.
Every test gets its own database, so raw/audit tables never leak between tests; roles are
cluster-wide and shared (ensure_roles is idempotent).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import psycopg2.extensions
import pytest

from orchestration.lib.postgres.connection import PgTarget, parse_warehouse_url

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg_test_server.sh"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgTarget]:
    url = os.environ.get("BRIDGE_TEST_PG_URL")
    started = False
    if not url:
        running = (
            subprocess.run([str(SCRIPT), "status"], check=False, capture_output=True, text=True).returncode
            == 0
        )
        done = subprocess.run(
            [str(SCRIPT), "start"], check=False, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            pytest.fail(f"scripts/pg_test_server.sh start failed: {done.stderr.strip()}")
        url, started = done.stdout.strip().splitlines()[-1], not running
    try:
        yield parse_warehouse_url(url, variable="BRIDGE_TEST_PG_URL")
    finally:
        # under pytest-xdist another worker may still use it: the controller stops it (tests/conftest.py)
        if started and not os.environ.get("PYTEST_XDIST_WORKER"):
            subprocess.run([str(SCRIPT), "stop"], check=False, capture_output=True, timeout=120)


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
