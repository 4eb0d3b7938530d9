"""The nightly pipeline against a real PostgreSQL warehouse: published by schema swap,
identical to the DuckDB warehouse for the same simulator state, readable by role, and
intact after syncs killed mid-build and mid-publish.

Parity, the ground truth, roles and the blocked run run on both simulator dialects (the
foreign one: timestamps with offsets and 0-6 fractional digits, opaque ids, non-ASCII
names and titles); the killed syncs, which test the publish machinery rather than what the
sources say, on the reference dialect."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
import pytest

from tests.conftest import scratch_database
from tests.e2e import truth

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.simulator]

BRIDGE = [sys.executable, "-m", "orchestration.cli"]


@pytest.fixture(scope="module")
def sim(dialect: str, tmp_path_factory):
    from simulator import Simulator

    s = Simulator("pilot", seed=31, workdir=tmp_path_factory.mktemp("pg-sim"), dialect=dialect)
    s.start()
    yield s
    s.stop()


def _env(sim, warehouse: str, work_dir: Path) -> dict[str, str]:
    env = {**os.environ, **sim.env, "BRIDGE_WAREHOUSE": warehouse, "BRIDGE_WORK_DIR": str(work_dir)}
    env.pop("BRIDGE_ALERT_WEBHOOK_URL", None)
    return env


def _sync(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*BRIDGE, "sync"], env=env, capture_output=True, text=True, timeout=1200, check=False)


def _norm(value):
    if isinstance(value, (Decimal, float)):
        return round(float(value), 6)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


# when a row was first and last seen is the landing time of each warehouse's own run
VOLATILE = {"identity_exception": ("first_seen", "last_seen")}


def _select(schema: str, table: str, columns: list[str]) -> str:
    keep = [c for c in columns if c not in VOLATILE.get(table, ())]
    return f'select {", ".join(chr(34) + c + chr(34) for c in keep)} from "{schema}"."{table}"'


def _fingerprint(rows: list[tuple]) -> tuple[int, str]:
    normalised = sorted(repr(tuple(_norm(v) for v in row)) for row in rows)
    return len(normalised), hashlib.sha256("\n".join(normalised).encode()).hexdigest()


def _pg_tables(url: str, schema: str) -> dict[str, tuple[int, str]]:
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute(
                "select table_name from information_schema.tables where table_schema = %s order by 1", (schema,)
            )
            out = {}
            for (table,) in cur.fetchall():
                cur.execute(
                    "select column_name from information_schema.columns where table_schema = %s "
                    "and table_name = %s order by ordinal_position", (schema, table))
                columns = [r[0] for r in cur.fetchall()]
                cur.execute(_select(schema, table, columns))
                out[table] = _fingerprint(cur.fetchall())
            return out
    finally:
        con.close()


def _duck_tables(path: Path, schema: str) -> dict[str, tuple[int, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
        ).fetchall()]
        out = {}
        for t in tables:
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "order by ordinal_position", [schema, t]).fetchall()]
            out[t] = _fingerprint(con.execute(_select(schema, t, columns)).fetchall())
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def synced(sim, pg_server, tmp_path_factory):
    """One Postgres sync and one DuckDB sync of the same simulator state."""
    with scratch_database(pg_server, "bridge_e2e") as target:
        url = target.url(with_password=True)
        root = tmp_path_factory.mktemp("pg-e2e")
        pg_env = _env(sim, url, root / "pg-work")
        pg = _sync(pg_env)
        assert pg.returncode == 0, pg.stdout[-3000:] + pg.stderr[-3000:]
        duck_path = root / "duck" / "bridge.duckdb"
        duck = _sync(_env(sim, str(duck_path), root / "duck"))
        assert duck.returncode == 0, duck.stdout[-3000:] + duck.stderr[-3000:]
        yield url, target, pg_env, duck_path


def _first_difference(url: str, duck_path: Path, table: str) -> str:
    """Name the columns that differ, for a useful failure message."""
    con = psycopg2.connect(url)
    with con.cursor() as cur:
        cur.execute(f'select * from reporting."{table}"')
        columns = [d[0] for d in cur.description]
        pg_rows = cur.fetchall()
    con.close()
    duck = duckdb.connect(str(duck_path), read_only=True)
    duck_rows = duck.execute(f'select {", ".join(columns)} from reporting."{table}"').fetchall()
    duck.close()
    differing = [
        c for i, c in enumerate(columns)
        if sorted(repr(_norm(r[i])) for r in pg_rows) != sorted(repr(_norm(r[i])) for r in duck_rows)
    ]
    sample = sorted({repr(_norm(r[columns.index(differing[0])])) for r in pg_rows}
                    ^ {repr(_norm(r[columns.index(differing[0])])) for r in duck_rows})[:4] if differing else []
    return f"columns {differing}, e.g. {sample}"


def test_postgres_sync_publishes_the_same_tables_as_duckdb(synced) -> None:
    url, _, pg_env, duck_path = synced

    employees = _pg_tables(url, "reporting")["dim_employee"][0]
    assert employees == _duck_tables(duck_path, "reporting")["dim_employee"][0] > 0
    # parity: every published table, row counts and a hash of the sorted rows
    pg_reporting, duck_reporting = _pg_tables(url, "reporting"), _duck_tables(duck_path, "reporting")
    assert set(pg_reporting) == set(duck_reporting)
    differing = {t for t in pg_reporting if pg_reporting[t] != duck_reporting[t]}
    assert not differing, {t: _first_difference(url, duck_path, t) for t in differing}
    assert _pg_tables(url, "restricted") == _duck_tables(duck_path.with_name("bridge.restricted.duckdb"), "restricted")
    # the audit trail is in Postgres too, for auditors
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute("select status, run_id from audit.publication")
            [(status, run_id)] = cur.fetchall()
            assert status == "published"
            cur.execute("select count(*) from audit.dq_result where severity = 'blocking'")
            assert cur.fetchone()[0] > 50
    finally:
        con.close()
    # the report site is built from what Postgres published, as it is from the DuckDB file
    page = (Path(pg_env["BRIDGE_WORK_DIR"]) / "report" / "index.html").read_text(encoding="utf-8")
    shown = re.search(r'id="publication-run-id"[^>]*>([^<]+)<', page)
    assert shown and shown.group(1) == run_id


def test_the_dimensions_the_reference_checks_look_keys_up_in_are_indexed_on_postgres(synced) -> None:
    """Without these, PostgreSQL runs each reference check as one scan of the dimension per fact row."""
    con = psycopg2.connect(synced[0])
    try:
        with con.cursor() as cur:
            cur.execute("select t.relname, a.attname from pg_index i join pg_class t on t.oid = i.indrelid "
                        "join pg_namespace n on n.oid = t.relnamespace "
                        "join pg_attribute a on a.attrelid = t.oid and a.attnum = any(i.indkey) "
                        "where n.nspname = 'reporting'")
            indexed = set(cur.fetchall())
    finally:
        con.close()
    assert {("dim_employee", "employee_number"), ("dim_objective", "objective_id"),
            ("dim_competency", "competency_id")} <= indexed


def test_what_postgres_published_matches_the_ground_truth(sim, synced) -> None:
    """The differential checks test_ground_truth.py makes of DuckDB, made of Postgres: people,
    identity links, title aliases, voided statements, the terminated-but-paid finding, orphans."""
    url = synced[0]
    pg = truth.postgres_query(url)
    [(run_id,)] = pg("select run_id from audit.publication where status = 'published'")
    truth.all_checks(sim.truth_dir, pg, pg, run_id)


def test_hr_reporting_cannot_read_salaries(synced) -> None:
    url, target, _, _ = synced
    admin = psycopg2.connect(url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("drop role if exists e2e_hr_analyst")
        cur.execute("create role e2e_hr_analyst login in role bridge_hr_reporting")
    admin.close()
    analyst = psycopg2.connect(**{**target.dsn_kwargs(), "user": "e2e_hr_analyst"})
    try:
        with analyst.cursor() as cur:
            cur.execute("select count(*) from reporting.dim_employee")
            assert cur.fetchone()[0] > 0
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), analyst.cursor() as cur:
            cur.execute("select annual_base_salary from restricted.fct_compensation")
    finally:
        analyst.close()


def _kill_when(proc: subprocess.Popen, reached, what: str, timeout: float = 600) -> None:
    """SIGKILL the sync's whole process group as soon as `reached()` says it is at `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if reached():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            return
        time.sleep(0.3)
    proc.kill()
    pytest.fail(f"the sync never reached {what} (exit {proc.poll()})")


