"""End-to-end fixtures: the real simulator on loopback and a warehouse in a temp dir."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest


@pytest.fixture(scope="module")
def pilot_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from simulator import Simulator

    sim = Simulator("pilot", seed=11, workdir=tmp_path_factory.mktemp("sim"))
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def bridge_env(pilot_sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the bridge at the simulator and at a fresh warehouse; yields the published path."""
    warehouse = tmp_path_factory.mktemp("warehouse") / "bridge.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in pilot_sim.env.items():
            mp.setenv(key, value)
        mp.setenv("BRIDGE_WAREHOUSE", str(warehouse))
        mp.setenv("BRIDGE_HTTP_READ_TIMEOUT", "10")
        mp.delenv("BRIDGE_ALERT_WEBHOOK_URL", raising=False)
        yield warehouse


def table_fingerprints(path: Path, schema: str = "reporting") -> dict[str, tuple[int, str]]:
    """Row count and a hash of the sorted rows of every table of a published schema."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
            ).fetchall()
        ]
        out = {}
        for t in tables:
            out[t] = con.execute(
                f"select count(*), coalesce(md5(string_agg(cast(x as varchar), chr(10) "
                f"order by cast(x as varchar))), '') from {schema}.{t} x"
            ).fetchone()
        return out
    finally:
        con.close()


def published_value(path: Path, sql: str, params: list | None = None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def env_without_secrets() -> dict[str, str]:
    return dict(os.environ)


@pytest.fixture(scope="module")
def webhook():
    """A loopback server standing in for the team's alert channel."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
