"""A small published warehouse with exactly the contract's reporting and audit tables,
filled with a handful of hand-written rows whose totals the tests know."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

# docs/contract.md section 4: the tables and columns the report reads (types as the marts build them).
TABLES: dict[str, str] = {
    "reporting.dim_employee": """employee_number varchar, scim_id varchar, full_name varchar, email varchar,
        source_title varchar, canonical_job_title varchar, job_family varchar, job_level varchar, department varchar,
        division varchar, cost_center varchar, manager_employee_number varchar, location varchar,
        employment_type varchar, fte double, frontline boolean, hire_date date, termination_date date,
        termination_reason varchar, is_active boolean, in_payroll boolean, in_lms boolean""",
    "reporting.dim_job_title": """canonical_job_title varchar, job_family varchar, job_level varchar,
        remuneration_package varchar, active_headcount bigint""",
    "reporting.job_title_alias": """source_system varchar, source_title varchar, canonical_job_title varchar,
        match_method varchar, occurrences bigint""",
    "reporting.dim_competency": """competency_id varchar, code varchar, name varchar, category varchar,
        framework varchar, scale_max integer""",
    "reporting.fct_competency_gap": """employee_number varchar, competency_id varchar, required_level integer,
        assessed_level double, self_rating double, manager_rating double, others_mean double, gap double,
        gap_status varchar, recommended_course_id varchar, recommended_course_completed boolean""",
    "reporting.fct_learning_completion": """statement_id varchar, employee_number varchar, course_id varchar,
        activity_id varchar, verb varchar, success boolean, score_scaled double, duration_minutes double,
        completed_at timestamp""",
    "reporting.fct_training_assignment": """assignment_id varchar, employee_number varchar, course_id varchar,
        assigned_at timestamp, due_date date, reason varchar, compliance boolean, completed_at timestamp,
        status varchar, days_overdue integer""",
    "reporting.dim_objective": """objective_id varchar, parent_objective_id varchar, root_objective_id varchar,
        level varchar, depth integer, title varchar, owner_employee_number varchar, org_unit varchar, period varchar,
        start_date date, due_date date, weight double, status varchar""",
    "reporting.fct_checkin": """checkin_id varchar, objective_id varchar, employee_number varchar,
        manager_employee_number varchar, meeting_date date, progress_pct double, confidence varchar,
        has_impediment boolean, help_requested boolean""",
    "reporting.fct_objective_progress": """objective_id varchar, as_of_date date, progress_pct double,
        last_checkin_date date, days_since_checkin integer, forecast_completion_date date, forecast_slip_days integer,
        risk_status varchar""",
    "reporting.rpt_headcount_reconciliation": """cost_center varchar, hris_active bigint, payroll_active bigint,
        matched bigint, hris_only bigint, payroll_only bigint""",
    "audit.pipeline_run": """run_id varchar, started_at timestamp, finished_at timestamp, status varchar,
        code_version varchar, trigger varchar""",
    "audit.source_extract": """run_id varchar, source varchar, stream varchar, mode varchar, cursor_from varchar,
        cursor_to varchar, records bigint, pages bigint, bytes bigint, checksum varchar, started_at timestamp,
        finished_at timestamp""",
    "audit.dq_result": """run_id varchar, check_name varchar, target_table varchar, severity varchar,
        success boolean, observed_value varchar, unexpected_count bigint, sample_keys varchar,
        evaluated_at timestamp, engine varchar""",
    "audit.publication": """run_id varchar, decided_at timestamp, status varchar, blocked_by varchar,
        row_counts varchar""",
    "audit.quarantine": """run_id varchar, source varchar, stream varchar, record_ref varchar, reason varchar,
        quarantined_at timestamp""",
}

AS_OF = date(2026, 11, 20)
HOSTILE_TITLE = "<script>alert(1)</script> Call & close"
SALARY = 987654.32  # only in the restricted table: must never reach a page

E = (
    # number, name, canonical title, department, cost center, frontline, active
    ("E1", "Alice Moss", "Sales Manager", "Sales", "CC10", False, True),
    ("E2", "Bob Nye", "Sales Associate", "Sales", "CC10", True, True),
    ("E3", "Carol Ode", "Sales Associate", "Sales", "CC10", True, True),
    ("E4", "Dan Pike", "Operator", "Operations", "CC20", True, True),
    ("E5", "Eve Quill", "Operations Manager", "Operations", "CC20", False, True),
    ("E6", "Frank Rowe", "Operator", "Operations", "CC20", True, False),
    ("E7", "Grace Stone", "Analyst", "Finance", "CC30", False, True),
)

# objective_id, parent, root, level, depth, title, owner, org, period, due, status | progress, forecast, slip, risk
OBJECTIVES = (
    ("O1", None, "O1", "strategic_objective", 0, "Grow revenue", "E1", "Sales", "FY2027", date(2027, 6, 30),
     "in_progress", 40.0, date(2027, 8, 1), 32, "off_track"),
    ("O2", "O1", "O1", "supporting_goal", 1, "Win new accounts", "E1", "Sales", "FY2027-H1", date(2027, 3, 31),
     "in_progress", 50.0, date(2027, 4, 10), 10, "at_risk"),
    ("O3", "O2", "O1", "individual_task", 2, HOSTILE_TITLE, "E2", "Sales", "FY2027-Q2", date(2027, 3, 31),
     "in_progress", 50.0, date(2027, 4, 10), 10, "at_risk"),
    ("O4", "O1", "O1", "department_target", 1, "Retain customers", "E1", "Sales", "FY2027-H1", date(2027, 1, 31),
     "in_progress", 30.0, date(2027, 8, 1), 182, "off_track"),
    ("O5", None, "O5", "strategic_objective", 0, "Safe operations", "E5", "Operations", "FY2027", date(2027, 6, 30),
     "in_progress", 70.0, date(2027, 5, 1), None, "on_track"),
    ("O6", "O5", "O5", "team_goal", 1, "Zero incidents", "E4", "Operations", "FY2027-Q2", date(2027, 6, 30),
     "in_progress", 60.0, date(2027, 5, 1), None, "on_track"),
    ("O7", "O5", "O5", "individual_task", 1, "Old plan", "E4", "Operations", "FY2027-Q2", date(2027, 6, 30),
     "cancelled", None, None, None, "no_data"),
    ("O8", "O5", "O5", "individual_task", 1, "Audit closed", "E5", "Operations", "FY2027-Q2", date(2027, 2, 28),
     "done", 100.0, None, None, "done"),
)


def _employees(con: duckdb.DuckDBPyConnection) -> None:
    for number, name, title, dept, cc, frontline, active in E:
        con.execute(
            "insert into reporting.dim_employee values (?, ?, ?, ?, ?, ?, null, null, ?, 'North', ?, null, 'HQ', "
            "'full_time', 1.0, ?, date '2020-01-01', ?, ?, ?, true, true)",
            [number, f"scim-{number}", name, f"{number.lower()}@example.org", title, title, dept, cc, frontline,
             None if active else date(2026, 9, 30), None if active else "absent_from_source", active],
        )


def _rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"insert into {table} values ({marks})", [list(r) for r in rows])


def build_published_db(path: Path, *, with_reporting: bool = True) -> Path:
    """Write a published warehouse file: runs r1, r2 published, r3 blocked (the latest)."""
    con = duckdb.connect(str(path))
    try:
        for schema in ("reporting", "audit", "restricted"):
            con.execute(f"create schema {schema}")
        for table, columns in TABLES.items():
            if with_reporting or table.startswith("audit."):
                con.execute(f"create table {table} ({columns})")
        if with_reporting:
            _reporting(con)
        _audit(con, with_reporting)
    finally:
        con.close()
    return path


def _reporting(con: duckdb.DuckDBPyConnection) -> None:
    _employees(con)
    # A table the report must never read: salaries in the same file would still stay off the pages.
    con.execute("create table restricted.fct_compensation (employee_number varchar, annual_base_salary double)")
    con.execute("insert into restricted.fct_compensation values ('E1', ?)", [SALARY])
    _rows(con, "reporting.dim_job_title", [
        ("Sales Manager", "Sales", "M1", "MGMT-B", 1), ("Sales Associate", "Sales", "S1", "STAFF-A", 2),
        ("Operator", "Operations", "S1", "OPS-A", 1), ("Operations Manager", "Operations", "M1", "MGMT-B", 1),
        ("Analyst", "Finance", "P1", "PROF-A", 1),
    ])
    _rows(con, "reporting.job_title_alias", [
        ("hris", "Sales Manager", "Sales Manager", "exact", 1), ("payroll", "Sales Mgr", "Sales Manager", "normalised", 1),
        ("lms", "Mgr, Sales", "Sales Manager", "crosswalk", 1), ("hris", "Sales Associate", "Sales Associate", "exact", 2),
        ("hris", "Operator", "Operator", "exact", 2), ("lms", "Chief Vibes Officer", None, "unmapped", 1),
    ])
    _rows(con, "reporting.dim_competency", [
        ("C1", "NEG", "Negotiation", "Commercial", "Core", 5), ("C2", "SAF", "Safety", "Compliance", "Core", 5),
        ("C3", "XLS", "Spreadsheets", "Technical", "Core", 5),
    ])
    _rows(con, "reporting.fct_competency_gap", [
        ("E1", "C1", 4, 2, None, 2, None, 2, "gap", "CR1", False),
        ("E2", "C1", 3, 1, None, 1, None, 2, "gap", "CR1", True),
        ("E3", "C1", 3, 2, None, 2, None, 1, "gap", "CR1", False),
        ("E2", "C2", 3, 3, None, 3, None, 0, "met", None, None),
        ("E3", "C2", 3, None, None, None, None, None, "unassessed", None, None),
        ("E4", "C2", 3, 1, None, 1, None, 2, "gap", "CR2", False),
        ("E5", "C3", 2, None, None, None, None, None, "unassessed", None, None),
        ("E6", "C2", 3, 0, None, 0, None, 3, "gap", "CR2", False),  # inactive: not counted
        ("E7", "C3", 3, 2, None, 2, None, 1, "gap", "CR3", True),
    ])
    _rows(con, "reporting.fct_training_assignment", [
        ("A1", "E2", "CR9", datetime(2026, 9, 1), date(2026, 11, 10), "compliance", True, None, "overdue", 10),
        ("A2", "E4", "CR9", datetime(2026, 9, 1), date(2026, 11, 15), "compliance", True, None, "overdue", 5),
        ("A3", "E1", "CR1", datetime(2026, 9, 1), date(2026, 11, 17), "gap", False, None, "overdue", 3),
        ("A4", "E3", "CR9", datetime(2026, 9, 1), date(2026, 11, 15), "compliance", True, datetime(2026, 10, 1),
         "completed", None),
    ])
    _rows(con, "reporting.fct_learning_completion", [
        ("S1", "E2", "CR1", "act:cr1", "completed", True, 0.9, 60, datetime(2026, 10, 1)),
        ("S2", "E4", "CR2", "act:cr2", "passed", True, 0.8, 120, datetime(2026, 10, 2)),
        ("S3", "E1", "CR1", "act:cr1", "completed", True, 0.7, 90, datetime(2026, 10, 3)),
        ("S4", "E7", "CR3", "act:cr3", "completed", True, None, 30, datetime(2026, 10, 4)),
    ])
    _rows(con, "reporting.dim_objective", [
        (o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], date(2026, 7, 1), o[9], 1.0, o[10]) for o in OBJECTIVES
    ])
    _rows(con, "reporting.fct_objective_progress", [
        (o[0], AS_OF, o[11], date(2026, 11, 12), 8, o[12], o[13], o[14]) for o in OBJECTIVES
    ])
    _rows(con, "reporting.fct_checkin", [
        ("K1", "O3", "E2", "E1", date(2026, 11, 1), 40, "on_track", False, False),
        ("K2", "O3", "E2", "E1", date(2026, 11, 12), 50, "at_risk", True, False),  # latest: impediment
        ("K3", "O4", "E1", "E5", date(2026, 11, 12), 30, "off_track", False, True),  # latest: help
        ("K4", "O6", "E4", "E5", date(2026, 11, 1), 50, "at_risk", True, True),  # superseded below
        ("K5", "O6", "E4", "E5", date(2026, 11, 12), 60, "on_track", False, False),
        ("K6", "O8", "E5", "E5", date(2026, 11, 12), 100, "on_track", True, False),  # done: not open
    ])
    _rows(con, "reporting.rpt_headcount_reconciliation", [
        ("CC10", 3, 3, 3, 0, 0), ("CC20", 2, 3, 2, 0, 1), ("CC30", 1, 1, 1, 0, 0),
    ])


def _audit(con: duckdb.DuckDBPyConnection, with_reporting: bool) -> None:
    runs = [("r1", 1, "published"), ("r2", 2, "published"), ("r3", 3, "blocked")]
    if not with_reporting:
        runs = [("r1", 1, "blocked")]
    for run_id, day, status in runs:
        start = datetime(2026, 11, 17 + day, 2, 0, 0)
        con.execute(
            "insert into audit.pipeline_run values (?, ?, ?, ?, 'abc123', 'schedule')",
            [run_id, start, datetime(2026, 11, 17 + day, 2, 4 * day, 0), "succeeded" if status == "published" else "failed"],
        )
        con.execute(
            "insert into audit.publication values (?, ?, ?, ?, ?)",
            [run_id, datetime(2026, 11, 17 + day, 2, 4 * day, 0), status,
             '["unique_employee_number"]' if status == "blocked" else None, '{"reporting.dim_employee": 7}'],
        )
        checks = [
            ("unique_employee_number", "reporting.dim_employee", "blocking", status != "blocked", "2",
             2 if status == "blocked" else 0, '["E1"]' if status == "blocked" else "[]"),
            ("not_null_employee_number", "reporting.dim_employee", "blocking", True, "0", 0, "[]"),
            ("headcount_by_cost_center_within_tolerance", "reporting.rpt_headcount_reconciliation", "blocking", True,
             "1", 0, "[]"),
            ("terminated_but_paid", "restricted.fct_compensation", "warn", False, "1", 1, '["E6"]'),
            ("scim_extension_completeness", "reporting.dim_employee", "warn", True, "1.0", 0, "[]"),
        ]
        for name, table, severity, ok, observed, unexpected, keys in checks:
            con.execute(
                "insert into audit.dq_result values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'sql')",
                [run_id, name, table, severity, ok, observed, unexpected, keys, start],
            )
        _rows(con, "audit.source_extract", [
            (run_id, "hris", "users", "full", None, "2026-11-17T00:00:00Z", 7, 1, 4096, "sha256:aa", start, start),
            (run_id, "lrs", "statements", "incremental", "2026-11-16T00:00:00Z", "2026-11-17T00:00:00Z", 4, 1, 2048,
             "sha256:bb", start, start),
        ])
        con.execute(
            "insert into audit.quarantine values (?, 'payroll', 'rows', 'payroll_2026-10-31.csv:7', 'bad_number', ?)",
            [run_id, start],
        )


# A next publication in which O6 went on_track -> at_risk (so did its parent O5) and
# O2's forecast completion moved 5 days later.
SLIPS: dict[str, tuple[str, date | None]] = {
    "O6": ("at_risk", date(2027, 5, 1)), "O5": ("at_risk", date(2027, 5, 1)), "O2": ("at_risk", date(2027, 4, 15)),
}


def republish(db: Path, run_id: str, changes: dict[str, tuple[str, date | None]]) -> None:
    """A later publication: new run, objectives' (risk, forecast) changed as given."""
    con = duckdb.connect(str(db))
    try:
        stamp = datetime(2026, 11, 25, 3, 0)
        con.execute("insert into audit.pipeline_run values (?, ?, ?, 'succeeded', 'abc123', 'schedule')",
                    [run_id, stamp, datetime(2026, 11, 25, 3, 6)])
        con.execute("insert into audit.publication values (?, ?, 'published', null, '{}')", [run_id, stamp])
        # the new run's checks and extracts: those of r2, all blocking checks passing
        for table in ("audit.dq_result", "audit.source_extract"):
            con.execute(f"insert into {table} select * replace (? as run_id) from {table} where run_id = 'r2'",
                        [run_id])
        for oid, (risk, forecast) in changes.items():
            con.execute("update reporting.fct_objective_progress set risk_status = ?, forecast_completion_date = ? "
                        "where objective_id = ?", [risk, forecast, oid])
    finally:
        con.close()
