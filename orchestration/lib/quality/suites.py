"""Great Expectations suites, defined in code and reviewed like code.

Each suite is bound to one target table. A suite is a list of *frames*: a SQL query
(selecting only the columns its checks need) whose rows GX validates. Cross-table rules
(relationships, parent ranges, reconciliation arithmetic) are computed in SQL into
a boolean column and validated by GX like any other column, so every check of a
suite goes through the same engine and the same Data Docs.

On DuckDB a frame is read in bounded Arrow batches, each validated as a pandas frame
(GX's SQL datasource over duckdb-engine fails on this stack); on Postgres
(``postgres_checks``) GX runs the same frames as SQL in the server. GX is slow to
import, so specs are plain data: ``check_specs()`` never imports GX nor touches a
database, and ``run_suite`` builds one ephemeral GX context per process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb

from connectors import duck
from orchestration.lib.quality import pushdown
from orchestration.lib.quality.db import table_exists
from orchestration.lib.quality.gx_engine import (
    AGGREGATE,
    POSITION,
    SET_LEVEL,
    batch_form,
    failed,
    flag_column,
    validate_batches,
)
from orchestration.lib.quality.outcome import CheckOutcome, CheckSpec, error_text
from orchestration.lib.quality.suite_model import (
    Expect,
    Frame,
    Suite,
    SuiteRun,
    between,
    compound_unique,
    in_set,
    is_true,
    local_frame,
    not_null,
    reference_frame,
    unique,
)
from orchestration.lib.warehouse import MemoryBudget

__all__ = ["BATCH_ROWS", "SUITES", "Suite", "SuiteRun", "check_specs", "frame_sql", "on_raw", "run_suite",
           "run_suite_detailed", "run_suites", "suites_for_table"]

# A raw stream that received nothing for this long gets a warn-level freshness finding.
RAW_MAX_AGE_HOURS = 36.0
# Rounding slack when comparing a parent's weighted progress with its children's range.
PROGRESS_TOLERANCE = 0.01


# ---------------------------------------------------------------- raw feeds

RAW_STREAMS: tuple[str, ...] = (
    "hris__users",
    "xapi__statements",
    "lms__users", "lms__competency_frameworks", "lms__competencies", "lms__job_profiles",
    "lms__courses", "lms__assignments", "lms__assessments", "lms__reviews", "lms__observations",
    "checkins__objectives", "checkins__checkins",
    "payroll__rows",
)

# URI scheme then a non-space rest (RFC 3987 IRI, loosely): what xAPI requires of verb ids.
IRI_REGEX = r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$"


def _raw_suite(stream: str) -> Suite:
    table = f"raw.{stream}"
    # The latest version of each record (largest batch_seq); within a batch only one
    # version may be written, so a record_id appearing twice here is a landing bug. The
    # columns are computed before the window, which then holds them and not the payloads.
    latest = (
        "select * exclude (batch_seq) from (select record_id, batch_seq, {extra} "
        f"(epoch(timestamp '{{now}}') - epoch(landed_at)) / 3600.0 as age_hours from {table}) as versions "
        "qualify batch_seq = max(batch_seq) over (partition by record_id)"
    )
    expects = [
        not_null(table, "record_id", keys=("record_id",),
                  description=f"every version in {table} carries the source key"),
        Expect(f"{stream}__latest_version_unique", "blocking",
               f"one latest version (largest batch_seq) per record_id in {table}",
               "ExpectColumnValuesToBeUnique", {"column": "record_id"}, ("record_id",)),
        Expect(f"{stream}__landed_recently", "warn",
               f"{table} received a new version within {RAW_MAX_AGE_HOURS:g} hours "
               "(an unchanged source also ages; warn only)",
               "ExpectColumnMinToBeBetween", {"column": "age_hours", "max_value": RAW_MAX_AGE_HOURS}, ()),
    ]
    extra = ""
    if stream == "xapi__statements":
        extra = "json_extract_string(payload, '$.verb.id') as verb_id, "
        expects.append(Expect("xapi__statements__verb_id_is_iri", "blocking",
                              "every xAPI statement's verb.id is an IRI",
                              "ExpectColumnValuesToMatchRegex", {"column": "verb_id", "regex": IRI_REGEX},
                              ("record_id",)))
        expects.append(not_null(table, "verb_id", keys=("record_id",), name="xapi__statements__verb_id_present",
                                 description="every xAPI statement has a verb.id"))
    return Suite(f"raw__{stream}", table, (Frame(latest.replace("{extra}", extra), (table,), tuple(expects)),))


# ---------------------------------------------------------------- marts

EMPLOYMENT_TYPES = ("full_time", "part_time", "contractor", "casual")
GAP_STATUSES = ("met", "gap", "unassessed")
RISK_STATUSES = ("done", "no_data", "off_track", "at_risk", "on_track")
TITLE_MATCH_METHODS = ("exact", "normalised", "crosswalk", "unmapped")
TRAINING_STATUSES = ("completed", "overdue", "in_progress", "not_started")
ASSIGNMENT_REASONS = ("gap", "compliance", "manager", "self")
RATER_TYPES = ("self", "manager", "peer", "direct_report")
REVIEW_STATUSES = ("draft", "submitted", "signed_off")
OBSERVATION_KINDS = ("idea", "observation", "feedback", "recognition")
OBJECTIVE_LEVELS = ("strategic_objective", "supporting_goal", "department_target", "team_goal", "individual_task")
OBJECTIVE_STATUSES = ("not_started", "in_progress", "done", "cancelled")
CONFIDENCES = ("on_track", "at_risk", "off_track", "blocked")
SOURCE_SYSTEMS = ("hris", "payroll", "lms", "xapi", "checkins")
EXCEPTION_REASONS = ("no_match", "ambiguous")

R = "reporting."
DIM_EMPLOYEE = R + "dim_employee"
DIM_COMPETENCY = R + "dim_competency"
DIM_OBJECTIVE = R + "dim_objective"


def _mart_suites() -> list[Suite]:
    s: list[Suite] = []

    t = DIM_EMPLOYEE
    s.append(Suite("reporting__dim_employee", t, (
        local_frame(t, [
            not_null(t, "employee_number"), unique(t, "employee_number"),
            in_set(t, "employment_type", EMPLOYMENT_TYPES, ("employee_number",)),
            not_null(t, "is_active", keys=("employee_number",)),
            between(t, "fte", 0, 1, ("employee_number",), "fte_within_0_1", "fte is within 0..1"),
            # Servers without the employment extension are valid: completeness is a fact, not a defect.
            not_null(t, "employment_type", keys=("employee_number",), sev="warn",
                      name="dim_employee__employment_extension_complete",
                      description="employment extension attributes (employment_type) were provided"),
        ], numeric=("fte",)),
        reference_frame(t, "manager_employee_number", ("employee_number",), t, "employee_number",
                         name="manager_in_dim_employee"),
    )))

    t = R + "dim_employee_history"
    s.append(Suite("reporting__dim_employee_history", t, (
        local_frame(t, [
            not_null(t, "employee_number", keys=("employee_number", "valid_from")),
        ]),
        Frame(f"select employee_number from {t} where is_current", (t,), (
            Expect("dim_employee_history__one_current_row_per_employee", "blocking",
                   "each employee has at most one current history row",
                   "ExpectColumnValuesToBeUnique", {"column": "employee_number"}, ("employee_number",)),
        )),
    )))

    t = R + "dim_job_title"
    s.append(Suite("reporting__dim_job_title", t, (
        local_frame(t, [
            between(t, "active_headcount", 0, None, ("canonical_job_title",), "active_headcount_not_negative",
                     "active_headcount is not negative"),
        ], numeric=("active_headcount",)),
    )))

    t = R + "job_title_alias"
    s.append(Suite("reporting__job_title_alias", t, (
        local_frame(t, [
            in_set(t, "match_method", TITLE_MATCH_METHODS, ("source_system", "source_title")),
            in_set(t, "source_system", SOURCE_SYSTEMS, ("source_system", "source_title")),
        ]),
    )))

    t = DIM_COMPETENCY
    s.append(Suite("reporting__dim_competency", t, (
        local_frame(t, [
            between(t, "scale_max", 1, None, ("competency_id",), "scale_max_positive", "scale_max is at least 1"),
        ], numeric=("scale_max",)),
    )))

    t = R + "job_competency_requirement"
    keys = ("canonical_job_title", "business_unit", "competency_id")
    s.append(Suite("reporting__job_competency_requirement", t, (
        local_frame(t, [not_null(t, "competency_id", keys=keys)]),
        reference_frame(t, "competency_id", keys, DIM_COMPETENCY, "competency_id"),
        Frame(
            f"select {', '.join(keys)}, coalesce(required_level between 1 and "
            f"(select max(c.scale_max) from {DIM_COMPETENCY} c where c.competency_id = t.competency_id), false)"
            f" as level_in_scale from {t} t", (t, DIM_COMPETENCY),
            (is_true(t, "level_in_scale", keys, "required_level_within_scale",
                      "required_level is within 1..scale_max of its competency"),)),
    )))

    t = R + "fct_competency_assessment"
    s.append(Suite("reporting__fct_competency_assessment", t, (
        local_frame(t, [
            in_set(t, "rater_type", RATER_TYPES, ("assessment_id",)),
        ]),
        reference_frame(t, "employee_number", ("assessment_id",), DIM_EMPLOYEE, "employee_number"),
        reference_frame(t, "competency_id", ("assessment_id",), DIM_COMPETENCY, "competency_id"),
        Frame(
            f"select assessment_id, coalesce(rating between 1 and "
            f"(select max(c.scale_max) from {DIM_COMPETENCY} c where c.competency_id = t.competency_id), false)"
            f" as rating_in_scale from {t} t", (t, DIM_COMPETENCY),
            (is_true(t, "rating_in_scale", ("assessment_id",), "rating_within_scale",
                      "rating is within 1..scale_max of its competency"),)),
    )))

    t = R + "fct_competency_gap"
    keys = ("employee_number", "competency_id")
    s.append(Suite("reporting__fct_competency_gap", t, (
        local_frame(t, [
            not_null(t, "employee_number", keys=keys), not_null(t, "competency_id", keys=keys),
            between(t, "gap", 0, None, keys, "gap_not_negative", "gap is never negative"),
            in_set(t, "gap_status", GAP_STATUSES, keys),
        ], numeric=("gap",)),
        reference_frame(t, "employee_number", keys, DIM_EMPLOYEE, "employee_number"),
        reference_frame(t, "competency_id", keys, DIM_COMPETENCY, "competency_id"),
    )))

    t = R + "fct_learning_completion"
    s.append(Suite("reporting__fct_learning_completion", t, (
        local_frame(t, [not_null(t, "employee_number", keys=("statement_id",))]),
        reference_frame(t, "employee_number", ("statement_id",), DIM_EMPLOYEE, "employee_number"),
    )))

    t = R + "fct_training_assignment"
    s.append(Suite("reporting__fct_training_assignment", t, (
        local_frame(t, [
            in_set(t, "status", TRAINING_STATUSES, ("assignment_id",)),
            not_null(t, "status", keys=("assignment_id",)),
            in_set(t, "reason", ASSIGNMENT_REASONS, ("assignment_id",)),
            between(t, "days_overdue", 0, None, ("assignment_id",), "days_overdue_not_negative",
                     "days_overdue is not negative"),
        ], numeric=("days_overdue",)),
        reference_frame(t, "employee_number", ("assignment_id",), DIM_EMPLOYEE, "employee_number"),
    )))

    t = DIM_OBJECTIVE
    s.append(Suite("reporting__dim_objective", t, (
        local_frame(t, [
            in_set(t, "level", OBJECTIVE_LEVELS, ("objective_id",)),
            in_set(t, "status", OBJECTIVE_STATUSES, ("objective_id",)),
            # A cascade with a cycle has no root: this is how a cycle shows in the mart.
            not_null(t, "root_objective_id", keys=("objective_id",), name="dim_objective__reaches_a_root",
                      description="every objective reaches a root (no cycles in the cascade)"),
            Expect("dim_objective__weight_positive", "blocking", "weight is > 0",
                   "ExpectColumnValuesToBeBetween", {"column": "weight", "min_value": 0, "strict_min": True},
                   ("objective_id",)),
        ], numeric=("weight",)),
        reference_frame(t, "parent_objective_id", ("objective_id",), t, "objective_id",
                         name="parent_in_dim_objective"),
    )))

    t = R + "fct_checkin"
    s.append(Suite("reporting__fct_checkin", t, (
        local_frame(t, [
            between(t, "progress_pct", 0, 100, ("checkin_id",), "progress_pct_within_0_100",
                     "progress_pct is within 0..100"),
            in_set(t, "confidence", CONFIDENCES, ("checkin_id",)),
        ], numeric=("progress_pct",)),
        reference_frame(t, "objective_id", ("checkin_id",), DIM_OBJECTIVE, "objective_id"),
    )))

    t = R + "fct_objective_progress"
    keys = ("objective_id", "as_of_date")
    children_range = f"""
        with progress as (
            select objective_id, as_of_date, cast(progress_pct as double precision) as progress_pct from {t}
        ), children as (
            select o.parent_objective_id as objective_id, p.as_of_date,
                   min(p.progress_pct) as lo, max(p.progress_pct) as hi
            from {DIM_OBJECTIVE} o join progress p on p.objective_id = o.objective_id
            where o.parent_objective_id is not null and coalesce(o.status, '') <> 'cancelled'
              and p.progress_pct is not null
            group by 1, 2
        )
        select p.objective_id, p.as_of_date,
               p.progress_pct between c.lo - {PROGRESS_TOLERANCE} and c.hi + {PROGRESS_TOLERANCE}
                   as within_children_range
        from progress p join children c using (objective_id, as_of_date)
        where p.progress_pct is not null
    """
    s.append(Suite("reporting__fct_objective_progress", t, (
        local_frame(t, [
            not_null(t, "objective_id", keys=keys),
            between(t, "progress_pct", 0, 100, keys, "progress_pct_within_0_100",
                     "progress_pct is within 0..100"),
            in_set(t, "risk_status", RISK_STATUSES, keys),
            not_null(t, "risk_status", keys=keys),
        ], numeric=("progress_pct",)),
        reference_frame(t, "objective_id", keys, DIM_OBJECTIVE, "objective_id"),
        Frame(children_range, (t, DIM_OBJECTIVE), (
            is_true(t, "within_children_range", keys, "parent_progress_within_children_range",
                     "a parent's progress lies within its non-cancelled children's min..max"),
        )),
    )))

    t = R + "fct_performance_review"
    s.append(Suite("reporting__fct_performance_review", t, (
        local_frame(t, [
            between(t, "overall_rating", 1, 5, ("review_id",), "overall_rating_within_1_5",
                     "overall_rating is within 1..5"),
            in_set(t, "status", REVIEW_STATUSES, ("review_id",)),
        ], numeric=("overall_rating",)),
        reference_frame(t, "employee_number", ("review_id",), DIM_EMPLOYEE, "employee_number"),
    )))

    t = R + "fct_observation"
    s.append(Suite("reporting__fct_observation", t, (
        local_frame(t, [
            in_set(t, "kind", OBSERVATION_KINDS, ("observation_id",)),
        ]),
        reference_frame(t, "employee_number", ("observation_id",), DIM_EMPLOYEE, "employee_number"),
    )))

    t = R + "rpt_headcount_reconciliation"
    s.append(Suite("reporting__rpt_headcount_reconciliation", t, (
        local_frame(t, [
            *[between(t, c, 0, None, ("cost_center",), f"{c}_not_negative", f"{c} is not negative")
              for c in ("hris_active", "payroll_active", "matched", "hris_only", "payroll_only")],
        ], numeric=("hris_active", "payroll_active", "matched", "hris_only", "payroll_only")),
        Frame(
            f"select cost_center, coalesce(matched + hris_only = hris_active, false) as hris_side_adds_up, "
            f"coalesce(matched + payroll_only = payroll_active, false) as payroll_side_adds_up from {t}",
            (t,), (
                is_true(t, "hris_side_adds_up", ("cost_center",), "matched_plus_hris_only_is_hris_active",
                         "matched + hris_only = hris_active for every cost center"),
                is_true(t, "payroll_side_adds_up", ("cost_center",), "matched_plus_payroll_only_is_payroll_active",
                         "matched + payroll_only = payroll_active for every cost center"),
            )),
    )))

    t = R + "identity_exception"
    keys = ("source_system", "source_key")
    s.append(Suite("reporting__identity_exception", t, (
        local_frame(t, [
            in_set(t, "reason", EXCEPTION_REASONS, keys),
            in_set(t, "source_system", SOURCE_SYSTEMS, keys),
        ]),
    )))

    t = "restricted.fct_compensation"
    keys = ("employee_number", "pay_period_end")
    s.append(Suite("restricted__fct_compensation", t, (
        local_frame(t, [
            not_null(t, "employee_number", keys=keys),
            compound_unique(t, keys, "employee_period_unique"),
            between(t, "annual_base_salary", 0, None, keys, "annual_base_salary_not_negative",
                     "annual_base_salary is not negative"),
            between(t, "fte", 0, 1, keys, "fte_within_0_1", "fte is within 0..1"),
            Expect("fct_compensation__currency_is_iso4217", "blocking", "currency is a three-letter ISO 4217 code",
                   "ExpectColumnValuesToMatchRegex", {"column": "currency", "regex": r"^[A-Z]{3}$"}, keys),
        ], numeric=("annual_base_salary", "fte")),
        reference_frame(t, "employee_number", keys, DIM_EMPLOYEE, "employee_number"),
    )))

    t = "intermediate.int_identity__links"
    keys = ("source_system", "source_key")
    s.append(Suite("intermediate__int_identity__links", t, (
        local_frame(t, [
            not_null(t, "source_key", keys=keys),
            in_set(t, "source_system", SOURCE_SYSTEMS, keys),
        ]),
    )))
    return s


def _build_registry() -> dict[str, Suite]:
    suites = [_raw_suite(stream) for stream in RAW_STREAMS] + _mart_suites()
    registry = {suite.name: suite for suite in suites}
    names = [spec.check_name for suite in suites for spec in suite.specs()]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:  # check names key audit rows and Dagster checks: they must be unique
        raise RuntimeError(f"duplicate check names: {dupes}")
    return registry


SUITES: dict[str, Suite] = _build_registry()


# ---------------------------------------------------------------- public API (no database)


def check_specs(suite_name: str | None = None) -> list[CheckSpec]:
    """Every check of one suite (or of all suites), without importing GX or opening a database."""
    if suite_name is not None:
        return _suite(suite_name).specs()
    return [spec for suite in SUITES.values() for spec in suite.specs()]


def on_raw(table: str) -> bool:
    """A raw feed's table: final once extraction ends, before dbt builds on it."""
    return table.startswith("raw.")