def _in_dbt_build(proc: subprocess.Popen, url: str):
    """dbt build is running and has committed a first published model into `reporting__build`
    (the schema exists only while a build is on its way to a publication): well into it."""
    def reached() -> bool:
        found = subprocess.run(["pgrep", "-s", str(proc.pid), "-f", "dbt build"], capture_output=True, text=True,
                               check=False).stdout.strip()
        return bool(found) and bool(_pg_tables(url, "reporting__build"))
    return reached


def _waiting_to_swap(url: str):
    """The publish transaction has begun and waits for the published tables' locks."""
    def reached() -> bool:
        con = psycopg2.connect(url)
        try:
            with con.cursor() as cur:
                cur.execute("select count(*) from pg_locks where not granted and mode = 'AccessExclusiveLock'")
                return cur.fetchone()[0] > 0
        finally:
            con.close()
    return reached


@pytest.mark.parametrize("dialect", ["reference"], indirect=True)
def test_syncs_killed_mid_build_and_mid_publish_leave_the_published_state_and_the_next_run_completes(
    sim, synced,
) -> None:
    url, _, env, _ = synced
    before = _pg_tables(url, "reporting")

    def start() -> subprocess.Popen:
        return subprocess.Popen([*BRIDGE, "sync"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    building = start()
    _kill_when(building, _in_dbt_build(building, url), "dbt build")
    assert _pg_tables(url, "reporting") == before

    # An analyst's open transaction holds a published table, so the swap waits for its lock
    # (retrying, inside its transaction) and is killed there: mid-publish.
    reader = psycopg2.connect(url)
    try:
        with reader.cursor() as cur:
            cur.execute("select count(*) from reporting.dim_employee")
            publishing = start()
            _kill_when(publishing, _waiting_to_swap(url), "the publish swap")
            cur.execute("select count(*) from reporting.dim_employee")  # the reader was never disturbed
    finally:
        reader.rollback()
        reader.close()
    assert _pg_tables(url, "reporting") == before

    # The next run, three simulated days later, completes normally and carries test_pipeline.py's
    # incremental day to Postgres: voiding statements of targets published earlier arrive now,
    # and the people hired since are published.
    pg = truth.postgres_query(url)
    completions = {r[0] for r in pg("select statement_id from reporting.fct_learning_completion")}
    sim.advance_days(3)
    again = _sync(env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    truth.voiding_removed_earlier_completions(sim.truth_dir, pg, pg, completions)
    truth.employees_published(sim.truth_dir, pg)
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute("select status, count(*) from audit.pipeline_run group by 1 order by 1")
            statuses = dict(cur.fetchall())
            cur.execute("select count(*) from information_schema.schemata where right(schema_name, 5) = '__old'")
            leftovers = cur.fetchone()[0]
    finally:
        con.close()
    assert statuses == {"abandoned": 2, "succeeded": 2}  # both killed runs are on record as such
    assert leftovers == 0


def test_a_blocked_run_leaves_the_published_schemas_and_says_why_in_postgres(sim, synced, tmp_path) -> None:
    """Last in this module: the injected duplicate stays in the simulator."""
    url, _, env, _ = synced
    before = {s: _pg_tables(url, s) for s in ("reporting", "restricted")}
    sim.inject("duplicate_employee_number")

    blocked = _sync(env)

    assert blocked.returncode == 1, blocked.stdout[-3000:] + blocked.stderr[-3000:]
    assert {s: _pg_tables(url, s) for s in ("reporting", "restricted")} == before
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute("select run_id, status, blocked_by from audit.publication order by decided_at desc limit 1")
            run_id, status, blocked_by = cur.fetchone()
            cur.execute("select check_name from audit.dq_result where run_id = %s and severity = 'blocking' "
                        "and not success", (run_id,))
            failed = {r[0] for r in cur.fetchall()}
            cur.execute("select status from audit.pipeline_run where run_id = %s", (run_id,))
            run_status = cur.fetchone()[0]
    finally:
        con.close()
    check = "unique_stg_hris__users_employee_number"
    assert status == "blocked" and check in blocked_by and check in failed
    assert run_status == "blocked"
    # an auditor's machine has no work file: `bridge audit` reads Postgres' audit schema
    audit = subprocess.run([*BRIDGE, "audit", "--run-id", run_id], env={**env, "BRIDGE_WORK_DIR": str(tmp_path)},
                           capture_output=True, text=True, timeout=300, check=False)
    assert audit.returncode == 0, audit.stderr[-2000:]
    assert "BLOCKED" in audit.stdout and check in audit.stdout
