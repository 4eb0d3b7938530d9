"""Shared test set-up: no telemetry, no network beyond loopback."""

import os
import random
import socket
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
PG_PORT_VARIABLE = "BRIDGE_TEST_PG_PORT"

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
    machine) on the session's port (see pytest_configure). The first test that needs it starts
    it; the session's xdist workers share it; pytest_unconfigure stops it."""
    from orchestration.lib.postgres.connection import parse_warehouse_url

    url = os.environ.get("BRIDGE_TEST_PG_URL")
    if not url:
        done = _pg_script("start", timeout=600)
        if done.returncode != 0:
            pytest.fail(f"scripts/pg_test_server.sh start failed: {done.stderr.strip()}")
        url = done.stdout.strip().splitlines()[-1]
    yield parse_warehouse_url(url, variable="BRIDGE_TEST_PG_URL")


def pg_rows(url: str, sql: str, params: tuple | list = ()) -> list[tuple]:
    """One query's rows from a PostgreSQL URL, on a connection of its own."""
    import psycopg2

    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


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


def _pg_script(command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PG_SCRIPT), command], check=False, capture_output=True, text=True, timeout=timeout
    )


def _free_loopback_port() -> int:
    """A port free on 127.0.0.1 now, and below the kernel's ephemeral range: no socket bound
    to port 0 (a simulator, a test's HTTP server) is handed it before PostgreSQL takes it."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, ephemeral_low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port found in 20000-{ephemeral_low - 1}")


def pytest_configure(config: pytest.Config) -> None:
    """Each test session has a PostgreSQL server of its own, so two sessions on one machine
    (two `make test`, or a module run beside the suite) never stop each other's. The session's
    process picks a free loopback port here, before pytest-xdist starts its workers, and puts
    it in BRIDGE_TEST_PG_PORT, which the workers inherit: they share the one server. A port set
    by whoever runs the tests is used as it is."""
    if hasattr(config, "workerinput") or os.environ.get("BRIDGE_TEST_PG_URL"):
        return
    if os.environ.get(PG_PORT_VARIABLE):
        # a chosen port: stopped at the end only if this session is the one that starts it
        config.stash[_PG_OWNED] = _pg_script("status").returncode != 0
    else:
        os.environ[PG_PORT_VARIABLE] = str(_free_loopback_port())
        config.stash[_PG_OWNED] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_PG_OWNED, False):
        _pg_script("stop")


_PG_OWNED = pytest.StashKey[bool]()


# The longest modules (each syncs the pipeline several times), longest first. With
# `--dist loadfile --no-loadscope-reorder` (make test) xdist hands out modules in collection
# order, one at a time to whichever worker is free: starting the long ones first keeps a
# 20-minute suite from ending with one worker alone on a 9-minute module. Measured with
# `--durations` in CI; an order that is off only costs balance, never correctness.
LONGEST_FIRST = (
    "tests/postgres/test_pg_pipeline.py",
    "tests/e2e/test_incremental_nights.py",
    "tests/e2e/test_blocking_checks.py",
    "tests/e2e/test_cli_sync.py",
    "tests/privacy/test_erasure.py",
    "tests/privacy/test_erasure_postgres.py",
    "tests/e2e/test_history.py",
    "tests/postgres/test_pg_provisioning.py",
    "tests/e2e/test_run_queue.py",
    "tests/e2e/test_ground_truth.py",
    "tests/e2e/test_pipeline.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    root = Path(config.rootpath)
    # a stable sort: the order of tests within a module (its fixtures' story) is kept
    items.sort(key=lambda item: rank.get(Path(item.path).relative_to(root).as_posix(), len(rank)))
