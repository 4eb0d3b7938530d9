"""Fixtures of the data-quality tests (the database builder lives in dq_fixtures.py)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from dq_fixtures import NOW, build_clean_db

from orchestration.lib.quality.suites import SUITES, SuiteRun, run_suite_detailed


@pytest.fixture(scope="session", autouse=True)
def no_network() -> Iterator[None]:
    """GX, Data Docs and the checks must not reach beyond loopback: any such connect fails the test."""
    original = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network access attempted: {address!r}")
        return original(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    yield
    socket.socket.connect = original  # type: ignore[method-assign]


@pytest.fixture
def clean_db(tmp_path: Path) -> Callable[[], duckdb.DuckDBPyConnection]:
    """A fresh clean database per call (tests mutate it)."""
    counter = iter(range(1000))

    def make() -> duckdb.DuckDBPyConnection:
        return build_clean_db(tmp_path / f"work{next(counter)}.duckdb")

    return make


@pytest.fixture
def con(clean_db: Callable[[], duckdb.DuckDBPyConnection]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = clean_db()
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def clean_runs(tmp_path_factory: pytest.TempPathFactory) -> list[SuiteRun]:
    """Every suite run once on a clean database (shared: GX validation is the slow part)."""
    connection = build_clean_db(tmp_path_factory.mktemp("clean") / "work.duckdb")
    try:
        return [run_suite_detailed(connection, name, now=NOW) for name in SUITES]
    finally:
        connection.close()
