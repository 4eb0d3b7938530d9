"""dbt's plugin attaches the warehouse's work file, waiting while another process (the run's,
reading the raw feeds' frames as dbt starts) still holds it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import dbt_work_file


def _hold(path: Path, seconds: float) -> subprocess.Popen:
    """Another process that opens the file for writing and lets go after `seconds`."""
    code = textwrap.dedent(f"""
        import duckdb, time
        con = duckdb.connect({str(path)!r})
        con.execute("create or replace table t as select 42 as answer")
        print("held", flush=True)
        time.sleep({seconds})
        con.close()
        time.sleep(30)
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_attach_waits_for_the_other_process_to_let_go(tmp_path: Path) -> None:
    path = tmp_path / "bridge.work.duckdb"
    holder = _hold(path, 1.0)
    try:
        conn = duckdb.connect(":memory:")
        started = time.monotonic()
        dbt_work_file.attach_when_free(conn, str(path), timeout=30)
        waited = time.monotonic() - started
        conn.execute(f"use {dbt_work_file.CATALOG}")
        assert conn.sql("select answer from t").fetchall() == [(42,)]
        assert 0.5 < waited < 20
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_held_past_the_wait_fails_naming_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "bridge.work.duckdb"
    holder = _hold(path, 60)
    try:
        started = time.monotonic()
        with pytest.raises(duckdb.IOException, match=rf"Conflicting lock is held in .*PID {holder.pid}"):
            dbt_work_file.attach_when_free(duckdb.connect(":memory:"), str(path), timeout=0.5)
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()


def test_other_errors_are_not_waited_for(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not a DuckDB file\n" * 100)
    started = time.monotonic()
    with pytest.raises(duckdb.Error):
        dbt_work_file.attach_when_free(duckdb.connect(":memory:"), str(not_a_database), timeout=30)
    assert time.monotonic() - started < 5