def suites_for_table(table: str) -> list[str]:
    """Suite names bound to a schema-qualified table, e.g. ``reporting.dim_employee``."""
    return [s.name for s in SUITES.values() if s.target_table == table]


def _suite(name: str) -> Suite:
    try:
        return SUITES[name]
    except KeyError:
        raise KeyError(f"unknown quality suite {name!r}; known: {', '.join(sorted(SUITES))}") from None


# ---------------------------------------------------------------- running


# Rows read from DuckDB per batch: what bounds a check's memory, whatever the table's size.
BATCH_ROWS = 100_000


def run_suite(con: duckdb.DuckDBPyConnection, suite_name: str, *, now: datetime | None = None,
              batch_rows: int = BATCH_ROWS) -> list[CheckOutcome]:
    """Exactly one outcome per spec of the suite, in spec order; never raises for bad data or missing tables."""
    return run_suite_detailed(con, suite_name, now=now, batch_rows=batch_rows).outcomes


def run_suites(con: duckdb.DuckDBPyConnection, names: Iterable[str] | None = None, *,
               now: datetime | None = None, batch_rows: int = BATCH_ROWS) -> list[SuiteRun]:
    """Run several suites (all by default) in registry order; feed the result to Data Docs."""
    return [run_suite_detailed(con, name, now=now, batch_rows=batch_rows)
            for name in (names if names is not None else SUITES)]


