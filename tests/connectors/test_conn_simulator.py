"""Against the project's simulator (pilot): chaos, SIGKILL crashes, incremental runs, late and voided
statements. The simulator shares no code with connectors/."""
from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import duckdb
import pytest

from connectors.config import HttpSettings, sources_from_mapping
from connectors.sync import extract_all
from tests.waiting import wait_until

pytestmark = pytest.mark.simulator
simulator = pytest.importorskip("simulator")

HERE = Path(__file__).resolve().parent
# stalls (3 s) become read timeouts and retries; Retry-After (1 s) is honoured
HTTP = HttpSettings(connect_timeout=2.0, read_timeout=1.5, max_attempts=8, backoff_initial=0.02,
                    backoff_max=0.2, retry_after_cap=1.0)
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def sync(db: Path, env: dict, run_id: str, http: HttpSettings = HTTP):
    con = duckdb.connect(str(db))
    try:
        return extract_all(con, sources_from_mapping(env, http), run_id, date.fromisoformat(env["BRIDGE_AS_OF"]))
    finally:
        con.close()


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every raw version (key, content hash, tombstone, change stamp) and every payroll file, run-independent."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for (t,) in con.execute("select table_name from information_schema.tables where table_schema = 'raw' "
                                "and table_name not in ('payroll__files', 'payroll__withdrawals', 'hris__full_pulls')").fetchall():
            out[t] = sorted(con.execute(f"select record_id, record_hash, is_deleted, source_updated_at "
                                        f"from raw.{t}").fetchall())
        out["payroll__files"] = sorted(con.execute("select file_sha256, status, rows_loaded, rows_quarantined "
                                                   "from raw.payroll__files").fetchall())
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def steady(tmp_path_factory):
    """A simulator that never changes, and a fault-free sync of it (the reference)."""
    work = tmp_path_factory.mktemp("steady")
    with simulator.Simulator("pilot", 11, work / "sim") as sim:
        sync(work / "reference.duckdb", sim.env, "reference")
        yield sim, work, snapshot(work / "reference.duckdb")


def test_reference_sync_landed_every_stream(steady):
    _sim, _work, ref = steady
    for table in ["hris__users", "xapi__statements", "lms__users", "lms__courses", "lms__assessments",
                  "checkins__objectives", "checkins__checkins", "payroll__rows"]:
        assert len(ref[table]) > 0, table
    assert len(ref["hris__users"]) == len({r[0] for r in ref["hris__users"]})    # one version each


def test_chaos_faults_give_identical_raw_tables(steady, tmp_path):
    sim, _work, ref = steady
    before = sim.stats()
    sim.set_faults(0.2)
    try:
        sync(tmp_path / "chaos.duckdb", sim.env, "chaos")
    finally:
        sim.set_faults(0.0)
    after = sim.stats()
    faults = {k: after[k] - before.get(k, 0) for k in after if k.startswith("fault:")}
    assert sum(faults.values()) >= 5        # the run really went through faults
    assert snapshot(tmp_path / "chaos.duckdb") == ref
    # the audit tells records read from versions landed: pages re-read after a fault are read, not landed
    ref_counts, chaos_counts = _extract_counts(_work / "reference.duckdb"), _extract_counts(tmp_path / "chaos.duckdb")
    assert {k: v[1] for k, v in chaos_counts.items()} == {k: v[1] for k, v in ref_counts.items()}
    for stream, (records, new, absorbed) in chaos_counts.items():
        assert records == new + absorbed and records >= ref_counts[stream][0], stream
    # a page served twice (a SCIM "duplicate" is a short page instead: nothing read twice)
    if any(faults.get(f"fault:{server}:duplicate") for server in ("xapi", "lms", "checkins")):
        assert sum(v[2] for v in chaos_counts.values()) > sum(v[2] for v in ref_counts.values())


