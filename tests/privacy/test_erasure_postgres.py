"""Erasure in a PostgreSQL warehouse.

End to end, as test_erasure.py does on DuckDB: the pilot organisation is synced and published
to a real PostgreSQL; a person who is everywhere (HRIS, payroll, LMS user, assessed and
assessing, statements, check-ins, reviews, observations, and named in an observation someone
else wrote about a third person) is erased with `bridge erase`; afterwards no table of any
schema in Postgres, nor the work file (its bytes included), holds their employee number,
e-mail, name or SCIM id; the raw tables that lost them were rewritten by VACUUM FULL (new
relation files; the old ones empty or gone after a checkpoint, the new ones without their
bytes); the others' published rows are unchanged but for pseudonymised references; two more
syncs do not bring them back; a retention run erases exactly the people past the limit, in
Postgres too.

A smaller test checks the raw and audit mirror of a hand-made work file."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import duckdb
import psycopg2
import pytest

from connectors.landing import DuckDBLander, RecordSpec
from orchestration.lib import erasure, pg_warehouse
from tests.conftest import pg_rows as _pg
from tests.conftest import scratch_database
from tests.e2e.conftest import pilot_sim  # noqa: F401  (a module-scoped simulator)
from tests.privacy.everywhere import PICK, assert_others_unchanged, duck_holders

pytestmark = pytest.mark.postgres

KEY = "test-pseudonym-key"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def _pg_holders(url: str, pattern: str) -> dict[str, int]:
    """Rows of every table of every schema whose text (every column) matches `pattern`."""
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute("select table_schema, table_name from information_schema.tables "
                        "where table_type = 'BASE TABLE' and table_schema <> all(%s)", (list(SYSTEM_SCHEMAS),))
            found = {}
            for schema, table in cur.fetchall():
                cur.execute(f'select count(*) from "{schema}"."{table}" t where lower(t::text) ~ %s', (pattern,))
                n = cur.fetchone()[0]
                if n:
                    found[f"{schema}.{table}"] = n
            return found
    finally:
        con.close()


def _others_rows(url: str, number: str) -> dict[str, Counter]:
    """Every published table with an employee_number: the other people's rows, as text."""
    tables = _pg(url, "select table_schema, table_name from information_schema.columns "
                      "where column_name = 'employee_number' and table_schema in ('reporting', 'restricted')")
    return {f"{s}.{t}": Counter(r[0] for r in _pg(
        url, f'select t::text from "{s}"."{t}" t where employee_number is distinct from %s', (number,)))
        for s, t in tables}


def _relation_files(url: str, tables: list[str]) -> dict[str, list[str]]:
    """The files each table's rows live in, relative to the data directory: its heap first, then
    its TOAST table's (long values), if it has one."""
    return {t: [p for (p,) in _pg(url, "select pg_relation_filepath(%s::regclass)", (t,))]
            + [p for (p,) in _pg(url, "select pg_relation_filepath(reltoastrelid) from pg_class "
                                      "where oid = %s::regclass and reltoastrelid <> 0", (t,))]
            for t in tables}


def _file_bytes(url: str, path: str) -> bytes:
    """A relation file as the server has it on disk (after a checkpoint), every segment: the
    server's own functions, so the test reads the bytes wherever the server runs."""
    con = psycopg2.connect(url)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute("checkpoint")
            data, segment = b"", 0
            while True:
                name = path if segment == 0 else f"{path}.{segment}"
                cur.execute("select size from pg_stat_file(%s, true)", (name,))
                if cur.fetchone()[0] is None:       # no such file (an old one, unlinked)
                    return data
                cur.execute("select pg_read_binary_file(%s)", (name,))
                data += bytes(cur.fetchone()[0])
                segment += 1
    finally:
        con.close()


@pytest.fixture(scope="module")
def pg_synced(pg_server, pilot_sim, tmp_path_factory):  # noqa: F811
    from orchestration import cli

    with scratch_database(pg_server, "bridge_erasure") as target, pytest.MonkeyPatch.context() as mp:
        url = target.url(with_password=True)
        work_dir = tmp_path_factory.mktemp("pg-erasure")
        for key, value in pilot_sim.env.items():
            mp.setenv(key, value)
        mp.setenv("BRIDGE_WAREHOUSE", url)
        mp.setenv("BRIDGE_WORK_DIR", str(work_dir))
        mp.setenv("BRIDGE_HTTP_READ_TIMEOUT", "10")
        mp.setenv("BRIDGE_PSEUDONYM_KEY", KEY)
        for variable in ("BRIDGE_ALERT_WEBHOOK_URL", "BRIDGE_RETENTION_DAYS_AFTER_TERMINATION",
                         "BRIDGE_PAYROLL_RETENTION_DAYS"):
            mp.delenv(variable, raising=False)
        _, decision, _ = cli.run_sync(trigger="test", quiet=True)
        assert decision.status == "published", decision
        yield url, work_dir, mp, pilot_sim