def run_suite_detailed(con: duckdb.DuckDBPyConnection, suite_name: str, *, now: datetime | None = None,
                       batch_rows: int = BATCH_ROWS, read_all: bool = False) -> SuiteRun:
    """Each frame is read in batches of at most ``batch_rows`` rows and validated batch by
    batch; what must see the whole frame (uniqueness, a column's minimum) is computed in
    DuckDB's SQL, so memory stays bounded whatever the table's size. Only the rows that could
    fail or lack a value are read (``pushdown``), the others counted; ``read_all`` reads every
    row, the reference the pushdown must equal."""
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")

    def validate(run: SuiteRun, index: int, frame: Frame) -> tuple[list[CheckOutcome], Any]:
        sql = frame_sql(frame, now)
        try:
            columns = _types(con, sql)
            flags = {flag_column(e): "boolean" for e in frame.expects if e.gx_type in SET_LEVEL}
            row_level = [batch_form(e) for e in frame.expects if e.gx_type not in AGGREGATE]
            where = pushdown.EVERY_ROW if read_all else pushdown.candidates(row_level, {**columns, **flags})
            # a uniqueness flag is never missing (nor a column of the frame's own query)
            missing = {} if read_all else {e.check_name: m for e in row_level
                                           if (m := pushdown.missing_values(e, columns)) is not None}
            rows, aggregate, missing_counts = _whole_frame(con, frame, sql, missing)
            reader = con.sql(_frame_rows(frame, sql, where)).to_arrow_reader(batch_rows)
        except duckdb.Error as exc:
            raise FrameError(f"query failed: {error_text(exc)}") from None
        try:
            return validate_batches(_suite(suite_name), index, frame, _pandas_batches(reader, run.batch_sizes),
                                    aggregate, frame_rows=rows, missing=missing_counts)
        finally:
            reader.close()

    return run_frames(con, suite_name, validate)


