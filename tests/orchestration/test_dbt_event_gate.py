"""The gate on dbt's events (orchestration/lib/dbt_event_gate.py) changes what dbt spends on
debug events nobody keeps, never what any logger writes or any listener hears. Each case runs
in its own interpreter: the gate patches dbt-common's classes for the whole process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FIRE = """
import io, json, sys
from dbt.adapters.events.types import SQLQuery
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.logger import LineFormat, LoggerConfig
from dbt_common.events.types import Note

if sys.argv[1] == "gated":
    from orchestration.lib import dbt_event_gate
    dbt_event_gate.install()
    dbt_event_gate.install()  # idempotent: one gate, not two

seen = {}
for level in ("info", "debug"):
    stream = io.StringIO()
    manager = EventManager()
    manager.add_logger(LoggerConfig(name=f"gate-test-{level}", level=EventLevel(level),
                                    line_format=LineFormat.Json, output_stream=stream))
    query = SQLQuery(conn_name="model.bridge.people", sql="select 1 as secret_free", node_info={})
    manager.fire_event(query)
    manager.fire_event(Note(msg="hello"), level=EventLevel.INFO)
    manager.fire_event(Note(msg="careful"), level=EventLevel.WARN)
    seen[level] = [{"name": e["info"]["name"], "level": e["info"]["level"], "msg": e["info"]["msg"], "data": e["data"]}
                   for e in map(json.loads, stream.getvalue().splitlines())]
    seen[level + " logger: query message built"] = "pb_msg" in query.__dict__
    seen[level + " logger: query text"] = query.sql  # read after firing: built on demand

heard = []
listening = EventManager()
listening.add_callback(heard.append)
listening.fire_event(SQLQuery(conn_name="c", sql="select 2", node_info={}))
seen["heard"] = [(m.info.name, m.data.sql) for m in heard]
print(json.dumps(seen))
"""


def _fire(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", FIRE, mode], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def stock() -> dict:
    return _fire("stock")


@pytest.fixture(scope="module")
def gated() -> dict:
    return _fire("gated")


def test_loggers_write_the_same_lines_with_and_without_the_gate(stock: dict, gated: dict) -> None:
    assert [e["msg"] for e in gated["info"]] == ["hello", "careful"]
    assert gated["info"] == stock["info"]
    # a debug logger still gets the debug event, built exactly as dbt builds it
    assert [e["name"] for e in gated["debug"]] == ["SQLQuery", "Note", "Note"]
    assert gated["debug"][0]["data"]["sql"] == "select 1 as secret_free"
    assert gated["debug"] == stock["debug"]


def test_a_debug_event_no_logger_keeps_is_never_built(stock: dict, gated: dict) -> None:
    assert stock["info logger: query message built"] is True
    assert gated["info logger: query message built"] is False
    assert gated["debug logger: query message built"] is True
    # reading it later builds it, from the arguments it was given
    assert gated["info logger: query text"] == "select 1 as secret_free"


def test_a_listener_hears_debug_events(stock: dict, gated: dict) -> None:
    assert gated["heard"] == stock["heard"] == [["SQLQuery", "select 2"]]
