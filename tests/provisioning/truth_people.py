"""The simulator's HRIS truth as the published `reporting.dim_employee` would show it: the desired
state for provisioning tests and the provisioning benchmark."""

from __future__ import annotations

from pathlib import Path

import duckdb


def people_from_truth(truth: Path) -> duckdb.DuckDBPyConnection:
    """The simulator's HRIS truth as the published dim_employee would show it."""
    con = duckdb.connect()
    con.execute("create schema reporting")
    con.execute(f"""create table reporting.dim_employee as select employee_number, email,
        'Person ' || employee_number as full_name, canonical_job_title as source_title, canonical_job_title,
        department, division, cost_center, nullif(manager_employee_number, '') as manager_employee_number,
        active = 'true' as is_active, try_cast(nullif(termination_date, '') as date) as termination_date,
        case when absent_from_hris = 'true' then 'absent_from_source' end as termination_reason
        from read_csv('{truth / "employees.csv"}', all_varchar = true)""")
    return con