class FrameError(Exception):
    """A frame that could not be read; its message is every one of its outcomes' observed value."""


def run_frames(con: Any, suite_name: str,
               validate: Callable[[SuiteRun, int, Frame], tuple[list[CheckOutcome], Any]], *,
               error: str = "validation failed") -> SuiteRun:
    """One outcome per spec, in spec order, whichever warehouse ``validate`` reads: a frame
    whose tables are missing (``con``: DuckDB's ``execute`` interface), whose query fails or
    whose validation fails gives failed outcomes, never an exception."""
    suite = _suite(suite_name)
    run = SuiteRun(suite.name, suite.target_table, [])
    for index, frame in enumerate(suite.frames):
        specs = [CheckSpec(e.check_name, suite.target_table, e.severity, e.description) for e in frame.expects]
        missing = [t for t in frame.tables if not table_exists(con, t)]
        if missing:
            run.outcomes += [failed(s, f"missing table: {', '.join(missing)}") for s in specs]
            continue
        try:
            outcomes, gx_result = validate(run, index, frame)
        except FrameError as exc:
            run.outcomes += [failed(s, str(exc)) for s in specs]
            continue
        except Exception as exc:  # noqa: BLE001 - the contract is an outcome per spec, never a crash
            run.outcomes += [failed(s, f"{error}: {error_text(exc)}") for s in specs]
            continue
        run.outcomes += outcomes
        run.gx_results.append(gx_result)
    return run


