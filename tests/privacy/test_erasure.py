"""Erasure on request and retention, end to end on a published DuckDB warehouse.

The pilot organisation (the e2e fixtures' simulator) is synced and published; a person who is
everywhere (HRIS, payroll, LMS user, assessed and assessing, xAPI statements, check-ins,
reviews, observations) is erased with `bridge erase`; afterwards no table of any file, and no
byte of the DuckDB files, holds their identifiers; the others' rows are unchanged but for
pseudonymised references (and their name in the free text of an observation about someone
else); two more syncs do not bring them back; then a retention run erases
exactly the people terminated before the limit.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration import cli
from tests.e2e.conftest import bridge_env, pilot_sim  # noqa: F401  (module-scoped fixtures)
from tests.privacy.everywhere import PICK, assert_others_unchanged, duck_holders

pytestmark = [pytest.mark.slow, pytest.mark.simulator]

KEY = "test-pseudonym-key"

def _files(warehouse: Path) -> dict[str, Path]:
    stem = warehouse.name.removesuffix(".duckdb")
    return {"published": warehouse, "restricted": warehouse.with_name(f"{stem}.restricted.duckdb"),
            "work": warehouse.with_name(f"{stem}.work.duckdb")}


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _others_rows(path: Path, number: str) -> dict[str, Counter]:
    """Every published table with an employee_number: the other people's rows, as text."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("select table_schema, table_name from information_schema.columns "
                             "where column_name = 'employee_number' and table_schema in ('reporting', 'restricted')"
                             ).fetchall()
        return {f"{s}.{t}": Counter(r[0] for r in con.execute(
            f'select t::varchar from "{s}"."{t}" t where employee_number is distinct from ?', [number]).fetchall())
            for s, t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def synced(bridge_env, pilot_sim):  # noqa: F811
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BRIDGE_PSEUDONYM_KEY", KEY)
        mp.delenv("BRIDGE_RETENTION_DAYS_AFTER_TERMINATION", raising=False)
        mp.delenv("BRIDGE_PAYROLL_RETENTION_DAYS", raising=False)
        _, decision, _ = cli.run_sync(trigger="test", quiet=True)
        assert decision.status == "published"
        yield bridge_env, mp, pilot_sim


def test_erasure_retention(synced, capsys) -> None:
    warehouse, mp, sim = synced
    files = _files(warehouse)
    number, scim_id, email, full_name, _lms_id = _query(files["work"], PICK)[0]
    pattern = "|".join([re.escape(email.lower()), re.escape(full_name.lower()), re.escape(scim_id.lower()),
                        rf"\b0*{re.escape(number)}\b"])
    # they are there before, in every file and (as text) in the work file's bytes
    for name in ("published", "restricted", "work"):
        assert duck_holders(files[name], pattern), name
    byte_needles = [email.encode(), scim_id.encode(), full_name.encode()]
    assert any(n in files["work"].read_bytes() for n in byte_needles)
    others_before = _others_rows(warehouse, number) | _others_rows(files["restricted"], number)

    # the dry run on the published warehouse prints what would go and changes nothing
    assert cli.main(["erase", "--employee-number", number, "--reason", "DSAR 2026-17", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "raw.hris__users" in out and "would remove" in out and "dry run" in out
    assert email not in out and full_name not in out
    assert duck_holders(files["work"], pattern)

    assert cli.main(["erase", "--employee-number", number, "--reason", "DSAR 2026-17"]) == 0
    capsys.readouterr()
    for name in ("published", "restricted", "work"):
        assert duck_holders(files[name], pattern) == {}, name
        data = files[name].read_bytes()
        assert not [n for n in byte_needles if n in data], name
    # nor any other file beside them: report site versions, Data Docs, logs, dbt's artifacts
    assert not [p for p in warehouse.parent.rglob("*") if p.is_file() and p.stat().st_size < 200_000_000
                and any(n in p.read_bytes() for n in byte_needles)]
    erasure = _query(warehouse, "select trigger, reason, pseudonym, removed, pseudonymised from audit.erasure")
    assert len(erasure) == 1 and erasure[0][0] == "request" and erasure[0][1] == "DSAR 2026-17"
    alias = erasure[0][2]
    assert alias.startswith("erased-")
    assert '"raw.payroll__rows"' in erasure[0][3] and '"raw.xapi__statements"' in erasure[0][3]
    assert '"raw.lms__assessments"' in erasure[0][4]     # the ratings they gave others are kept
    assert '"raw.lms__observations:free_text"' in erasure[0][4]     # a colleague's observation named them
    # the ratings they gave keep the rated person's side, with the rater pseudonymised
    kept = _query(files["work"], "select count(*) from raw.lms__assessments "
                  "where json_extract_string(payload, '$.rater_user_id') = ?", [alias])[0][0]
    assert kept > 0

    # the others' rows: the ones that did not name the person are all still there, unchanged,
    # and nobody else gained or lost a row
    assert_others_unchanged(others_before, _others_rows(warehouse, number) | _others_rows(files["restricted"], number),
                            pattern)

    # two more syncs a week later (the first one a full SCIM pull, which serves everyone): the
    # sources still serve the person, the suppression list keeps them out
    sim.advance_days(7)
    mp.setenv("BRIDGE_AS_OF", sim.env["BRIDGE_AS_OF"])
    for _ in range(2):
        _, decision, _ = cli.run_sync(trigger="test", quiet=True)
        assert decision.status == "published"
    for name in ("published", "restricted", "work"):
        assert duck_holders(files[name], pattern) == {}, name
    suppressed = _query(files["work"], "select source, stream, sum(records) from audit.suppression group by all")
    assert ("hris", "users") in {(s, t) for s, t, _ in suppressed}

    # retention: the people terminated more than 90 days before the run's date go, nobody else
    as_of = date.fromisoformat(sim.env["BRIDGE_AS_OF"])
    cutoff = as_of - timedelta(days=90)
    employees = dict(_query(warehouse, "select employee_number, termination_date from reporting.dim_employee"))
    due = {e for e, t in employees.items() if t is not None and t < cutoff}
    assert due and len(due) < len(employees)
    payroll_cutoff = as_of - timedelta(days=60)
    assert _query(files["work"], "select count(*) from raw.payroll__rows where period_end < ?", [payroll_cutoff])[0][0]
    mp.setenv("BRIDGE_RETENTION_DAYS_AFTER_TERMINATION", "90")
    mp.setenv("BRIDGE_PAYROLL_RETENTION_DAYS", "60")
    _, decision, _ = cli.run_sync(trigger="test", quiet=True)
    assert decision.status == "published"
    after = {r[0] for r in _query(warehouse, "select employee_number from reporting.dim_employee")}
    assert after == set(employees) - due
    retained = _query(warehouse, "select count(*) from audit.erasure where trigger = 'retention'")[0][0]
    assert retained == len(due)
    assert not _query(files["work"], "select count(*) from raw.payroll__rows where period_end < ?",
                      [payroll_cutoff])[0][0]


def test_every_built_column_is_classified(synced) -> None:
    """The YAML lists every column the build made (the classification test reads the YAML only)."""
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "personal_data.py"
    spec = importlib.util.spec_from_file_location("personal_data", script)
    pd = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pd)
    listed = {(relation, column) for _, relation, column, *_ in pd.classification()}
    relations = {relation for relation, _ in listed}
    built = {(table if schema != "raw" else f"raw.{table}", column) for schema, table, column in _query(
        _files(synced[0])["work"], "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('raw', 'staging', 'intermediate', 'reporting', 'restricted')")}
    built = {(r, c) for r, c in built if r in relations}
    assert len({r for r, _ in built}) > 50
    assert not sorted(built - listed)
