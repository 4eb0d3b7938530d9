"""GX suites: one outcome per spec, clean data passes, each kind of bad data fails the right check."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import duckdb
import pytest
from dq_fixtures import EMAILS, NOW, SALARIES

from orchestration.lib.quality.suites import (
    SUITES,
    SuiteRun,
    check_specs,
    run_suite,
    run_suite_detailed,
    suites_for_table,
)


def test_check_specs_need_neither_gx_nor_a_database() -> None:
    code = (
        "import sys, duckdb\n"
        "def refuse(*args, **kwargs):\n"
        "    raise RuntimeError('check_specs opened a database')\n"
        "duckdb.connect = refuse\n"
        "from orchestration.lib.quality.suites import check_specs\n"
        "print(len(check_specs()), 'great_expectations' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) == len(check_specs()) > 100
    assert out[1] == "False"  # GX is imported lazily, only when a suite runs


def test_check_names_are_unique_and_bound_to_their_suite_table() -> None:
    specs = check_specs()
    names = [s.check_name for s in specs]
    assert len(names) == len(set(names))
    assert {s.severity for s in specs} == {"blocking", "warn"}
    for name, suite in SUITES.items():
        assert all(s.target_table == suite.target_table for s in check_specs(name))
    assert suites_for_table("reporting.dim_employee") == ["reporting__dim_employee"]
    assert suites_for_table("raw.hris__users") == ["raw__hris__users"]
    assert suites_for_table("reporting.nope") == []
    with pytest.raises(KeyError, match="unknown quality suite"):
        check_specs("no_such_suite")


def test_clean_database_passes_every_suite_with_one_outcome_per_spec(clean_runs: list[SuiteRun]) -> None:
    assert [r.suite_name for r in clean_runs] == list(SUITES)
    for run in clean_runs:
        specs = check_specs(run.suite_name)
        assert [(o.check_name, o.target_table, o.severity) for o in run.outcomes] == [
            (s.check_name, s.target_table, s.severity) for s in specs
        ], run.suite_name
        failed = [(o.check_name, o.observed_value) for o in run.outcomes if not o.success]
        assert failed == [], run.suite_name
        assert all(o.engine == "great_expectations" and o.unexpected_count == 0 for o in run.outcomes)
        assert len(run.gx_results) == len(SUITES[run.suite_name].frames)


# (mutation, suite, {failing check: (unexpected_count, sample_keys)})
BAD_DATA = {
    "duplicate_employee": (
        "insert into reporting.dim_employee select * from reporting.dim_employee where employee_number = '1002'",
        "reporting__dim_employee", {"dim_employee__employee_number_unique": (2, ["1002"])}),
    "unknown_manager": (
        "update reporting.dim_employee set manager_employee_number = '7777' where employee_number = '1003'",
        "reporting__dim_employee", {"dim_employee__manager_in_dim_employee": (1, ["1003"])}),
    "negative_gap": (
        "update reporting.fct_competency_gap set gap = -1 where employee_number = '1003'",
        "reporting__fct_competency_gap", {"fct_competency_gap__gap_not_negative": (1, ["1003|C1"])}),
    "gap_status_out_of_domain": (
        "update reporting.fct_competency_gap set gap_status = 'bogus' where employee_number = '1002'",
        "reporting__fct_competency_gap", {"fct_competency_gap__gap_status_in_domain": (1, ["1002|C1"])}),
    "gap_employee_not_in_dim_employee": (
        "update reporting.fct_competency_gap set employee_number = '9999' where employee_number = '1002'",
        "reporting__fct_competency_gap", {"fct_competency_gap__employee_number_in_dim_employee": (1, ["9999|C1"])}),
    "checkin_progress_150": (
        "update reporting.fct_checkin set progress_pct = 150 where checkin_id = 'K-1'",
        "reporting__fct_checkin", {"fct_checkin__progress_pct_within_0_100": (1, ["K-1"])}),
    "objective_progress_150": (
        "update reporting.fct_objective_progress set progress_pct = 150 where objective_id = 'O2'",
        "reporting__fct_objective_progress", {
            "fct_objective_progress__progress_pct_within_0_100": (1, ["O2|2026-06-30"]),
            # O2 at 150 widens O1's children range to 80..150: the parent's 60 now falls outside it.
            "fct_objective_progress__parent_progress_within_children_range": (1, ["O1|2026-06-30"]),
        }),
    # Children O2=40, O3=80; the cancelled O4=0 must not widen the range, so 30 is outside it.
    "parent_below_non_cancelled_children": (
        "update reporting.fct_objective_progress set progress_pct = 30 where objective_id = 'O1'",
        "reporting__fct_objective_progress",
        {"fct_objective_progress__parent_progress_within_children_range": (1, ["O1|2026-06-30"])}),
    "parent_above_children": (
        "update reporting.fct_objective_progress set progress_pct = 95 where objective_id = 'O1'",
        "reporting__fct_objective_progress",
        {"fct_objective_progress__parent_progress_within_children_range": (1, ["O1|2026-06-30"])}),
    "risk_status_out_of_domain": (
        "update reporting.fct_objective_progress set risk_status = 'red' where objective_id = 'O3'",
        "reporting__fct_objective_progress", {"fct_objective_progress__risk_status_in_domain": (1, ["O3|2026-06-30"])}),
    "rating_above_scale": (
        "update reporting.fct_competency_assessment set rating = 6 where assessment_id = 'A1'",
        "reporting__fct_competency_assessment", {"fct_competency_assessment__rating_within_scale": (1, ["A1"])}),
    "cascade_cycle": (
        "update reporting.dim_objective set root_objective_id = null where objective_id = 'O3'",
        "reporting__dim_objective", {"dim_objective__reaches_a_root": (1, ["O3"])}),
    "training_status_out_of_domain": (
        "update reporting.fct_training_assignment set status = 'late' where assignment_id = 'AS2'",
        "reporting__fct_training_assignment", {"fct_training_assignment__status_in_domain": (1, ["AS2"])}),
    "alias_match_method_out_of_domain": (
        "update reporting.job_title_alias set match_method = 'fuzzy' where source_system = 'lms'",
        "reporting__job_title_alias", {"job_title_alias__match_method_in_domain": (1, ["lms|Eng Mgr"])}),
    "headcount_does_not_add_up": (
        "update reporting.rpt_headcount_reconciliation set matched = 97 where cost_center = 'CC2'",
        "reporting__rpt_headcount_reconciliation", {
            "rpt_headcount_reconciliation__matched_plus_hris_only_is_hris_active": (1, ["CC2"]),
            "rpt_headcount_reconciliation__matched_plus_payroll_only_is_payroll_active": (1, ["CC2"]),
        }),
    "two_current_history_rows": (
        "update reporting.dim_employee_history set is_current = true where employee_number = '1002'",
        "reporting__dim_employee_history", {"dim_employee_history__one_current_row_per_employee": (2, ["1002"])}),
    "raw_latest_version_twice": (
        "insert into raw.hris__users select * from raw.hris__users where record_id = 'r2'",
        "raw__hris__users", {"hris__users__latest_version_unique": (2, ["r2"])}),
    "xapi_verb_not_an_iri": (
        ("insert into raw.xapi__statements select 'r3', '{\"verb\": {\"id\": \"completed\"}}', 'h', 'x', false, "
         "'run-1', 3, landed_at from raw.xapi__statements where record_id = 'r2'"),
        "raw__xapi__statements", {"xapi__statements__verb_id_is_iri": (1, ["r3"])}),
    "raw_feed_stale": (
        "update raw.lms__users set landed_at = landed_at - interval 10 days",
        "raw__lms__users", {"lms__users__landed_recently": (1, [])}),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_fails_exactly_the_matching_checks(case: str,
                                                    clean_db: Callable[[], duckdb.DuckDBPyConnection]) -> None:
    mutation, suite, expected = BAD_DATA[case]
    con = clean_db()
    con.execute(mutation)
    outcomes = run_suite(con, suite, now=NOW)
    failed = {o.check_name: (o.unexpected_count, o.sample_keys) for o in outcomes if not o.success}
    assert failed == expected
    assert len(outcomes) == len(check_specs(suite))


def test_only_failing_expectations_are_validated_again_for_their_rows(
        clean_db: Callable[[], duckdb.DuckDBPyConnection]) -> None:
    con = clean_db()
    con.execute(BAD_DATA["duplicate_employee"][0])
    run = run_suite_detailed(con, "reporting__dim_employee", now=NOW)
    results = [r for gx_result in run.gx_results for r in gx_result.results]
    failing = [r for r in results if not r.success]
    passing = [r for r in results if r.success]
    assert [r.expectation_config.meta["check_name"] for r in failing] == ["dim_employee__employee_number_unique"]
    # the failure carries the rows its sample keys come from; a pass has its counts, not rows
    assert failing[0].result["partial_unexpected_index_list"] and failing[0].result["unexpected_count"] == 2
    assert passing and all("partial_unexpected_index_list" not in r.result for r in passing)
    assert all(r.result["unexpected_count"] == 0 for r in passing if "unexpected_count" in r.result)
    # one result per expectation, the re-validated one in place of its first
    assert sorted(r.expectation_config.meta["check_name"] for r in results) == sorted(
        e.check_name for frame in SUITES["reporting__dim_employee"].frames for e in frame.expects)


def test_stale_feed_is_a_warning_with_the_observed_age(clean_db: Callable[[], duckdb.DuckDBPyConnection]) -> None:
    con = clean_db()
    con.execute("update raw.lms__users set landed_at = landed_at - interval 10 days")
    (fresh,) = [o for o in run_suite(con, "raw__lms__users", now=NOW) if o.check_name == "lms__users__landed_recently"]
    assert fresh.severity == "warn" and not fresh.success
    assert fresh.observed_value == pytest.approx(242.0)  # 2 h + 10 days, in hours


def test_missing_table_fails_every_check_of_the_suite_without_raising(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table reporting.fct_observation")
    outcomes = run_suite(con, "reporting__fct_observation", now=NOW)
    assert [o.check_name for o in outcomes] == [s.check_name for s in check_specs("reporting__fct_observation")]
    assert all(not o.success and o.observed_value == "missing table: reporting.fct_observation" for o in outcomes)


def test_missing_referenced_table_fails_only_the_relationship(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table reporting.dim_competency")
    outcomes = run_suite(con, "reporting__fct_competency_gap", now=NOW)
    failed = {o.check_name: o.observed_value for o in outcomes if not o.success}
    assert failed == {"fct_competency_gap__competency_id_in_dim_competency": "missing table: reporting.dim_competency"}


def test_missing_column_is_a_failed_outcome(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("alter table reporting.dim_job_title drop column active_headcount")
    outcomes = run_suite(con, "reporting__dim_job_title", now=NOW)
    assert len(outcomes) == len(check_specs("reporting__dim_job_title"))
    assert all(not o.success and str(o.observed_value).startswith("query failed:") for o in outcomes)


def test_samples_carry_keys_never_salaries_or_emails(clean_db: Callable[[], duckdb.DuckDBPyConnection]) -> None:
    con = clean_db()
    con.execute("update restricted.fct_compensation set annual_base_salary = -annual_base_salary, fte = 2 "
                "where employee_number = '1002'")
    con.execute(f"insert into reporting.identity_exception values ('xapi', 'mailto:{EMAILS[1]}', 'unknown', now(), now())")
    comp = run_suite(con, "restricted__fct_compensation", now=NOW)
    exc = run_suite(con, "reporting__identity_exception", now=NOW)
    failed = {o.check_name: o for o in comp + exc if not o.success}
    assert failed["fct_compensation__annual_base_salary_not_negative"].sample_keys == [
        "1002|2026-05-31", "1002|2026-06-30"]
    bad = failed["identity_exception__reason_in_domain"]  # keyed by (source_system, source_key): an e-mail
    assert bad.unexpected_count == 1 and len(bad.sample_keys) == 1 and bad.sample_keys[0].startswith("xapi|sha256:")
    text = repr([(o.sample_keys, o.observed_value) for o in comp + exc])
    assert "@" not in text
    assert not any(f"{s:.2f}" in text or str(int(s)) in text for s in SALARIES)


def test_empty_tables_pass_integrity_checks_and_flag_an_empty_feed(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("delete from raw.lms__reviews")
    con.execute("delete from reporting.fct_performance_review")
    raw = {o.check_name: o for o in run_suite(con, "raw__lms__reviews", now=NOW)}
    assert raw["lms__reviews__record_id_not_null"].success and raw["lms__reviews__latest_version_unique"].success
    stale = raw["lms__reviews__landed_recently"]
    assert not stale.success and stale.severity == "warn" and stale.observed_value == "no rows"
    assert all(o.success for o in run_suite(con, "reporting__fct_performance_review", now=NOW))


def test_the_network_guard_of_these_tests_is_armed() -> None:
    import socket

    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)


def test_a_query_error_does_not_quote_the_offending_value(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("alter table restricted.fct_compensation alter annual_base_salary type varchar")
    con.execute("update restricted.fct_compensation set annual_base_salary = '98.765,43 EUR' "
                "where employee_number = '1002'")
    outcomes = run_suite(con, "restricted__fct_compensation", now=NOW)
    local = [o for o in outcomes if o.check_name != "fct_compensation__employee_number_in_dim_employee"]
    assert all(not o.success and str(o.observed_value).startswith("query failed:") for o in local)
    assert all("98.765" not in str(o.observed_value) for o in outcomes)
    assert next(o for o in outcomes if o.check_name == "fct_compensation__employee_number_in_dim_employee").success
