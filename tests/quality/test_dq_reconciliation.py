"""Cross-system reconciliation checks and their thresholds."""

from __future__ import annotations

import duckdb
import pytest
from dq_fixtures import EMAILS, SALARIES

from orchestration.lib.quality.outcome import CheckOutcome
from orchestration.lib.quality.reconciliation import (
    QualityThresholds,
    reconciliation_specs,
    run_reconciliation,
)
from orchestration.lib.settings import Settings, SettingsError


def _by_name(outcomes: list[CheckOutcome]) -> dict[str, CheckOutcome]:
    return {o.check_name: o for o in outcomes}


def _failed(outcomes: list[CheckOutcome]) -> set[str]:
    return {o.check_name for o in outcomes if not o.success}


def test_clean_database_passes_with_one_outcome_per_spec(con: duckdb.DuckDBPyConnection) -> None:
    outcomes = run_reconciliation(con, QualityThresholds())
    assert [(o.check_name, o.target_table, o.severity) for o in outcomes] == [
        (s.check_name, s.target_table, s.severity) for s in reconciliation_specs()]
    assert _failed(outcomes) == set()
    assert all(o.engine == "sql" for o in outcomes)
    names = [s.check_name for s in reconciliation_specs()]
    assert len(names) == len(set(names))
    assert {"identity_match_rate__xapi", "unmapped_job_titles_present"} <= set(names)


def test_terminated_but_paid_is_a_warning_listing_employee_numbers(con: duckdb.DuckDBPyConnection) -> None:
    # 1004 left in May (inactive in the HRIS) and is still paid in the latest period.
    con.execute("insert into restricted.fct_compensation values "
                f"('1004','2026-06-30','Senior Engineer','PKG-IC','G5',{SALARIES[3]},'EUR',1.0)")
    outcomes = run_reconciliation(con)
    assert _failed(outcomes) == {"terminated_but_paid"}
    finding = _by_name(outcomes)["terminated_but_paid"]
    assert finding.severity == "warn" and not finding.blocks_publication
    assert finding.sample_keys == ["1004"] and finding.unexpected_count == 1
    text = repr((finding.sample_keys, finding.observed_value))
    assert str(int(SALARIES[3])) not in text and "@" not in text


def test_terminated_and_paid_only_in_an_earlier_period_is_no_finding(con: duckdb.DuckDBPyConnection) -> None:
    # The fixture already pays 1004 in May; only the latest period counts.
    assert _by_name(run_reconciliation(con))["terminated_but_paid"].success


