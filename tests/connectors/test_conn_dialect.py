"""The connectors against the simulator's foreign dialect (simulator/dialect.py): opaque ids,
offsets and 0-6 fractional digits, pages capped below what is asked, a standard-base64 cursor,
payroll with BOM, quoted multi-line fields and reordered columns. Faults, an incremental day
and a lagging LRS land exactly what a fault-free full read of that dialect lands."""
from __future__ import annotations

import csv
import io

import duckdb
import pytest

from tests.connectors.test_conn_simulator import lagging_day_then_fresh, snapshot, statement_rows, sync

pytestmark = pytest.mark.simulator
simulator = pytest.importorskip("simulator")


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    work = tmp_path_factory.mktemp("foreign")
    with simulator.Simulator("pilot", 13, work / "sim", dialect="foreign") as sim:
        sync(work / "reference.duckdb", sim.env, "reference")
        yield sim, work, snapshot(work / "reference.duckdb")


def _truth_count(sim, feed: str, stream: str) -> int:
    with open(sim.truth_dir / "counts.csv", newline="", encoding="utf-8") as fh:
        return next(int(r["records"]) for r in csv.DictReader(fh) if (r["feed"], r["stream"]) == (feed, stream))


def test_a_full_read_lands_every_record_under_the_ids_the_dialect_serves(foreign):
    sim, _work, ref = foreign
    for feed, stream in [("lms", "users"), ("lms", "assignments"), ("checkins", "checkins"),
                         ("checkins", "objectives"), ("hris", "users")]:
        ids = {r[0] for r in ref[f"{feed}__{stream}"]}
        assert len(ids) == _truth_count(sim, feed, stream), (feed, stream)
    assert {r[0] for r in ref["checkins__checkins"]} >= {"CHK-1", "CHK-10", "CHK-100"}
    scim_ids = {r[0] for r in ref["hris__users"]}
    assert all(len(i) == 8 and i.isdigit() for i in scim_ids) and any(i.startswith("00") for i in scim_ids)
    assert len({r[0] for r in ref["xapi__statements"]}) == _truth_count(sim, "xapi", "statements")


def test_chaos_faults_land_the_same_raw_tables(foreign, tmp_path):
    sim, _work, ref = foreign
    sim.set_faults(0.2)
    try:
        sync(tmp_path / "chaos.duckdb", sim.env, "chaos")
    finally:
        sim.set_faults(0.0)
    assert snapshot(tmp_path / "chaos.duckdb") == ref


def test_payroll_quarantines_bad_rows_by_their_physical_line(foreign, tmp_path):
    sim, work, _ref = foreign
    db = work / "reference.duckdb"
    detail = sim.inject("bad_payroll_rows")["detail"]
    text = (sim.workdir / "inbox" / detail["file"]).read_bytes().decode("utf-8-sig")
    assert sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) < text.count("\r\n")  # multi-line records
    sync(db, sim.env, "bad-rows")
    con = duckdb.connect(str(db), read_only=True)
    try:
        refs = {r[0] for r in con.execute("select record_ref from audit.quarantine where run_id = 'bad-rows'")
                .fetchall()}
        loaded = con.execute("select rows_loaded from raw.payroll__files where file_name = ?",
                             [detail["file"]]).fetchall()
    finally:
        con.close()
    assert refs == {f"{detail['file']}:{line}" for line in detail["bad_lines"]}
    rows = sum(1 for _ in csv.DictReader(io.StringIO(text, newline="")))
    assert loaded == [(rows - 3,)]


def test_incremental_days_and_a_lagging_lrs_skip_nothing(foreign, tmp_path):
    sim, work, _ref = foreign
    db = work / "reference.duckdb"          # continues the warehouse of the full read
    sim.advance_days(1)
    sync(db, sim.env, "day1")
    fresh = tmp_path / "fresh.duckdb"
    lagging_day_then_fresh(sim, db, fresh)
    for table in ("lms__users", "lms__assignments", "checkins__checkins", "checkins__objectives", "hris__users"):
        now, landed = _latest(fresh, table), _latest(db, table)
        assert now and {k: landed.get(k) for k in now} == now, table      # every current version, read incrementally
    assert set(statement_rows(fresh)) <= set(statement_rows(db))


def _latest(db, table: str) -> dict[str, str]:
    """record_id -> content hash of its latest landed version."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute(f"select record_id, record_hash from raw.{table} "
                                "qualify row_number() over (partition by record_id order by batch_seq desc) = 1")
                    .fetchall())
    finally:
        con.close()