@pytest.mark.slow
@pytest.mark.simulator
def test_erasure_and_retention_on_a_published_postgres_warehouse(pg_synced, capsys) -> None:
    from orchestration import cli

    url, work_dir, mp, sim = pg_synced
    work = work_dir / "bridge.work.duckdb"
    [(number, scim_id, email, full_name, _lms_id)] = _pg(url, PICK)
    pattern = "|".join([re.escape(email.lower()), re.escape(full_name.lower()), re.escape(scim_id.lower()),
                        rf"\y0*{re.escape(number)}\y"])
    duck_pattern = pattern.replace(r"\y", r"\b")        # the same word boundary in DuckDB and Python
    needles = [email.encode(), scim_id.encode(), full_name.encode()]
    # they are there before: published, raw, audit, in Postgres and in the work file
    before = _pg_holders(url, pattern)
    assert {"reporting.dim_employee", "restricted.fct_compensation", "raw.hris__users", "raw.lms__observations",
            "raw.payroll__rows", "raw.xapi__statements", "raw.checkins__checkins"} <= set(before), before
    assert duck_holders(work, duck_pattern)
    others_before = _others_rows(url, number)
    raw_tables = sorted(f"raw.{t}" for (t,) in _pg(
        url, "select table_name from information_schema.tables where table_schema = 'raw'"))
    files_before = _relation_files(url, raw_tables)

    assert cli.main(["erase", "--employee-number", number, "--reason", "DSAR 2026-18", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove" in out and "raw.hris__users" in out and "free text" in out and "dry run" in out
    assert email not in out and full_name not in out
    assert _pg_holders(url, pattern) == before

    assert cli.main(["erase", "--employee-number", number, "--reason", "DSAR 2026-18"]) == 0
    assert "republished" in capsys.readouterr().out
    assert _pg_holders(url, pattern) == {}
    assert duck_holders(work, duck_pattern) == {}
    assert not [n for n in needles if n in work.read_bytes()]
    assert not [p for p in work_dir.rglob("*") if p.is_file() and p.stat().st_size < 200_000_000
                and any(n in p.read_bytes() for n in needles)]
    [(trigger, reason, alias, removed, pseudonymised)] = _pg(
        url, "select trigger, reason, pseudonym, removed, pseudonymised from audit.erasure")
    assert (trigger, reason) == ("request", "DSAR 2026-18") and alias.startswith("erased-")
    assert '"raw.lms__observations:free_text"' in pseudonymised       # the colleague's observation
    assert '"raw.lms__assessments"' in pseudonymised                  # the ratings they gave are kept
    assert _pg(url, "select count(*) from raw.lms__assessments where payload ->> 'rater_user_id' = %s",
               (alias,))[0][0] > 0
    assert _pg(url, "select count(*) from raw.lms__observations where payload ->> 'text' like %s",
               (f"%{alias}%",))[0][0] > 0

    # vacuumed: every raw table the erasure changed lives in new files; the old ones are empty or
    # gone, and the new ones hold none of the person's bytes
    changed = sorted(t for t in re.findall(r'"(raw\.[a-z_]+)"', removed + pseudonymised))
    assert {"raw.hris__users", "raw.payroll__rows", "raw.lms__observations"} <= set(changed)
    files_after = _relation_files(url, changed)
    for table in changed:
        assert files_after[table][0] != files_before[table][0], table
        for old in files_before[table]:
            assert _file_bytes(url, old) == b"", (table, old)
        assert _file_bytes(url, files_after[table][0]), table       # the others' rows are in the new heap
        for new in files_after[table]:
            data = _file_bytes(url, new)
            assert not [n for n in needles if n in data], (table, new)

    # nor do the planner's statistics (most common values, histograms) sampled before the erasure
    assert _pg(url, "select schemaname, tablename, attname from pg_stats where schemaname <> all(%s) and "
                    "lower(coalesce(most_common_vals::text, '') || ' ' || coalesce(histogram_bounds::text, '')) ~ %s",
               (list(SYSTEM_SCHEMAS), pattern)) == []

    # the others' rows: those that did not name the person are all still there, unchanged, and
    # nobody else gained or lost a row
    assert_others_unchanged(others_before, _others_rows(url, number), duck_pattern)

    # two more syncs a week later (the first a full SCIM pull): the sources still serve the
    # person, the suppression list keeps them out
    sim.advance_days(7)
    mp.setenv("BRIDGE_AS_OF", sim.env["BRIDGE_AS_OF"])
    for _ in range(2):
        _, decision, _ = cli.run_sync(trigger="test", quiet=True)
        assert decision.status == "published", decision
    assert _pg_holders(url, pattern) == {}
    assert duck_holders(work, duck_pattern) == {}
    assert ("hris", "users") in {(s, t) for s, t in _pg(url, "select source, stream from audit.suppression")}

    # retention: the people terminated more than 90 days before the run's date go, nobody else,
    # from Postgres' raw tables too; payroll rows older than 60 days go
    as_of = date.fromisoformat(sim.env["BRIDGE_AS_OF"])
    cutoff = as_of - timedelta(days=90)
    employees = dict(_pg(url, "select employee_number, termination_date from reporting.dim_employee"))
    due = {e for e, t in employees.items() if t is not None and t < cutoff}
    assert due and len(due) < len(employees)
    payroll_cutoff = as_of - timedelta(days=60)
    old_payroll = "select count(*) from raw.payroll__rows where period_end < %s"
    assert _pg(url, old_payroll, (payroll_cutoff,))[0][0]
    mp.setenv("BRIDGE_RETENTION_DAYS_AFTER_TERMINATION", "90")
    mp.setenv("BRIDGE_PAYROLL_RETENTION_DAYS", "60")
    _, decision, _ = cli.run_sync(trigger="test", quiet=True)
    assert decision.status == "published", decision
    after = {r[0] for r in _pg(url, "select employee_number from reporting.dim_employee")}
    assert after == set(employees) - due
    assert _pg(url, "select count(*) from audit.erasure where trigger = 'retention'")[0][0] == len(due)
    assert not _pg(url, old_payroll, (payroll_cutoff,))[0][0]
    raw_numbers = {str(e).lstrip("0") for (e,) in _pg(
        url, f"select payload -> '{ENT}' ->> 'employeeNumber' from raw.hris__users")}
    assert not {e.lstrip("0") for e in due} & raw_numbers


USERS = [
    {"id": "scim-ann", "userName": "ann.lee@example.org", "name": {"givenName": "Ann", "familyName": "Lee"},
     "emails": [{"value": "Ann.Lee@example.org", "primary": True}], ENT: {"employeeNumber": "000427"}},
    {"id": "scim-bob", "userName": "bob.ray@example.org", "emails": [{"value": "bob.ray@example.org"}],
     ENT: {"employeeNumber": "5120", "manager": {"value": "scim-ann", "displayName": "Ann Lee"}}},
]
NEEDLES = ("scim-ann", "ann.lee@example.org", "Ann Lee", "lms-ann", "000427")


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    with scratch_database(pg_server, "bridge_privacy") as db:
        yield db.url(with_password=True)


def _holders(pg: psycopg2.extensions.connection) -> dict[str, int]:
    found = {}
    with pg.cursor() as cur:
        cur.execute("select table_schema, table_name from information_schema.tables "
                    "where table_schema in ('raw', 'audit') and table_type = 'BASE TABLE'")
        for schema, table in cur.fetchall():
            cur.execute(f'select count(*) from "{schema}"."{table}" t where '
                        + " or ".join(["t::text ilike %s"] * len(NEEDLES)), [f"%{n}%" for n in NEEDLES])
            n = cur.fetchone()[0]
            if n:
                found[f"{schema}.{table}"] = n
    return found


def test_erasure_reaches_postgres(tmp_path, pg_url) -> None:
    duck = duckdb.connect(str(tmp_path / "bridge.work.duckdb"))
    lander = DuckDBLander(duck)
    lander.land_batch("hris", "users", USERS, "r1", spec=RecordSpec(updated_path=None))
    lander.land_batch("lms", "users", [{"id": "lms-ann", "email": "ann.lee@example.org", "employee_number": "427"},
                                       {"id": "lms-bob", "email": "bob.ray@example.org", "employee_number": "5120"}],
                      "r1", spec=RecordSpec())
    lander.land_batch("lms", "assessments", [
        {"id": "a1", "subject_user_id": "lms-ann", "rater_user_id": "lms-bob", "rating": 3},
        {"id": "a2", "subject_user_id": "lms-bob", "rater_user_id": "lms-ann", "rating": 4}], "r1",
        spec=RecordSpec())
    lander.quarantine("r1", "hris", "users", [("scim-ann", "bad hireDate")])
    pg_warehouse.mirror_raw(duck, pg_url)
    pg_warehouse.mirror_audit(duck, pg_url)
    from orchestration.lib.postgres.connection import parse_warehouse_url

    pg = psycopg2.connect(**parse_warehouse_url(pg_url).dsn_kwargs())
    try:
        assert set(_holders(pg)) >= {"raw.hris__users", "raw.lms__users", "raw.lms__assessments",
                                     "audit.quarantine"}
        with pg.cursor() as cur:
            cur.execute("select pg_relation_filenode('raw.hris__users')")
            filenode = cur.fetchone()[0]
        pg.commit()

        result = erasure.erase(duck, b"key", "427", "DSAR 7", run_id="e1")
        erasure.erase_postgres(duck, pg_url, result)

        assert _holders(pg) == {}
        with pg.cursor() as cur:
            cur.execute("select payload -> %s -> 'manager' ->> 'value' from raw.hris__users", (ENT,))
            assert cur.fetchall() == [(result.pseudonym,)]        # Bob's record keeps his side
            cur.execute("select record_id, payload ->> 'rater_user_id' from raw.lms__assessments")
            assert cur.fetchall() == [("a2", result.pseudonym)]
            cur.execute("select record_ref from audit.quarantine")
            assert cur.fetchall() == [(result.pseudonym,)]
            cur.execute("select pg_relation_filenode('raw.hris__users')")
            assert cur.fetchone()[0] != filenode                  # VACUUM FULL rewrote the table
    finally:
        pg.close()
        duck.close()
