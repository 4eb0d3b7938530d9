"""audit.html: the latest run's checks, the extracts it consumed and its publication
decision, and the history of the last 30 runs with blocked runs shown as blocked."""

from __future__ import annotations

import json
from typing import Any

from orchestration.lib.report.charts import run_strip
from orchestration.lib.report.db import PublishedDb
from orchestration.lib.report.meta import ReportMeta, parse_list
from orchestration.lib.report.render import Page

HISTORY_RUNS = 30

CHECKS_SQL = """
select check_name, target_table, severity, success, observed_value, unexpected_count, sample_keys,
       evaluated_at, engine
from audit.dq_result where run_id = ?
order by success, case severity when 'blocking' then 0 else 1 end, check_name
"""

EXTRACTS_SQL = """
select source, stream, mode, cursor_from, cursor_to, records, pages, bytes, checksum, started_at, finished_at
from audit.source_extract where run_id = ?
order by source, stream, started_at
"""

QUARANTINE_SQL = """
select source, stream, reason, count(*) as records
from audit.quarantine where run_id = ?
group by 1, 2, 3 order by records desc, source, stream
"""

DECISION_SQL = """
select run_id, decided_at, status, blocked_by, row_counts
from audit.publication where run_id = ? order by decided_at desc limit 1
"""

# The latest decision of each run; a run without one is still running or was cut short.
HISTORY_SQL = """
with decision as (
    select run_id, status, blocked_by,
           row_number() over (partition by run_id order by decided_at desc) as rn
    from audit.publication
)
select r.run_id, r.started_at, r.finished_at, r.status, r.code_version, r.trigger,
       d.status as publication_status, d.blocked_by,
       date_diff('second', r.started_at, r.finished_at) as duration_s
from audit.pipeline_run as r
left join decision as d on d.run_id = r.run_id and d.rn = 1
order by r.started_at desc nulls last, r.run_id desc
limit ?
"""


# Provisioning the LMS (CONTRACT section 5): the run's plan by action, its results by action and
# status, held plans and failures with the SCIM error (keys and the server's detail, e-mails masked).
PROVISION_PLANNED_SQL = """
select action, count(distinct coalesce(employee_number, '') || '|' || coalesce(target_id, '')) as users,
       count(*) as fields
from audit.provisioning_change where run_id = ? group by 1 order by 1
"""

PROVISION_RESULTS_SQL = """
select action, status, count(*) as n from audit.provisioning_result where run_id = ?
group by 1, 2 order by 1, 2
"""

PROVISION_PROBLEMS_SQL = """
select employee_number, target_id, action, status, http_status, error from audit.provisioning_result
where run_id = ? and status in ('failed', 'held') order by status, employee_number limit 50
"""

PROVISION_CONFLICTS_SQL = """
select employee_number, target_id, field, value_after as detail from audit.provisioning_change
where run_id = ? and action = 'conflict' order by employee_number, target_id limit 50
"""


def _provisioning(db: PublishedDb, run_id: str | None) -> dict[str, Any] | None:
    needs = ["audit.provisioning_change", "audit.provisioning_result"]
    planned = db.rows(PROVISION_PLANNED_SQL, [run_id], needs=needs) if run_id else []
    if not planned:
        return None
    results = db.rows(PROVISION_RESULTS_SQL, [run_id], needs=needs)
    problems = db.rows(PROVISION_PROBLEMS_SQL, [run_id], needs=needs)
    return {"planned": planned, "results": results, "conflicts": db.rows(PROVISION_CONFLICTS_SQL, [run_id],
                                                                          needs=needs),
            "failures": [p for p in problems if p["status"] == "failed"],
            "held": sum(r["n"] for r in results if r["status"] == "held")}


def build(db: PublishedDb, meta: ReportMeta) -> Page:
    run_id = meta.latest_run_id
    if run_id is None:
        last = db.one(
            "select run_id from audit.pipeline_run order by started_at desc nulls last limit 1",
            needs=["audit.pipeline_run"],
        )
        run_id = last["run_id"] if last else None

    checks = [
        {**c, "keys": parse_list(c["sample_keys"])}
        for c in (db.rows(CHECKS_SQL, [run_id], needs=["audit.dq_result"]) if run_id else [])
    ]
    summary = {
        f"{sev}_{res}": sum(1 for c in checks if c["severity"] == sev and bool(c["success"]) == (res == "pass"))
        for sev in ("blocking", "warn")
        for res in ("pass", "fail")
    }
    extracts = [
        {**e, "seconds": _seconds(e["started_at"], e["finished_at"])}
        for e in (db.rows(EXTRACTS_SQL, [run_id], needs=["audit.source_extract"]) if run_id else [])
    ]
    quarantine = db.rows(QUARANTINE_SQL, [run_id], needs=["audit.quarantine"]) if run_id else []
    decision = db.one(DECISION_SQL, [run_id], needs=["audit.publication"]) if run_id else None
    if decision:
        decision = {
            **decision,
            "blocked_list": parse_list(decision["blocked_by"]),
            "counts": _counts(decision["row_counts"]),
        }
    history = db.rows(HISTORY_SQL, [HISTORY_RUNS], needs=["audit.pipeline_run", "audit.publication"])
    for h in history:
        h["blocked_list"] = parse_list(h["blocked_by"])
        h["shown_status"] = h["publication_status"] or (h["status"] or "unknown")

    figures = {
        "run_id": run_id,
        **summary,
        "checks": len(checks),
        "extracts": len(extracts),
        "records": sum(e["records"] or 0 for e in extracts),
        "decision": decision["status"] if decision else None,
        "history_runs": len(history),
        "history_blocked": sum(1 for h in history if h["publication_status"] == "blocked"),
    }
    context = {
        "run_id": run_id,
        "checks": checks,
        "summary": summary,
        "extracts": extracts,
        "quarantine": quarantine,
        "decision": decision,
        "history": history,
        "history_chart": run_strip(list(reversed(history))),
        "history_limit": HISTORY_RUNS,
        "figures": figures,
        "provisioning": _provisioning(db, run_id),
    }
    return Page("audit", "Audit", context, figures)


def _seconds(start: Any, end: Any) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def _counts(text: Any) -> list[tuple[str, Any]]:
    """row_counts is a JSON object {"schema.table": rows}; anything else shows as nothing."""
    try:
        value = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return []
    return sorted(value.items()) if isinstance(value, dict) else []
