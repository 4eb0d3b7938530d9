"""capability.html: competency gaps by department and category, assessment coverage,
the courses that close the largest gaps, overdue compliance training, and learning
hours of frontline against other staff.

Gaps and coverage count active employees only: a leaver's gap is nobody's to close.
"""

from __future__ import annotations

from typing import Any

from orchestration.lib.report.charts import hbar_chart, heat_colour, text_colour_on
from orchestration.lib.report.db import PublishedDb
from orchestration.lib.report.meta import ReportMeta
from orchestration.lib.report.render import Page

GAP_TABLES = ["reporting.fct_competency_gap", "reporting.dim_employee", "reporting.dim_competency"]

HEATMAP_SQL = """
select coalesce(e.department, '(none)') as department, coalesce(c.category, '(none)') as category,
       count(*) filter (where g.gap_status = 'gap') as gaps,
       count(*) filter (where g.gap_status <> 'unassessed') as assessed,
       coalesce(sum(g.gap) filter (where g.gap_status = 'gap'), 0) as gap_points
from reporting.fct_competency_gap as g
join reporting.dim_employee as e on e.employee_number = g.employee_number
left join reporting.dim_competency as c on c.competency_id = g.competency_id
where e.is_active
group by 1, 2
"""

COVERAGE_SQL = """
select coalesce(e.department, '(none)') as department,
       count(*) as requirements,
       count(*) filter (where g.gap_status = 'unassessed') as unassessed,
       count(distinct g.employee_number) as employees,
       count(distinct g.employee_number) filter (where g.gap_status = 'unassessed') as employees_unassessed
from reporting.fct_competency_gap as g
join reporting.dim_employee as e on e.employee_number = g.employee_number
where e.is_active
group by 1
order by unassessed desc, department
"""

COURSES_SQL = """
select g.recommended_course_id as course_id,
       count(*) as gaps,
       sum(g.gap) as gap_points,
       count(distinct g.employee_number) as employees,
       count(*) filter (where g.recommended_course_completed) as completed,
       string_agg(distinct c.name, ', ' order by c.name) as competencies
from reporting.fct_competency_gap as g
join reporting.dim_employee as e on e.employee_number = g.employee_number
left join reporting.dim_competency as c on c.competency_id = g.competency_id
where e.is_active and g.gap_status = 'gap' and g.recommended_course_id is not null
group by 1
order by gap_points desc, gaps desc, course_id
limit 15
"""

OVERDUE_SQL = """
select a.assignment_id, a.employee_number, e.full_name, coalesce(e.department, '(none)') as department,
       a.course_id, a.assigned_at, a.due_date, a.days_overdue
from reporting.fct_training_assignment as a
left join reporting.dim_employee as e on e.employee_number = a.employee_number
where a.status = 'overdue' and a.compliance
order by a.days_overdue desc nulls last, a.assignment_id
"""

# Hours per active head, so the two groups compare whatever their size.
HOURS_SQL = """
with heads as (
    select case when frontline then 'Frontline' when not frontline then 'Other staff' else 'Unknown' end as grp,
           count(*) filter (where is_active) as active
    from reporting.dim_employee group by 1
),
hours as (
    select case when e.frontline then 'Frontline' when not e.frontline then 'Other staff' else 'Unknown' end as grp,
           coalesce(sum(l.duration_minutes), 0) / 60.0 as hours,
           count(distinct l.employee_number) as learners,
           count(*) as completions
    from reporting.fct_learning_completion as l
    join reporting.dim_employee as e on e.employee_number = l.employee_number
    group by 1
)
select h.grp, coalesce(hours.hours, 0) as hours, coalesce(hours.learners, 0) as learners,
       coalesce(hours.completions, 0) as completions, h.active,
       case when h.active > 0 then coalesce(hours.hours, 0) / h.active end as hours_per_head
from heads as h left join hours on hours.grp = h.grp
where h.active > 0 or hours.hours > 0
order by case h.grp when 'Frontline' then 0 when 'Other staff' then 1 else 2 end
"""


def build(db: PublishedDb, meta: ReportMeta) -> Page:
    cells = db.rows(HEATMAP_SQL, needs=GAP_TABLES)
    departments = sorted({c["department"] for c in cells})
    categories = sorted({c["category"] for c in cells})
    grid = {(c["department"], c["category"]): c for c in cells}
    top = max((c["gaps"] for c in cells), default=0)
    largest = max(cells, key=lambda c: (c["gaps"], c["gap_points"]), default=None) if top else None
    heat_rows = [
        {
            "department": d,
            "cells": [
                _cell(grid.get((d, cat)), d, cat, top, largest)
                for cat in categories
            ],
            "gaps": sum(grid[(d, cat)]["gaps"] for cat in categories if (d, cat) in grid),
        }
        for d in departments
    ]

    coverage = db.rows(COVERAGE_SQL, needs=GAP_TABLES[:2])
    courses = db.rows(COURSES_SQL, needs=GAP_TABLES)
    overdue = db.rows(OVERDUE_SQL, needs=["reporting.fct_training_assignment", "reporting.dim_employee"])
    overdue_by_dept: dict[str, int] = {}
    for row in overdue:
        overdue_by_dept[row["department"]] = overdue_by_dept.get(row["department"], 0) + 1
    hours = db.rows(HOURS_SQL, needs=["reporting.fct_learning_completion", "reporting.dim_employee"])

    figures = {
        "gaps": sum(c["gaps"] for c in cells),
        "largest_gap_department": largest["department"] if largest else None,
        "largest_gap_category": largest["category"] if largest else None,
        "largest_gap_count": largest["gaps"] if largest else 0,
        "unassessed": sum(r["unassessed"] for r in coverage),
        "overdue_compliance": len(overdue),
        "learning_hours": {h["grp"]: round(float(h["hours"]), 1) for h in hours},
    }
    context = {
        "categories": categories,
        "heat_rows": heat_rows,
        "largest": largest,
        "coverage": coverage,
        "courses": courses,
        "overdue": overdue[:100],
        "overdue_total": len(overdue),
        "overdue_chart": hbar_chart(
            sorted(overdue_by_dept.items(), key=lambda kv: (-kv[1], kv[0])), colour="#c4302b", testid="overdue-bar"
        ),
        "hours": hours,
        "hours_chart": hbar_chart(
            [(h["grp"], round(float(h["hours_per_head"] or 0), 2)) for h in hours], unit=" h", testid="hours-bar"
        ),
        "figures": figures,
    }
    return Page("capability", "Capability", context, figures)


def _cell(c: dict[str, Any] | None, department: str, category: str, top: int, largest: Any) -> dict[str, Any]:
    gaps = c["gaps"] if c else 0
    return {
        "department": department,
        "category": category,
        "present": c is not None,
        "gaps": gaps,
        "assessed": c["assessed"] if c else 0,
        "gap_points": c["gap_points"] if c else 0,
        "bg": heat_colour(gaps, top),
        "fg": text_colour_on(gaps, top),
        "is_largest": largest is not None and c is largest,
    }
