"""The dbt project built over tests/dbt/raw_fixture.py: every value asserted here is
worked out by hand from the fixture's records and docs/contract.md section 3."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from dbt_helpers import EXPECTED_FAILURES

CONTRACT_TABLES = json.loads((Path(__file__).parents[1] / "fixtures" / "contract_tables.json").read_text())


def test_build_ran_every_node_and_all_unit_tests_passed(dbt_build):
    results = dbt_build.run_results["results"]
    statuses = {r["status"] for r in results if r["unique_id"].split(".")[2] not in EXPECTED_FAILURES}
    assert statuses <= {"success", "pass", "warn"}, statuses
    assert not [r for r in results if r["status"] == "skipped"]     # the failing test stops nothing
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 13
    assert all(r["status"] == "pass" for r in unit), [r["unique_id"] for r in unit if r["status"] != "pass"]


@pytest.mark.parametrize(
    ("schema", "table"),
    [(schema, table) for schema, tables in CONTRACT_TABLES.items() for table in tables],
)
def test_published_table_has_every_contract_column(dbt_build, schema, table):
    actual = [r[0] for r in dbt_build.query(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table])]
    assert actual, f"{schema}.{table} was not built"
    missing = [c for c in CONTRACT_TABLES[schema][table] if c not in actual]
    assert not missing, f"{schema}.{table} lacks {missing}"
    # contract columns come first, in contract order (more columns are welcome after them)
    assert actual[: len(CONTRACT_TABLES[schema][table])] == CONTRACT_TABLES[schema][table]


def test_contract_tables_are_materialised_as_tables(dbt_build):
    kinds = dict(dbt_build.query(
        "select table_schema || '.' || table_name, table_type from information_schema.tables "
        "where table_schema in ('reporting', 'restricted')"))
    for schema, tables in CONTRACT_TABLES.items():
        for table in tables:
            assert kinds.get(f"{schema}.{table}") == "BASE TABLE"


def test_docs_catalog_describes_published_tables(dbt_build):
    nodes = dbt_build.catalog["nodes"]
    assert "model.hris_lms_bridge.dim_employee" in nodes
    assert "model.hris_lms_bridge.fct_compensation" in nodes
    assert nodes["model.hris_lms_bridge.fct_compensation"]["metadata"]["schema"] == "restricted"


# ---- identity -------------------------------------------------------------------------

def test_leading_zero_lms_user_resolves_by_employee_number(dbt_build):
    assert dbt_build.one(
        "select employee_number, match_method, reason from intermediate.int_identity__links "
        "where source_system = 'lms' and source_key = '1'") == ("1001", "employee_number", None)
    # no employee number, mixed-case email with white space -> email match
    assert dbt_build.one(
        "select employee_number, match_method from intermediate.int_identity__links "
        "where source_system = 'lms' and source_key = '2'") == ("1002", "email")


def test_hris_email_is_hashed_as_written_and_lower_cased(dbt_build):
    # Alice's work address is " Alice.A@Corp.com " in the HRIS: an LRS may hash it in that case
    written, lower = (hashlib.sha1(f"mailto:{e}".encode()).hexdigest() for e in ("Alice.A@Corp.com", "alice.a@corp.com"))
    assert dbt_build.one(
        "select mbox_sha1sum, mbox_sha1sum_as_written from intermediate.int_identity__emails "
        "where employee_number = '1001'") == (lower, written)


def test_xapi_actors_resolve_by_mbox_account_and_sha1(dbt_build):
    rows = dict(dbt_build.query(
        "select source_key, match_method from intermediate.int_identity__links "
        "where source_system = 'xapi' and employee_number is not null"))
    assert rows["mbox:mailto:alice.a@corp.com"] == "mbox"
    assert rows["account:https://hr.corp.example|01002"] == "account"
    assert any(k.startswith("mbox_sha1sum:") and v == "mbox_sha1sum" for k, v in rows.items())
    # an account under another homePage is not an employee number
    assert dbt_build.one(
        "select reason from reporting.identity_exception where source_key = 'account:https://other.example|1001'"
    ) == ("no_match",)


def test_every_source_record_is_resolved_or_an_exception(dbt_build):
    per_source = {
        "hris": "select count(*) from staging.stg_hris__users",
        "lms": "select count(*) from staging.stg_lms__users",
        # source keys are the values as sent: '001001' and '1001' are two payroll records
        "payroll": "select count(distinct employee_number_raw) from staging.stg_payroll__rows",
        "xapi": "select count(distinct actor_key) from staging.stg_xapi__statements",
        "checkins": "select count(distinct e) from (select owner_email_raw as e from staging.stg_checkins__objectives "
                    "union all select employee_email_raw from staging.stg_checkins__checkins "
                    "union all select manager_email_raw from staging.stg_checkins__checkins) as emails",
    }
    for source, sql in per_source.items():
        records = dbt_build.one(sql)[0]
        resolved = dbt_build.one(
            "select count(*) from intermediate.int_identity__links where source_system = ? and employee_number is not null",
            [source])[0]
        exceptions = dbt_build.one("select count(*) from reporting.identity_exception where source_system = ?",
                                   [source])[0]
        assert resolved + exceptions == records, source
    exceptions = set(dbt_build.query("select source_system, source_key, reason from reporting.identity_exception"))
    assert ("payroll", "9999", "no_match") in exceptions
    assert ("checkins", "shared@corp.com", "ambiguous") in exceptions
    assert ("lms", "4", "no_match") in exceptions
    assert ("hris", "scim-5", "no_match") in exceptions
    assert set(dbt_build.query(
        "select source_key, employee_number from intermediate.int_identity__links where source_system = 'payroll' "
        "and employee_number = '1001'")) == {("001001", "1001"), ("1001", "1001")}
    # 'Bob@Corp.com' and 'bob@corp.com' are two check-in records of the same employee
    assert dbt_build.query(
        "select distinct employee_number from intermediate.int_identity__links where source_system = 'checkins' "
        "and lower(source_key) = 'bob@corp.com'") == [("1002",)]


# ---- employees ------------------------------------------------------------------------

def test_scim_user_absent_from_full_pull_is_terminated(dbt_build):
    row = dbt_build.one(
        "select termination_date, termination_reason, is_active, in_payroll from reporting.dim_employee "
        "where employee_number = '1003'")
    assert row == (date(2026, 6, 15), "absent_from_source", False, True)
    # still paid in the latest period: an audit finding, listed by employee number
    assert dbt_build.query("select employee_number from reporting.rpt_terminated_paid") == [("1003",)]


def test_dim_employee_email_manager_and_presence(dbt_build):
    row = dbt_build.one(
        "select email, manager_employee_number, in_lms, canonical_job_title, job_family from reporting.dim_employee "
        "where employee_number = '1002'")
    assert row == ("bob@corp.com", "1001", True, "Software Engineer", "Engineering")
    # primary absent: the first work email, trimmed and lower-cased
    assert dbt_build.one("select email from reporting.dim_employee where employee_number = '1001'") == (
        "alice.a@corp.com",)
    # the user without an employee number is an exception, not an employee
    assert dbt_build.one("select count(*) from reporting.dim_employee where scim_id = 'scim-5'") == (0,)


def test_employee_history_collapses_same_day_and_merges_untracked_changes(dbt_build):
    rows = dbt_build.query(
        "select valid_from, valid_to, is_current, canonical_job_title, fte from reporting.dim_employee_history "
        "where employee_number = '1002' order by valid_from")
    assert rows == [
        (date(2026, 1, 10), date(2026, 2, 1), False, "Junior Software Engineer", Decimal(1)),
        # two versions on 2026-02-01 collapse to the last (fte 0.8); the 2026-03-01 display-name change merges
        (date(2026, 2, 1), None, True, "Software Engineer", Decimal("0.8")),
    ]
    assert dbt_build.query(
        "select valid_from, is_active from reporting.dim_employee_history where employee_number = '1003' "
        "order by valid_from") == [(date(2026, 1, 10), True), (date(2026, 6, 15), False)]


# ---- titles ---------------------------------------------------------------------------

def test_title_aliases_resolve_exact_normalised_crosswalk_unmapped(dbt_build):
    aliases = {(s, t): (c, m) for s, t, c, m in dbt_build.query(
        "select source_system, source_title, canonical_job_title, match_method from reporting.job_title_alias")}
    assert aliases[("payroll", "People Partner")] == ("HR Manager", "crosswalk")
    assert aliases[("payroll", "HR Mgr")] == ("HR Manager", "normalised")
    assert aliases[("payroll", "Sr. Software Engineer")] == ("Senior Software Engineer", "normalised")
    assert aliases[("lms", "Snr. Software Eng")] == ("Senior Software Engineer", "normalised")
    assert aliases[("hris", "Data Analyst")] == ("Data Analyst", "exact")
    assert aliases[("lms", "Chief Happiness Officer")] == (None, "unmapped")


def test_job_title_package_is_the_most_paid_and_two_packages_are_a_finding(dbt_build):
    packages = dict(dbt_build.query("select canonical_job_title, remuneration_package from reporting.dim_job_title"))
    assert packages["Senior Software Engineer"] == "PKG-A"
    assert packages["HR Manager"] == "PKG-D"  # paid to 'HR Mgr' and to the crosswalked 'People Partner'
    assert packages["Software Engineer"] == "PKG-B"  # PKG-B and PKG-X once each: the tie goes to the first
    assert dbt_build.query(
        "select canonical_job_title, package_count from reporting.rpt_title_package_finding") == [
        ("Software Engineer", 2)]
    assert dbt_build.one(
        "select active_headcount from reporting.dim_job_title where canonical_job_title = 'Data Analyst'") == (2,)


# ---- payroll --------------------------------------------------------------------------

def test_later_payroll_export_supersedes_the_earlier(dbt_build):
    rows = dbt_build.query(
        "select pay_period_end, annual_base_salary, canonical_job_title from restricted.fct_compensation "
        "where employee_number = '1001' order by pay_period_end")
    assert rows == [
        (date(2026, 5, 31), Decimal(95000), "Senior Software Engineer"),
        (date(2026, 6, 30), Decimal(100000), "Senior Software Engineer"),
    ]
    # which export of each period counts, and why the others do not
    files = dict(dbt_build.query("select file_name || ' ' || cast(landed_at as varchar), file_status "
                                 "from staging.stg_payroll__files"))
    assert files == {
        "payroll_2026-05-31_20260601T000000.csv 2026-07-02 00:00:00": "current",
        "payroll_2026-05-31_20260605T000000.csv 2026-07-02 00:00:00": "withdrawn",
        "payroll_2026-06-30_20260701T000000.csv 2026-07-02 00:00:00": "superseded",
        # the same name and stamp twice: the later landed counts
        "payroll_2026-06-30_20260702T000000.csv 2026-07-01 23:00:00": "superseded",
        "payroll_2026-06-30_20260702T000000.csv 2026-07-02 00:00:00": "current",
    }


def test_headcount_reconciliation_by_cost_center(dbt_build):
    rows = {r[0]: r[1:] for r in dbt_build.query(
        "select cost_center, hris_active, payroll_active, matched, hris_only, payroll_only "
        "from reporting.rpt_headcount_reconciliation")}
    assert rows["CC10"] == (2, 2, 2, 0, 0)
    assert rows["CC20"] == (1, 2, 1, 0, 1)  # 1003 is paid but terminated in the HRIS
    assert rows["CC30"] == (2, 2, 1, 1, 1)  # 1007 unpaid, 9999 unknown to the HRIS


# ---- learning -------------------------------------------------------------------------

def test_voided_statement_never_appears(dbt_build):
    ids = {r[0] for r in dbt_build.query("select statement_id from reporting.fct_learning_completion")}
    assert "s-4" not in ids and "s-5" not in ids
    assert {"s-1", "s-3", "s-8"} <= ids
    assert "s-2" not in ids  # attempted is not a completion event
    assert dbt_build.one(
        "select verb, duration_minutes, employee_number, course_id from reporting.fct_learning_completion "
        "where statement_id = 's-1'") == ("completed", 90.0, "1001", "10")


def test_training_status(dbt_build):
    rows = {r[0]: r[1:] for r in dbt_build.query(
        "select assignment_id, employee_number, status, days_overdue, compliance from reporting.fct_training_assignment")}
    assert rows["1"] == ("1001", "completed", 0, False)
    assert rows["2"] == ("1002", "in_progress", 0, False)
    # the pass predates the assignment; due 2026-04-30, as of 2026-06-30
    assert rows["3"] == ("1004", "overdue", 61, True)
    # its only completion was voided
    assert rows["4"] == ("1002", "not_started", 0, False)


# ---- competencies ---------------------------------------------------------------------

def test_competency_gaps(dbt_build):
    rows = {(r[0], r[1]): r[2:] for r in dbt_build.query(
        "select employee_number, competency_id, required_level, assessed_level, gap, gap_status, "
        "recommended_course_id, recommended_course_completed from reporting.fct_competency_gap")}
    # Tech profile (level 4) beats the organisation-wide one (3, plus SQL); latest cycle has no manager
    # rating, so peer 3 and direct report 4 average 3.5; courses crs-105 and crs-99 tie, the lowest
    # id as text wins (a number cast would fail on these ids, or pick 99 before 105)
    assert rows[("1002", "1")] == (4, 3.5, 0.5, "gap", "crs-105", False)
    assert ("1002", "2") not in rows
    assert rows[("1001", "1")] == (2, 3, 0, "met", "10", True)
    assert rows[("1004", "2")] == (2, None, None, "unassessed", None, None)
    # the Sales framework's competency does not apply to a Data Analyst in Tech
    assert ("1006", "3") not in rows and ("1006", "2") in rows


# ---- objectives -----------------------------------------------------------------------

def test_orphans_listed_and_cycles_excluded(dbt_build):
    objectives = {r[0]: r[1:] for r in dbt_build.query(
        "select objective_id, is_orphan, root_objective_id, depth from reporting.dim_objective")}
    assert objectives["5"] == (True, "5", 0)
    assert objectives["2"] == (False, "1", 1)
    assert "6" not in objectives and "7" not in objectives
    assert set(dbt_build.query("select objective_id, reason from reporting.rpt_objective_exception")) == {
        ("5", "orphan"), ("6", "cycle"), ("7", "cycle")}
    # the cycle fails the blocking test (nothing would be published); the orphan only warns
    status = {r["unique_id"].split(".")[2]: r["status"] for r in dbt_build.run_results["results"]}
    assert status["objective_cascade_has_no_cycles"] == "fail"
    assert status["objective_orphans_listed"] == "warn"


def test_parent_progress_is_weighted_mean_of_non_cancelled_children(dbt_build):
    children = dbt_build.query(
        "select o.weight, p.progress_pct from reporting.dim_objective as o "
        "join reporting.fct_objective_progress as p using (objective_id) "
        "where o.parent_objective_id = '1' and o.status <> 'cancelled'")
    expected = sum(float(w) * p for w, p in children) / sum(float(w) for w, _ in children)
    parent = dbt_build.one(
        "select progress_pct, forecast_completion_date, risk_status from reporting.fct_objective_progress "
        "where objective_id = '1'")
    assert len(children) == 2  # the cancelled child is left out
    assert parent[0] == pytest.approx(expected) and parent[0] == 55
    assert parent[1:] == (date(2026, 8, 20), "on_track")


def test_objective_risk(dbt_build):
    risk = dict(dbt_build.query("select objective_id, risk_status from reporting.fct_objective_progress"))
    assert risk == {"1": "on_track", "2": "on_track", "3": "done", "4": "at_risk", "5": "no_data",
                    "8": "off_track", "9": "at_risk"}


def test_every_published_column_is_described(dbt_build):
    manifest = json.loads((dbt_build.project_dir / "target" / "manifest.json").read_text())
    undocumented = []
    for node_id, node in dbt_build.catalog["nodes"].items():
        if node["metadata"]["schema"] not in ("reporting", "restricted"):
            continue
        model = manifest["nodes"][node_id]
        assert model["description"], node_id
        described = {name for name, col in model["columns"].items() if col.get("description")}
        undocumented += [f"{node_id}.{c}" for c in node["columns"] if c not in described]
    assert not undocumented, undocumented
