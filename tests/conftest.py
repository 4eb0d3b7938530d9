"""Shared test set-up: no telemetry, no network beyond loopback."""

import os
import subprocess
from pathlib import Path

import pytest

for key, value in {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(key, value)


PG_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg_test_server.sh"


def _pg_running() -> bool:
    return subprocess.run([str(PG_SCRIPT), "status"], check=False, capture_output=True).returncode == 0


def pytest_configure(config: pytest.Config) -> None:
    """`make test` runs two pytest-xdist workers, one test module per worker (--dist
    loadfile). Workers share the throwaway PostgreSQL server (tests/postgres/conftest.py
    leaves it running under xdist); the controller stops it at the end if it was not
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
