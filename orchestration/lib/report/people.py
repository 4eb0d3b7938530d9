"""people.html: headcount by department and title, the job-title consolidation, the
remuneration package of each title (a package name, never money) and the HRIS and
payroll headcount reconciliation with its findings."""

from __future__ import annotations

from collections import defaultdict

from orchestration.lib.report.charts import hbar_chart
from orchestration.lib.report.db import PublishedDb
from orchestration.lib.report.meta import ReportMeta, parse_list
from orchestration.lib.report.render import Page

HEADCOUNT_SQL = """
select coalesce(department, '(none)') as department, coalesce(canonical_job_title, '(no title)') as title,
       count(*) as headcount
from reporting.dim_employee
where is_active
group by 1, 2
order by 1, 3 desc, 2
"""

ALIASES_SQL = """
select source_system, source_title, canonical_job_title, match_method, occurrences
from reporting.job_title_alias
order by canonical_job_title nulls last, occurrences desc nulls last, source_system, source_title
"""

TITLES_SQL = """
select canonical_job_title, job_family, job_level, remuneration_package, active_headcount
from reporting.dim_job_title
order by active_headcount desc nulls last, canonical_job_title
"""

RECONCILIATION_SQL = """
select cost_center, hris_active, payroll_active, matched, hris_only, payroll_only,
       hris_active - payroll_active as difference
from reporting.rpt_headcount_reconciliation
order by abs(hris_active - payroll_active) desc, cost_center
"""

# Warn-level findings the publication run recorded about the reconciliation (keys only).
FINDINGS_SQL = """
select check_name, severity, success, observed_value, unexpected_count, sample_keys
from audit.dq_result
where run_id = ? and (check_name = 'terminated_but_paid' or check_name like 'headcount%'
                      or target_table in ('reporting.rpt_headcount_reconciliation', 'restricted.fct_compensation'))
order by check_name
"""

# An optional published extra (not in the contract): titles paid under several packages.
PACKAGE_FINDING_SQL = """
select canonical_job_title, package_count, remuneration_packages
from reporting.rpt_title_package_finding order by canonical_job_title
"""


def build(db: PublishedDb, meta: ReportMeta) -> Page:
    headcount = db.rows(HEADCOUNT_SQL, needs=["reporting.dim_employee"])
    by_dept: dict[str, int] = defaultdict(int)
    titles_by_dept: dict[str, list[dict]] = defaultdict(list)
    for row in headcount:
        by_dept[row["department"]] += row["headcount"]
        titles_by_dept[row["department"]].append(row)
    departments = sorted(by_dept, key=lambda d: (-by_dept[d], d))

    aliases = db.rows(ALIASES_SQL, needs=["reporting.job_title_alias"])
    mapped: dict[str, list[dict]] = defaultdict(list)
    unmapped = []
    for a in aliases:
        if a["match_method"] == "unmapped" or a["canonical_job_title"] is None:
            unmapped.append(a)
        else:
            mapped[a["canonical_job_title"]].append(a)
    consolidation = [
        {
            "title": t,
            "aliases": rows,
            "variants": len({(r["source_title"] or "").strip() for r in rows}),
            "occurrences": sum(r["occurrences"] or 0 for r in rows),
        }
        for t, rows in sorted(mapped.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]

    titles = db.rows(TITLES_SQL, needs=["reporting.dim_job_title"])
    reconciliation = db.rows(RECONCILIATION_SQL, needs=["reporting.rpt_headcount_reconciliation"])
    findings = []
    if meta.publication_run_id:
        for f in db.rows(FINDINGS_SQL, [meta.publication_run_id], needs=["audit.dq_result"]):
            findings.append({**f, "keys": parse_list(f["sample_keys"])})
    package_findings = db.rows(PACKAGE_FINDING_SQL, needs=["reporting.rpt_title_package_finding"])

    totals = {
        k: sum(r[k] or 0 for r in reconciliation)
        for k in ("hris_active", "payroll_active", "matched", "hris_only", "payroll_only")
    }
    terminated_paid = next((f for f in findings if f["check_name"] == "terminated_but_paid"), None)
    figures = {
        "active_headcount": sum(by_dept.values()),
        "headcount_by_department": dict(by_dept),
        "canonical_titles": len(titles),
        "aliases": sum(len(v) for v in mapped.values()),
        "unmapped_titles": len(unmapped),
        "hris_active": totals["hris_active"],
        "payroll_active": totals["payroll_active"],
        "terminated_but_paid": terminated_paid["unexpected_count"] if terminated_paid else None,
    }
    context = {
        "departments": [
            {"name": d, "headcount": by_dept[d], "titles": titles_by_dept[d]} for d in departments
        ],
        "dept_chart": hbar_chart([(d, by_dept[d]) for d in departments], testid="headcount-bar"),
        "consolidation": consolidation,
        "unmapped": unmapped,
        "titles": titles,
        "package_findings": package_findings,
        "reconciliation": reconciliation,
        "totals": totals,
        "findings": findings,
        "figures": figures,
    }
    return Page("people", "People", context, figures)
