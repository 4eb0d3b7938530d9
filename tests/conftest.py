"""Shared test set-up: no telemetry, no network beyond loopback."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from orchestration.lib.postgres.connection import PgTarget

for key, value in {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(key, value)


PG_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg_test_server.sh"

# The simulator's dialects (simulator/dialect.py): the end-to-end modules run on each.
DIALECTS = ("reference", "foreign")


@pytest.fixture(scope="module", params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    """The dialect a module's simulators speak; a test that needs only one says
    `@pytest.mark.parametrize("dialect", ["reference"], indirect=True)`."""
    return request.param


@pytest.fixture(scope="session")
def pg_server() -> Iterator["PgTarget"]:
    """The PostgreSQL server of the session: `BRIDGE_TEST_PG_URL`, or a throwaway cluster that
    `scripts/pg_test_server.sh start` makes (installing PostgreSQL from apt on a fresh Debian
    machine), stopped at the end if this session started it."""
    from orchestration.lib.postgres.connection import parse_warehouse_url

    url = os.environ.get("BRIDGE_TEST_PG_URL")
    started = False
    if not url:
        running = (
            subprocess.run([str(PG_SCRIPT), "status"], check=False, capture_output=True, text=True).returncode
            == 0
        )
        done = subprocess.run(
            [str(PG_SCRIPT), "start"], check=False, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            pytest.fail(f"scripts/pg_test_server.sh start failed: {done.stderr.strip()}")
        url, started = done.stdout.strip().splitlines()[-1], not running
    try:
        yield parse_warehouse_url(url, variable="BRIDGE_TEST_PG_URL")
    finally:
        # under pytest-xdist another worker may still use it: the controller stops it (pytest_sessionfinish)
        if started and not os.environ.get("PYTEST_XDIST_WORKER"):
            subprocess.run([str(PG_SCRIPT), "stop"], check=False, capture_output=True, timeout=120)


@contextmanager
def scratch_database(server: "PgTarget", prefix: str) -> Iterator["PgTarget"]:
    """A fresh database on the session's server for one test or module, dropped afterwards
    (connections forced out), so raw and audit tables never leak between tests."""
    import uuid

    import psycopg2

    from orchestration.lib.postgres.connection import PgTarget

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(**server.dsn_kwargs())
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'create database "{name}"')
        yield PgTarget(server.host, server.port, server.user, name, server.password, server.options)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


def _pg_running() -> bool:
    return subprocess.run([str(PG_SCRIPT), "status"], check=False, capture_output=True).returncode == 0


def pytest_configure(config: pytest.Config) -> None:
    """`make test` runs two pytest-xdist workers, one test module per worker (--dist
    loadfile). Workers share the throwaway PostgreSQL server (`pg_server` leaves it
    running under xdist); the controller stops it at the end if it was not
    running before the session."""
    if _is_xdist_controller(config) and not os.environ.get("BRIDGE_TEST_PG_URL"):
        config.stash[_PG_WAS_RUNNING] = _pg_running()


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if _PG_WAS_RUNNING in config.stash and not config.stash[_PG_WAS_RUNNING] and _pg_running():
        subprocess.run([str(PG_SCRIPT), "stop"], check=False, capture_output=True, timeout=120)


def _is_xdist_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


_PG_WAS_RUNNING = pytest.StashKey[bool]()


# The longest modules (each syncs the pipeline several times), longest first. With
# `--dist loadfile --no-loadscope-reorder` (make test) xdist hands out modules in collection
# order, one at a time to whichever worker is free: starting the long ones first keeps a
# 20-minute suite from ending with one worker alone on a 9-minute module. Measured with
# `--durations` in CI; an order that is off only costs balance, never correctness.
LONGEST_FIRST = (
    "tests/postgres/test_pg_pipeline.py",
    "tests/e2e/test_blocking_checks.py",
    "tests/e2e/test_history.py",
    "tests/e2e/test_run_queue.py",
    "tests/e2e/test_ground_truth.py",
    "tests/e2e/test_pipeline.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    root = Path(config.rootpath)
    # a stable sort: the order of tests within a module (its fixtures' story) is kept
    items.sort(key=lambda item: rank.get(Path(item.path).relative_to(root).as_posix(), len(rank)))