def test_headcount_fails_only_cost_centers_over_both_tolerances(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("insert into reporting.rpt_headcount_reconciliation values "
                "('CC3',1000,1040,1000,0,40),"  # 40 people but 3.8 %: within the relative tolerance
                "('CC4',10,14,10,0,4),"  # 40 % but 4 people: within the absolute tolerance
                "('CC5',100,120,100,0,20),"  # 20 people and 16.7 %: over both
                "('CC6',30,5,5,25,0)")  # 25 people and 83 %: over both
    outcome = _by_name(run_reconciliation(con))["headcount_by_cost_center_within_tolerance"]
    assert not outcome.success and outcome.blocks_publication
    assert outcome.unexpected_count == 2
    assert outcome.sample_keys == ["CC6", "CC5"]  # largest difference first
    assert "largest difference 40" in str(outcome.observed_value)
    loose = run_reconciliation(con, QualityThresholds(headcount_tolerance_abs=25))
    assert _by_name(loose)["headcount_by_cost_center_within_tolerance"].success


def test_unresolved_lms_users_over_threshold_block_and_show(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update intermediate.int_identity__links set employee_number = null "
                "where source_system = 'lms' and source_key in ('L7', 'L9')")
    outcomes = _by_name(run_reconciliation(con, QualityThresholds()))
    blocking, present = outcomes["lms_users_not_in_hris"], outcomes["lms_users_not_in_hris_present"]
    assert not blocking.success and blocking.severity == "blocking"
    assert blocking.observed_value == pytest.approx(2 / 50) and blocking.unexpected_count == 2
    assert blocking.sample_keys == ["L7", "L9"]
    assert not present.success and present.severity == "warn"
    match = outcomes["identity_match_rate__lms"]
    assert not match.success and match.severity == "warn" and match.observed_value == pytest.approx(48 / 50)
    assert outcomes["identity_match_rate__hris"].success


def test_unresolved_rate_under_threshold_passes_but_warns(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update intermediate.int_identity__links set employee_number = null "
                "where source_system = 'lms' and source_key = 'L7'")
    outcomes = _by_name(run_reconciliation(con, QualityThresholds(max_unknown_lms_user_rate=0.05)))
    assert outcomes["lms_users_not_in_hris"].success
    assert not outcomes["lms_users_not_in_hris_present"].success
    assert outcomes["lms_users_not_in_hris_present"].sample_keys == ["L7"]


def test_unresolved_xapi_actors_block_and_never_sample_an_email(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("insert into intermediate.int_identity__links values "
                f"('xapi', 'mailto:{EMAILS[2].upper()}', null, null, 'no_match'),"
                "('xapi', 'account:https://other.example/:42', null, null, 'no_match')")
    outcome = _by_name(run_reconciliation(con))["xapi_actors_unresolved"]
    assert not outcome.success and outcome.observed_value == pytest.approx(2 / 52)
    assert outcome.unexpected_count == 2
    assert all("@" not in k for k in outcome.sample_keys)
    assert sum(k.startswith("sha256:") for k in outcome.sample_keys) == 1
    assert "account:https://other.example/:42" in outcome.sample_keys


def test_unmapped_titles_are_measured_by_occurrences(con: duckdb.DuckDBPyConnection) -> None:
    # One alias row of six (17 %) but 1 occurrence of 21 (4.8 %): under the 5 % default.
    con.execute("insert into reporting.job_title_alias values ('payroll', 'Chief Wizard', null, 'unmapped', 1)")
    outcomes = _by_name(run_reconciliation(con))
    assert outcomes["unmapped_job_titles"].success
    assert outcomes["unmapped_job_titles"].observed_value == pytest.approx(1 / 21)
    assert not outcomes["unmapped_job_titles_present"].success
    assert outcomes["unmapped_job_titles_present"].sample_keys == ["payroll|Chief Wizard"]
    con.execute("update reporting.job_title_alias set occurrences = 3 where source_title = 'Chief Wizard'")
    blocking = _by_name(run_reconciliation(con))["unmapped_job_titles"]
    assert not blocking.success and blocking.unexpected_count == 3
    assert blocking.observed_value == pytest.approx(3 / 23)


def test_missing_table_fails_its_checks_without_raising(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table intermediate.int_identity__links")
    outcomes = run_reconciliation(con)
    assert len(outcomes) == len(reconciliation_specs())
    failed = {o.check_name: o.observed_value for o in outcomes if not o.success}
    assert set(failed) == {"lms_users_not_in_hris", "lms_users_not_in_hris_present", "xapi_actors_unresolved",
                           "xapi_actors_unresolved_present"} | {
        f"identity_match_rate__{s}" for s in ("hris", "payroll", "lms", "xapi", "checkins")}
    assert set(failed.values()) == {"missing table: intermediate.int_identity__links"}


# ---------------------------------------------------------------- thresholds from the settings


def _settings(environ: dict[str, str]) -> Settings:
    return Settings.from_env(environ, dotenv_path=None, require_sources=False)


def test_thresholds_default_when_unset_or_blank() -> None:
    assert QualityThresholds.from_settings(_settings({})) == QualityThresholds()
    assert QualityThresholds.from_settings(_settings({"BRIDGE_HEADCOUNT_TOLERANCE_ABS": " "})) == QualityThresholds()
    d = QualityThresholds()
    assert (d.max_unmapped_title_rate, d.max_unresolved_xapi_actor_rate, d.max_unknown_lms_user_rate,
            d.headcount_tolerance_abs, d.headcount_tolerance_rel) == (0.05, 0.02, 0.02, 5, 0.05)


def test_thresholds_read_every_variable_from_the_settings() -> None:
    t = QualityThresholds.from_settings(_settings({
        "BRIDGE_MAX_UNMAPPED_TITLE_RATE": "0.1", "BRIDGE_MAX_UNRESOLVED_XAPI_ACTOR_RATE": "0.03",
        "BRIDGE_MAX_UNKNOWN_LMS_USER_RATE": "0", "BRIDGE_HEADCOUNT_TOLERANCE_ABS": "12",
        "BRIDGE_HEADCOUNT_TOLERANCE_REL": "0.2", "UNRELATED": "x"}))
    assert t == QualityThresholds(0.1, 0.03, 0.0, 12, 0.2)


MALFORMED = {
    "BRIDGE_MAX_UNMAPPED_TITLE_RATE": "five percent",
    "BRIDGE_MAX_UNRESOLVED_XAPI_ACTOR_RATE": "-0.01",
    "BRIDGE_MAX_UNKNOWN_LMS_USER_RATE": "nan",
    "BRIDGE_HEADCOUNT_TOLERANCE_ABS": "2.5",
    "BRIDGE_HEADCOUNT_TOLERANCE_REL": "1.5",
}


def test_malformed_thresholds_fail_in_the_one_settings_pass_naming_each_variable() -> None:
    with pytest.raises(SettingsError) as err:
        _settings(MALFORMED)
    lines = str(err.value).splitlines()
    assert len(lines) == len(MALFORMED)
    for name, value in MALFORMED.items():
        assert [line for line in lines if line.startswith(f"{name} ") and value in line], name

