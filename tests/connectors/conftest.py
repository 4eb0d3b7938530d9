from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from connector_fakes import FAST

from connectors.config import HttpSettings

for _k, _v in {"DAGSTER_DISABLE_TELEMETRY": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
               "GX_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}.items():
    os.environ.setdefault(_k, _v)

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "simulator: needs the project's simulator (simulator.Simulator)")


@pytest.fixture
def fast_http() -> HttpSettings:
    return FAST


@pytest.fixture
def con(tmp_path: Path):
    c = duckdb.connect(str(tmp_path / "work.duckdb"))
    yield c
    c.close()