def _extract_counts(db: Path) -> dict[str, tuple[int, int, int]]:
    """(records read, new versions, duplicates absorbed) per stream of the database's one run."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {f"{s}.{t}": (r, n, d) for s, t, r, n, d in con.execute(
            "select source, stream, records, new_versions, duplicates_absorbed from audit.source_extract").fetchall()}
    finally:
        con.close()


def _requests_served(sim) -> int:
    return sum(n for key, n in sim.stats().items() if not key.startswith("fault:"))


def _crash_sync(sim, env_file: Path, db: Path, run_id: str, streams: int, requests_in: int) -> bool:
    """Start a sync in a child process and SIGKILL it at a point of its own progress, waited for
    as events (a rerun resumes, so a point in time measured on a whole sync may fall after it
    ended): `streams` finished streams, then `requests_in` requests into the next one, or that
    one's end if it needs fewer. True if the kill landed before the sync finished."""
    proc = subprocess.Popen([sys.executable, str(HERE / "sync_child.py"), str(env_file), str(db), run_id],
                            stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    relay = threading.Thread(target=lambda: lines.extend(line.strip() for line in proc.stdout), daemon=True)
    relay.start()

    def progressed() -> int:
        return sum(line.startswith("progress") for line in lines)

    try:
        wait_until(lambda: lines or proc.poll() is not None, f"{run_id}: the child printed nothing", timeout=600)
        assert lines[:1] == ["started"], lines[:3]
        wait_until(lambda: progressed() >= streams or proc.poll() is not None,
                   lambda: f"{run_id}: the child never finished {streams} streams: {lines[-3:]}", timeout=600)
        served = _requests_served(sim)
        wait_until(lambda: _requests_served(sim) >= served + requests_in or progressed() > streams
                   or proc.poll() is not None,
                   lambda: f"{run_id}: the child made no progress: {lines[-3:]}", timeout=600, interval=0.01)
        proc.send_signal(signal.SIGKILL)
        killed = proc.wait() == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        relay.join(timeout=60)
    return killed and "finished" not in lines


def test_sigkill_at_three_random_points_then_rerun_is_identical(steady, tmp_path):
    sim, _work, ref = steady
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps(sim.env))
    db = tmp_path / "crash.duckdb"
    rng = random.Random(20260630)
    # a full sync reports 14 or more finished streams
    killed = sum(_crash_sync(sim, env_file, db, f"crash-{n}", rng.randrange(12), rng.randrange(8)) for n in range(3))
    assert killed == 3          # every kill landed mid-sync
    done = subprocess.run([sys.executable, str(HERE / "sync_child.py"), str(env_file), str(db), "final"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert snapshot(db) == ref


@pytest.fixture(scope="module")
def moving(tmp_path_factory):
    """A simulator whose days advance (changes, late and voided statements)."""
    work = tmp_path_factory.mktemp("moving")
    with simulator.Simulator("pilot", 12, work / "sim") as sim:
        yield sim, work


def audit(db: Path, run_id: str) -> dict[str, tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {f"{s}__{t}": (m, r, p) for s, t, m, r, p in con.execute(
            "select source, stream, mode, records, pages from audit.source_extract where run_id = ?",
            [run_id]).fetchall()}
    finally:
        con.close()


def landed_in(db: Path, table: str, run_id: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"select count(distinct record_id) from raw.{table} where run_id = ?",
                           [run_id]).fetchall()[0][0]
    finally:
        con.close()


def test_incremental_day_fetches_only_changes(moving):
    sim, work = moving
    db = work / "inc.duckdb"
    sync(db, sim.env, "day0")
    s0 = sim.stats()
    sim.advance_days(1)
    sync(db, sim.env, "day1")
    s1 = sim.stats()
    a0, a1 = audit(db, "day0"), audit(db, "day1")
    assert a1["hris__users"][0] == "incremental"
    assert sum(r for m, r, p in a1.values()) > 0            # a day of activity arrived
    for table, (mode, records, pages) in a1.items():
        if table == "payroll__rows":
            continue
        assert mode == "incremental", table
        if a0[table][1] >= 100:
            assert records < a0[table][1] / 2, table        # not a re-read of everything
        if table != "hris__users":      # a record fetched is one that changed, or one re-served at the boundary
            landed, at_boundary = landed_in(db, table, "day1"), boundary_records(db, table, "day1")
            assert landed <= records <= landed + at_boundary, table
    for path in ["checkins:GET /api/v1/checkins", "xapi:GET /xapi/statements", "lms:GET /api/v1/assessments"]:
        assert s1.get(path, 0) - s0.get(path, 0) <= s0[path], path


def boundary_records(db: Path, table: str, run_id: str) -> int:
    """Records stamped exactly at the run's starting cursor (an inclusive `updated_since` serves them again)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        source, stream = table.split("__")
        return con.execute(f"""select count(distinct record_id) from raw.{table} where source_updated_at = (
                                 select cursor_from from audit.source_extract
                                 where run_id = ? and source = ? and stream = ?)""",
                           [run_id, source, stream]).fetchall()[0][0]
    finally:
        con.close()


def statement_rows(db: Path) -> dict[str, dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0]: json.loads(r[1]) for r in con.execute("select record_id, payload from raw.xapi__statements")
                .fetchall()}
    finally:
        con.close()


def test_late_statements_and_voiding_are_never_skipped(moving, tmp_path):
    sim, work = moving
    db = work / "inc.duckdb"            # continues the incremental warehouse of the previous test
    if not db.exists():
        sync(db, sim.env, "day0")
    lag = sim.inject("lagging_lrs", on=True)    # recent statements become visible late, out of stored order
    assert lag["detail"]["pending"] > 0
    sync(db, sim.env, "lag1")
    sim.advance_days(1)
    sync(db, sim.env, "lag2")
    sim.inject("lagging_lrs", on=False)
    sync(db, sim.env, "lag3")
    fresh = tmp_path / "fresh.duckdb"
    sync(fresh, sim.env, "fresh")
    incremental, full = statement_rows(db), statement_rows(fresh)
    # everything the LRS serves now was read by the incremental runs: nothing skipped by the watermark
    assert set(full) <= set(incremental)
    voiders = {k: s for k, s in incremental.items() if s["verb"]["id"] == VOIDED}
    assert voiders, "the simulated LRS voids statements as days pass"
    # voided targets landed by an earlier run stay raw (the warehouse removes them downstream);
    # the LRS itself no longer serves them
    targets = {s["object"]["id"] for s in voiders.values()}
    assert targets & set(incremental)
    assert not targets & set(full)
