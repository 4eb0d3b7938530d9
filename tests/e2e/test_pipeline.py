"""The whole pipeline against the simulator on loopback: extract, build, check, publish.

The tests of this module run in order on one simulator and one warehouse: a first sync,
the same sync again, then bad data that must be blocked.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from tests.e2e import truth
from tests.e2e.conftest import published_value, table_fingerprints

pytestmark = [pytest.mark.slow, pytest.mark.simulator]


def _report_run_id(warehouse: Path) -> str:
    """The publication the report site shows (its index names it)."""
    import re

    page = (warehouse.parent / "report" / "index.html").read_text(encoding="utf-8")
    return re.search(r'id="publication-run-id"[^>]*>([^<]+)<', page).group(1)


def test_first_sync_publishes_every_employee_the_hris_has_shown(bridge_env, pilot_sim) -> None:
    from orchestration.cli import run_sync

    run_id, decision, _ = run_sync(trigger="test", quiet=True)
    assert decision.status == "published", decision.blocked_by
    truth.employees_published(pilot_sim.truth_dir, truth.duckdb_query(bridge_env))
    # every extract of the run is on record
    sources = {r[0] for r in published_value(
        bridge_env, "select distinct source from audit.source_extract where run_id = ?", [run_id])}
    assert sources == {"hris", "xapi", "lms", "checkins", "payroll"}
    # and the checks ran through all three engines
    engines = {r[0] for r in published_value(
        bridge_env, "select distinct engine from audit.dq_result where run_id = ?", [run_id])}
    assert {"great_expectations", "dbt", "sql"} <= engines
    # every contract table is published with every contract column, read back from the
    # files readers open (the main file and the owner-only restricted one)
    truth.contract_tables_published(truth.duckdb_query(bridge_env),
                                    truth.duckdb_query(bridge_env.with_name("bridge.restricted.duckdb")))
    # the publication wrote the report site and the run's Data Docs
    assert _report_run_id(bridge_env) == run_id
    assert (bridge_env.parent / "data_docs" / run_id / "index.html").exists()


def test_a_second_sync_leaves_the_same_published_data(bridge_env) -> None:
    from orchestration.cli import run_sync

    before = table_fingerprints(bridge_env)
    _, decision, _ = run_sync(trigger="test", quiet=True)
    assert decision.status == "published", decision.blocked_by
    assert table_fingerprints(bridge_env) == before


def test_days_later_a_voiding_statement_removes_a_completion_landed_earlier(bridge_env, pilot_sim) -> None:
    """The target arrived in an earlier run; its voiding statement arrives now."""
    from orchestration.cli import run_sync

    work = bridge_env.with_name("bridge.work.duckdb")
    before = {r[0] for r in published_value(bridge_env, "select statement_id from reporting.fct_learning_completion")}
    pilot_sim.advance_days(3)
    _, decision, _ = run_sync(trigger="test", quiet=True)
    assert decision.status == "published", decision.blocked_by
    truth.voiding_removed_earlier_completions(pilot_sim.truth_dir, truth.duckdb_query(bridge_env),
                                              truth.duckdb_query(work), before)
    # the people hired since the first sync are published too
    truth.employees_published(pilot_sim.truth_dir, truth.duckdb_query(bridge_env))


def test_a_payroll_file_resent_under_its_own_name_supersedes_and_can_be_withdrawn(bridge_env, pilot_sim,
                                                                                  capsys) -> None:
    """The vendor re-sends the latest export under its own name with one salary corrected (same
    period, same export stamp, other bytes): the night publishes with the correction and lists the
    superseded export; withdrawing the correction brings the first export back at the next sync."""
    from orchestration.cli import main, run_sync

    restricted = bridge_env.with_name("bridge.restricted.duckdb")
    inbox = Path(pilot_sim.env["PAYROLL_INBOX"])
    latest = max(inbox.glob("payroll_*.csv"), key=lambda p: (p.name[8:18], p.name[19:34]))
    period = latest.name[8:18]
    paid = {r[0]: r[1] for r in published_value(
        restricted, "select employee_number, annual_base_salary from restricted.fct_compensation "
        "where pay_period_end = ?", [period])}
    raw = latest.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header = [h.strip().lower() for h in rows[0]]
    number_at, salary_at = header.index("employee_number"), header.index("annual_base_salary")
    row = next(r for r in rows[1:] if r and (r[number_at].strip().lstrip("0") or "0") in paid)
    number = row[number_at].strip().lstrip("0") or "0"
    corrected = Decimal(paid[number]) + 1000
    row[salary_at] = f"{corrected:.2f}"
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    resent = latest.with_name(latest.name + ".tmp")
    resent.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    resent.replace(latest)                      # the vendor's drop: same name, other bytes

    run_id, decision, _ = run_sync(trigger="test", quiet=True)
    assert decision.status == "published", decision.blocked_by
    salary = "select annual_base_salary from restricted.fct_compensation where employee_number = ? " \
             "and pay_period_end = ?"
    assert published_value(restricted, salary, [number, period]) == [(corrected,)]
    listed = published_value(bridge_env, "select record_ref, reason from audit.quarantine "
                                         "where run_id = ? and stream = 'files'", [run_id])
    assert [ref.split(" ")[0] for ref, _ in listed] == [latest.name]
    assert listed[0][1].startswith("superseded:")

    capsys.readouterr()
    assert main(["payroll", "withdraw", str(latest), "--reason", "corrected salary sent by mistake"]) == 0
    assert "withdrawn: " + latest.name in capsys.readouterr().out
    _, decision, _ = run_sync(trigger="test", quiet=True)
    assert decision.status == "published", decision.blocked_by
    assert published_value(restricted, salary, [number, period]) == [(Decimal(paid[number]),)]
    latest.write_bytes(raw)                     # the inbox as the simulator made it (already landed)


def test_a_failing_blocking_check_blocks_publication_and_says_why(
    bridge_env, pilot_sim, webhook, monkeypatch, capsys
) -> None:
    from orchestration.cli import main, run_sync

    url, received = webhook
    monkeypatch.setenv("BRIDGE_ALERT_WEBHOOK_URL", url)
    before = table_fingerprints(bridge_env)
    report_before = _report_run_id(bridge_env)
    injected = pilot_sim.inject("duplicate_employee_number")
    number = str(injected["detail"]["employee_number"]).lstrip("0")

    run_id, decision, result = run_sync(trigger="test", quiet=True)

    assert decision.status == "blocked"
    assert any("employee_number" in name and "unique" in name for name in decision.blocked_by), decision.blocked_by
    # the published tables are exactly as they were, and so is the report site
    assert table_fingerprints(bridge_env) == before
    assert _report_run_id(bridge_env) == report_before
    # Dagster recorded the failed check and did not materialise `publish`
    failed_checks = [
        e.asset_check_evaluation_data.check_name
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not e.asset_check_evaluation_data.passed
    ]
    assert set(decision.blocked_by) & set(failed_checks)
    materialized = {e.asset_key.to_user_string() for e in result.all_events if e.is_step_materialization}
    assert "publication/published_warehouse" not in materialized
    # the audit trail and `bridge audit` say which check and why
    rows = published_value(
        bridge_env,
        "select check_name, unexpected_count from audit.dq_result "
        "where run_id = ? and severity = 'blocking' and success = false",
        [run_id],
    )
    assert {name for name, _ in rows} == set(decision.blocked_by)
    assert published_value(bridge_env, "select status from audit.publication where run_id = ?", [run_id]) == [
        ("blocked",)
    ]
    # every failed check names its keys: the dbt test that caught it names the duplicated number
    samples = published_value(
        bridge_env,
        "select check_name, sample_keys from audit.dq_result where run_id = ? and success = false "
        "and engine = 'dbt' and observed_value in ('fail', 'warn')", [run_id])
    assert samples and all(json.loads(keys) for _, keys in samples), [n for n, keys in samples if keys == "[]"]
    dbt_unique = [json.loads(keys) for name, keys in samples
                  if name.startswith("unique_") and name.endswith("employee_number")]
    assert dbt_unique and all(number in [k.lstrip("0") for k in keys] for keys in dbt_unique), dbt_unique
    capsys.readouterr()
    assert main(["audit", "--run-id", run_id]) == 0
    printed = capsys.readouterr().out
    assert "BLOCKED" in printed
    for name in decision.blocked_by:
        assert name in printed
    assert f"keys: {number}" in printed or f", {number}" in printed
    # and the team was told
    assert received and received[-1]["run_id"] == run_id
    assert set(received[-1]["blocking_checks"]) == set(decision.blocked_by)