def frame_sql(frame: Frame, now: datetime | None) -> str:
    now_utc = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    # "{now}" is the placeholder in the suites' SQL, not a missing f-string
    return frame.sql.replace("{now}", now_utc.isoformat(sep=" "))  # noqa: RUF027


def _types(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, str]:
    """The query's column types (DuckDB's ids)."""
    rel = con.sql(sql)  # binds the query, runs nothing
    return {c: t.id for c, t in zip(rel.columns, rel.types, strict=True)}


def _frame_rows(frame: Frame, sql: str, where: str) -> str:
    """The frame's rows GX validates (``where``), in the frame's order, each with its position
    in the whole frame (``_bridge_pos``, what GX's row positions are mapped back to) and, per
    set-level expectation, whether its value is unique in the whole frame (as GX judges it:
    nulls are not duplicates; for a compound key only a row missing every column is skipped)."""
    flags = []
    for e in frame.expects:
        if e.gx_type not in SET_LEVEL:
            continue
        cols = [e.kwargs["column"]] if SET_LEVEL[e.gx_type] == "column" else list(e.kwargs["column_list"])
        missing = " and ".join(f"{c} is null" for c in cols)
        # duplicated values by a hash aggregate, not a window over the frame's every column
        duplicated = (f"select {', '.join(cols)} from ({sql}) as frame group by all having count(*) > 1")
        same = " and ".join(f"dup.{c} is not distinct from numbered.{c}" for c in cols)
        flags.append(f"(({missing}) or not exists (select 1 from ({duplicated}) as dup where {same})) "
                     f"as {flag_column(e)}")
    if not flags and where == pushdown.EVERY_ROW:
        return sql
    numbered = f"select *, row_number() over () - 1 as {POSITION} from ({sql}) as frame"
    flagged = f"select *, {', '.join(flags)} from ({numbered}) as numbered" if flags else numbered
    return f"select * from ({flagged}) as flagged where {where} order by {POSITION}"


