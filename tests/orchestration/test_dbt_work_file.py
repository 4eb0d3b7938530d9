"""dbt's plugin attaches the warehouse's work file, waiting while another process (the run's,
reading the raw feeds' frames as dbt starts) still holds it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import dbt_work_file


def _hold(path: Path) -> subprocess.Popen:
    """Another process that opens the file for writing and holds it until it reads a line."""
    code = textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(path)!r})
        con.execute("create or replace table t as select 42 as answer")
        print("held", flush=True)
        sys.stdin.readline()
        con.close()
        print("released", flush=True)
        sys.stdin.readline()
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def _release(holder: subprocess.Popen) -> None:
    holder.stdin.write("let go\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"


def _stop(holder: subprocess.Popen) -> None:
    holder.kill()
    holder.wait()


# A ceiling for a hung attach, far above what any of these calls needs; never a measurement.
HUNG = 120


def test_attach_waits_for_the_other_process_to_let_go(tmp_path: Path) -> None:
    path = tmp_path / "bridge.work.duckdb"
    holder = _hold(path)
    try:
        conn = duckdb.connect(":memory:")
        with ThreadPoolExecutor(max_workers=1) as pool:
            attach = pool.submit(dbt_work_file.attach_when_free, conn, str(path), timeout=600)
            # while the other process holds the file, the attach neither returns nor fails
            done, _ = wait([attach], timeout=1.0)
            assert not done, f"attach returned while the file was held: {attach.exception()!r}"
            _release(holder)
            attach.result(timeout=HUNG)  # ... and goes through once it is let go
        conn.execute(f"use {dbt_work_file.CATALOG}")
        assert conn.sql("select answer from t").fetchall() == [(42,)]
    finally:
        _stop(holder)


def test_a_lock_held_past_the_wait_fails_naming_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "bridge.work.duckdb"
    holder = _hold(path)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            attach = pool.submit(dbt_work_file.attach_when_free, duckdb.connect(":memory:"), str(path), timeout=0.5)
            with pytest.raises(duckdb.IOException, match=rf"Conflicting lock is held in .*PID {holder.pid}"):
                attach.result(timeout=HUNG)
        assert holder.poll() is None  # it gave up while the lock was still held
    finally:
        _stop(holder)


def test_other_errors_are_not_waited_for(tmp_path: Path) -> None:
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not a DuckDB file\n" * 100)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # ten minutes to wait for a lock: an attach that waited on this error would still be waiting
        attach = pool.submit(
            dbt_work_file.attach_when_free, duckdb.connect(":memory:"), str(not_a_database), timeout=600
        )
        done, _ = wait([attach], timeout=HUNG)
        assert done, "attach kept waiting on an error that is not another process's lock"
        with pytest.raises(duckdb.Error):
            attach.result()
