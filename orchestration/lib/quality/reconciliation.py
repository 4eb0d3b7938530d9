"""Cross-system reconciliation checks that no single source can express.

Plain SQL over the working database (engine ``sql``): each rule is an aggregate
plus a short list of offending keys, which a GX column expectation would only
restate. Specs are static (Dagster declares them at import time); ``run_reconciliation``
returns exactly one outcome per spec, in spec order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from orchestration.lib.quality.db import table_exists
from orchestration.lib.quality.outcome import MAX_SAMPLE_KEYS, CheckOutcome, CheckSpec, error_text
from orchestration.lib.settings import BY_NAME, Settings

LINKS = "intermediate.int_identity__links"
DIM_EMPLOYEE = "reporting.dim_employee"
COMPENSATION = "restricted.fct_compensation"
HEADCOUNT = "reporting.rpt_headcount_reconciliation"
TITLE_ALIAS = "reporting.job_title_alias"
IDENTITY_SOURCES: tuple[str, ...] = ("hris", "payroll", "lms", "xapi", "checkins")


def _default(name: str) -> Any:
    return BY_NAME[name].default


@dataclass(frozen=True)
class QualityThresholds:
    """Tolerances of the blocking reconciliation checks (see README.md in this folder).

    Rates are fractions (0.05 = 5 %). A cost center's headcount difference fails
    only when it exceeds BOTH the absolute and the relative tolerance, so small
    cost centers are not blocked by one person and large ones not by rounding.
    The defaults are the ones `orchestration/lib/settings.py` declares.
    """

    max_unmapped_title_rate: float = _default("BRIDGE_MAX_UNMAPPED_TITLE_RATE")
    max_unresolved_xapi_actor_rate: float = _default("BRIDGE_MAX_UNRESOLVED_XAPI_ACTOR_RATE")
    max_unknown_lms_user_rate: float = _default("BRIDGE_MAX_UNKNOWN_LMS_USER_RATE")
    headcount_tolerance_abs: int = _default("BRIDGE_HEADCOUNT_TOLERANCE_ABS")  # people
    headcount_tolerance_rel: float = _default("BRIDGE_HEADCOUNT_TOLERANCE_REL")  # of the larger side

    @classmethod
    def from_settings(cls, settings: Settings) -> QualityThresholds:
        """The values `Settings.from_env` already parsed and range-checked in its one pass
        (a malformed one is a `SettingsError` line naming the variable): nothing is parsed here."""
        return cls(
            max_unmapped_title_rate=settings.get("BRIDGE_MAX_UNMAPPED_TITLE_RATE"),
            max_unresolved_xapi_actor_rate=settings.get("BRIDGE_MAX_UNRESOLVED_XAPI_ACTOR_RATE"),
            max_unknown_lms_user_rate=settings.get("BRIDGE_MAX_UNKNOWN_LMS_USER_RATE"),
            headcount_tolerance_abs=settings.get("BRIDGE_HEADCOUNT_TOLERANCE_ABS"),
            headcount_tolerance_rel=settings.get("BRIDGE_HEADCOUNT_TOLERANCE_REL"),
        )


# ---------------------------------------------------------------- specs

TERMINATED_BUT_PAID = CheckSpec(
    "terminated_but_paid", COMPENSATION, "warn",
    "employees not active in the HRIS who are paid in the latest payroll period (audit finding)")
HEADCOUNT_WITHIN_TOLERANCE = CheckSpec(
    "headcount_by_cost_center_within_tolerance", HEADCOUNT, "blocking",
    "per cost center, |hris_active - payroll_active| is within the absolute or the relative tolerance")
LMS_USERS = CheckSpec(
    "lms_users_not_in_hris", LINKS, "blocking",
    "share of LMS users that resolve to no HRIS employee is within BRIDGE_MAX_UNKNOWN_LMS_USER_RATE")
XAPI_ACTORS = CheckSpec(
    "xapi_actors_unresolved", LINKS, "blocking",
    "share of xAPI actors that resolve to no HRIS employee is within BRIDGE_MAX_UNRESOLVED_XAPI_ACTOR_RATE")
UNMAPPED_TITLES = CheckSpec(
    "unmapped_job_titles", TITLE_ALIAS, "blocking",
    "share of job-title occurrences left unmapped is within BRIDGE_MAX_UNMAPPED_TITLE_RATE")


def _present(spec: CheckSpec) -> CheckSpec:
    return CheckSpec(f"{spec.check_name}_present", spec.target_table, "warn",
                     f"fact for auditors: any nonzero rate ({spec.description.split(' is within')[0]})")


def _match_rate_spec(source: str) -> CheckSpec:
    return CheckSpec(f"identity_match_rate__{source}", LINKS, "warn",
                     f"share of {source} person records resolved to an HRIS employee (warn when below 100 %)")


def reconciliation_specs() -> list[CheckSpec]:
    """Every reconciliation check, without touching a database."""
    specs = [TERMINATED_BUT_PAID, HEADCOUNT_WITHIN_TOLERANCE]
    for spec in (LMS_USERS, XAPI_ACTORS, UNMAPPED_TITLES):
        specs += [spec, _present(spec)]
    specs += [_match_rate_spec(s) for s in IDENTITY_SOURCES]
    return specs


# ---------------------------------------------------------------- running


def run_reconciliation(con: duckdb.DuckDBPyConnection, thresholds: QualityThresholds | None = None) -> list[CheckOutcome]:
    """Exactly one outcome per ``reconciliation_specs()`` entry, in that order; never raises for bad data."""
    t = thresholds or QualityThresholds()
    outcomes: list[CheckOutcome] = []
    outcomes += _guarded(con, [TERMINATED_BUT_PAID], (DIM_EMPLOYEE, COMPENSATION), lambda: [_terminated_but_paid(con)])
    outcomes += _guarded(con, [HEADCOUNT_WITHIN_TOLERANCE], (HEADCOUNT,), lambda: [_headcount(con, t)])
    outcomes += _guarded(con, [LMS_USERS, _present(LMS_USERS)], (LINKS,),
                         lambda: _unresolved_rate(con, LMS_USERS, "lms", t.max_unknown_lms_user_rate))
    outcomes += _guarded(con, [XAPI_ACTORS, _present(XAPI_ACTORS)], (LINKS,),
                         lambda: _unresolved_rate(con, XAPI_ACTORS, "xapi", t.max_unresolved_xapi_actor_rate))
    outcomes += _guarded(con, [UNMAPPED_TITLES, _present(UNMAPPED_TITLES)], (TITLE_ALIAS,),
                         lambda: _unmapped_titles(con, t.max_unmapped_title_rate))
    for source in IDENTITY_SOURCES:
        spec = _match_rate_spec(source)
        outcomes += _guarded(con, [spec], (LINKS,), lambda s=spec, src=source: [_match_rate(con, s, src)])
    return outcomes


def _guarded(con: duckdb.DuckDBPyConnection, specs: list[CheckSpec], tables: tuple[str, ...],
             compute: Callable[[], list[CheckOutcome]]) -> list[CheckOutcome]:
    """A missing table or a failing query is a failed outcome per spec, never an exception."""
    missing = [t for t in tables if not table_exists(con, t)]
    if missing:
        return [_failed(s, f"missing table: {', '.join(missing)}") for s in specs]
    import psycopg2  # the same checks run on Postgres (postgres_checks.BuiltTables)

    try:
        return compute()
    except (duckdb.Error, psycopg2.Error) as exc:
        return [_failed(s, f"query failed: {error_text(exc)}") for s in specs]


def _failed(spec: CheckSpec, observed: str) -> CheckOutcome:
    return CheckOutcome.from_spec(spec, success=False, observed_value=observed, unexpected_count=0, engine="sql")


def _terminated_but_paid(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    # A final pay run for someone payroll itself marks terminated is normal; the finding
    # is payroll still paying them as active (or on leave). Older warehouses without the
    # employment_status column count every payment.
    has_status = con.execute(
        "select count(*) from information_schema.columns where table_schema || '.' || table_name = ? "
        "and column_name = 'employment_status'",
        [COMPENSATION],
    ).fetchone()[0]
    still_employed = "and c.employment_status in ('active', 'on_leave')" if has_status else ""
    keys = [str(r[0]) for r in con.execute(f"""
        with latest_period as (select max(pay_period_end) as pay_period_end from {COMPENSATION})
        select distinct c.employee_number
        from {COMPENSATION} c
        join latest_period l on c.pay_period_end = l.pay_period_end
        join {DIM_EMPLOYEE} e on e.employee_number = c.employee_number
        where not coalesce(e.is_active, false) {still_employed}
        order by 1
    """).fetchall()]
    return CheckOutcome.from_spec(TERMINATED_BUT_PAID, success=not keys, observed_value=float(len(keys)),
                                  unexpected_count=len(keys), sample_keys=keys, engine="sql")


def _headcount(con: duckdb.DuckDBPyConnection, t: QualityThresholds) -> CheckOutcome:
    rows = con.execute(f"""
        select cost_center, abs(coalesce(hris_active, 0) - coalesce(payroll_active, 0)) as diff,
               greatest(coalesce(hris_active, 0), coalesce(payroll_active, 0)) as base
        from {HEADCOUNT}
    """).fetchall()
    # Over tolerance only when over BOTH: more than N people and more than R of the larger side.
    over = [(cc, diff) for cc, diff, base in rows
            if diff > t.headcount_tolerance_abs and diff > t.headcount_tolerance_rel * float(base)]
    over.sort(key=lambda x: (-x[1], str(x[0])))
    largest = max((diff for _, diff, _ in rows), default=0)
    observed = (f"{len(over)} of {len(rows)} cost centers over tolerance "
                f"(abs {t.headcount_tolerance_abs}, rel {t.headcount_tolerance_rel:g}); largest difference {largest}")
    return CheckOutcome.from_spec(HEADCOUNT_WITHIN_TOLERANCE, success=not over, observed_value=observed,
                                  unexpected_count=len(over),
                                  sample_keys=["<null>" if cc is None else str(cc) for cc, _ in over], engine="sql")


def _unresolved(con: duckdb.DuckDBPyConnection, source: str) -> tuple[int, int, list[str]]:
    total, unresolved = con.execute(
        f"select count(*), count(*) filter (where employee_number is null) from {LINKS} where source_system = ?",
        [source]).fetchall()[0]
    keys = [str(r[0]) for r in con.execute(
        f"select source_key from {LINKS} where source_system = ? and employee_number is null "
        f"order by source_key limit {MAX_SAMPLE_KEYS}", [source]).fetchall()]
    return int(total), int(unresolved), keys


def _rate_outcomes(spec: CheckSpec, numerator: int, denominator: int, limit: float,
                   keys: list[str], unit: str) -> list[CheckOutcome]:
    rate = numerator / denominator if denominator else 0.0
    blocking = CheckOutcome.from_spec(spec, success=rate <= limit, observed_value=rate,
                                      unexpected_count=numerator, sample_keys=keys, engine="sql")
    # The warn twin fails on any nonzero rate, so a tolerated problem still shows in the audit trail.
    present = CheckOutcome.from_spec(_present(spec), success=numerator == 0, observed_value=rate,
                                     unexpected_count=numerator, sample_keys=keys, engine="sql")
    detail = f"; {numerator} of {denominator} {unit}, limit {limit:g}"
    blocking.description += detail
    present.description += detail
    return [blocking, present]


def _unresolved_rate(con: duckdb.DuckDBPyConnection, spec: CheckSpec, source: str, limit: float) -> list[CheckOutcome]:
    total, unresolved, keys = _unresolved(con, source)
    return _rate_outcomes(spec, unresolved, total, limit, keys, f"{source} records unresolved")


def _unmapped_titles(con: duckdb.DuckDBPyConnection, limit: float) -> list[CheckOutcome]:
    total, unmapped = con.execute(
        f"select coalesce(sum(occurrences), 0), coalesce(sum(occurrences) filter (where match_method = 'unmapped'), 0) "
        f"from {TITLE_ALIAS}").fetchall()[0]
    keys = [f"{r[0]}|{r[1]}" for r in con.execute(
        f"select source_system, source_title from {TITLE_ALIAS} where match_method = 'unmapped' "
        f"order by occurrences desc, source_system, source_title limit {MAX_SAMPLE_KEYS}").fetchall()]
    return _rate_outcomes(UNMAPPED_TITLES, int(unmapped), int(total), limit, keys, "title occurrences unmapped")


def _match_rate(con: duckdb.DuckDBPyConnection, spec: CheckSpec, source: str) -> CheckOutcome:
    total, unresolved, keys = _unresolved(con, source)
    rate = (total - unresolved) / total if total else 1.0
    return CheckOutcome.from_spec(spec, success=unresolved == 0, observed_value=rate, unexpected_count=unresolved,
                                  sample_keys=keys, engine="sql")
