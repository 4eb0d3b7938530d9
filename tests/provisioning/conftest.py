"""Provisioning fixtures: a published `reporting.dim_employee` made by hand, the simulator's LMS
SCIM endpoint, and scim2-server (PyPI) in a venv of its own, all on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from connectors.landing import ensure_schema

DIM_EMPLOYEE = """create table reporting.dim_employee (employee_number varchar, email varchar, full_name varchar,
    source_title varchar, canonical_job_title varchar, department varchar, division varchar, cost_center varchar,
    manager_employee_number varchar, is_active boolean, termination_date date, termination_reason varchar)"""


def person(en: str, email: str | None, name: str, title: str, dept: str = "Platform", div: str = "Technology",
           cc: str = "CC2", manager: str | None = None, active: bool = True, term: str | None = None,
           reason: str | None = None) -> tuple:
    return (en, email, name, title, title, dept, div, cc, manager, active, term, reason)


def people_db(rows: list[tuple], path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """What `publish` leaves for readers, reduced to the one table provisioning reads."""
    con = duckdb.connect(str(path) if path else ":memory:")
    con.execute("create schema if not exists reporting")
    con.execute("drop table if exists reporting.dim_employee")
    con.execute(DIM_EMPLOYEE)
    if rows:
        con.executemany("insert into reporting.dim_employee values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return con


def work_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_schema(con)
    return con


@pytest.fixture()
def sim(tmp_path: Path) -> Iterator[object]:
    """A pilot simulator of one's own: provisioning changes its LMS."""
    from simulator import Simulator

    with Simulator("pilot", seed=7, workdir=tmp_path / "sim") as s:
        yield s


# -- scim2-server (tests/third_party.py: its own pinned venv, a free loopback port) ---------------
SCIM2_TOKEN = "interop-token-not-a-secret"


@pytest.fixture()
def scim2_server(tmp_path: Path) -> Iterator[str]:
    """A fresh scim2-server (in memory, a bearer token, RFC 7643's User type with only the enterprise
    extension); yields its base URL (ends before /Users)."""
    from tests.third_party import scim2_server as start

    with start(tmp_path / "scim2-server", token=SCIM2_TOKEN) as base:
        yield base


@pytest.fixture()
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """A loopback server standing in for the team's alert channel."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