def _whole_frame(con: duckdb.DuckDBPyConnection, frame: Frame, sql: str,
                 missing: dict[str, str]) -> tuple[int, Any, dict[str, int]]:
    """In one scan of the frame: its row count, its aggregate expectations' figures as a
    one-row frame (None without aggregate expectations; no row for an empty frame), and per
    expectation in ``missing`` how many of its values are missing."""
    cols = [(AGGREGATE[e.gx_type], e.kwargs["column"]) for e in frame.expects if e.gx_type in AGGREGATE]
    counts = {name: f"_bridge_missing_{i}" for i, name in enumerate(missing)}
    select = ", ".join(["count(*) as _bridge_rows",
                        *(f"count(*) filter (where {missing[name]}) as {alias}" for name, alias in counts.items()),
                        *(f"{fn}({c}) as {c}" for fn, c in dict.fromkeys(cols))])
    figures = con.sql(f"select {select} from ({sql}) as frame").df()
    rows = int(figures["_bridge_rows"].iloc[0])
    missing_counts = {name: int(figures[alias].iloc[0]) for name, alias in counts.items()}
    if not cols:
        return rows, None, missing_counts
    aggregate = figures.drop(columns=["_bridge_rows", *counts.values()]).iloc[0:1 if rows else 0]
    return rows, aggregate, missing_counts


def _pandas_batches(reader: Any, sizes: list[int]) -> Iterator[Any]:
    """Arrow batches as pandas frames with the dtypes DuckDB gives its own results (``.df()``);
    an empty frame still yields one (empty) batch, so its expectations are evaluated."""
    import pyarrow as pa

    with duck.connect(memory_limit=MemoryBudget().scratch) as memory:
        seen = False
        for batch in reader:
            sizes.append(batch.num_rows)
            seen = True
            yield memory.from_arrow(pa.Table.from_batches([batch])).df()
        if not seen:
            yield memory.from_arrow(reader.schema.empty_table()).df()
