"""strategy.html: the objective cascade with progress, forecast and risk, the open
impediments and help requests of the latest check-ins, and what slipped since the
previous publication."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from orchestration.lib.report import state
from orchestration.lib.report.charts import RISK_COLOURS, stacked_bar
from orchestration.lib.report.db import PublishedDb
from orchestration.lib.report.meta import ReportMeta
from orchestration.lib.report.render import Page

RISKS = ("on_track", "at_risk", "off_track", "done", "no_data")
# A page stays readable (and a few MB) for a large organisation: past this many rows the
# cascade keeps its top levels and the objectives at risk or off track, in cascade order.
MAX_CASCADE_ROWS = 1500
TOP_LEVELS = 2  # depth 0..2: strategic objectives, supporting goals, department targets
MAX_ISSUE_ROWS = 500

OBJECTIVES_SQL = """
select o.objective_id, o.parent_objective_id, o.root_objective_id, o.level, o.depth, o.title,
       o.owner_employee_number, owner.full_name as owner_name, o.org_unit, o.period, o.start_date,
       o.due_date, o.weight, o.status,
       p.progress_pct, p.last_checkin_date, p.days_since_checkin, p.forecast_completion_date,
       p.forecast_slip_days, p.risk_status
from reporting.dim_objective as o
left join reporting.fct_objective_progress as p on p.objective_id = o.objective_id
left join reporting.dim_employee as owner on owner.employee_number = o.owner_employee_number
"""

# The latest check-in of each objective, kept when it raises an impediment or asks for help.
OPEN_ISSUES_SQL = """
with latest as (
    select *, row_number() over (partition by objective_id order by meeting_date desc, checkin_id desc) as rn
    from reporting.fct_checkin
)
select l.checkin_id, l.objective_id, o.title, o.org_unit, o.period, o.status, l.meeting_date, l.progress_pct,
       l.confidence, l.has_impediment, l.help_requested, l.employee_number, e.full_name as employee_name,
       l.manager_employee_number, m.full_name as manager_name
from latest as l
join reporting.dim_objective as o on o.objective_id = l.objective_id
left join reporting.dim_employee as e on e.employee_number = l.employee_number
left join reporting.dim_employee as m on m.employee_number = l.manager_employee_number
where l.rn = 1 and (l.has_impediment or l.help_requested)
  and coalesce(o.status, '') not in ('done', 'cancelled')
order by l.meeting_date desc, l.checkin_id
"""


def build(db: PublishedDb, meta: ReportMeta, previous_state: dict[str, Any] | None) -> tuple[Page, state.Snapshot]:
    objectives = db.rows(
        OBJECTIVES_SQL,
        needs=["reporting.dim_objective", "reporting.fct_objective_progress", "reporting.dim_employee"],
    )
    ordered = cascade_order(objectives)
    live = [o for o in ordered if o["status"] != "cancelled"]  # cancelled ones carry no risk
    counts = Counter(o["risk_status"] or "no_data" for o in live)
    risk_counts = {r: counts.get(r, 0) for r in RISKS}
    issues = db.rows(
        OPEN_ISSUES_SQL, needs=["reporting.fct_checkin", "reporting.dim_objective", "reporting.dim_employee"]
    )

    current = state.snapshot_of(meta.publication_run_id, meta.as_of_date, objectives)
    base = state.baseline(previous_state, meta.publication_run_id)
    by_id = {o["objective_id"]: o for o in objectives}
    slipped = []
    if base is not None:
        for s in state.slips(base, current):
            o = by_id.get(s.objective_id, {})
            slipped.append({"slip": s, **o})
        slipped.sort(key=lambda r: (-state.RISK_RANK.get(r["risk_status"] or "", 1), -(r["slip"].days_later or 0)))

    strategic = [o for o in live if o["depth"] == 0]
    figures = {
        "objectives": len(live),
        "at_risk": risk_counts["at_risk"],
        "off_track": risk_counts["off_track"],
        "on_track": risk_counts["on_track"],
        "done": risk_counts["done"],
        "no_data": risk_counts["no_data"],
        "open_impediments": sum(1 for i in issues if i["has_impediment"]),
        "help_requests": sum(1 for i in issues if i["help_requested"]),
        "slipped": len(slipped),
    }
    shown = cap_cascade(ordered, MAX_CASCADE_ROWS)
    context = {
        "objectives": shown,
        "objectives_total": len(ordered),
        "issues_total": len(issues),
        "strategic": strategic,
        "risk_counts": risk_counts,
        "risk_bar": stacked_bar(risk_counts, RISK_COLOURS),
        "issues": issues[:MAX_ISSUE_ROWS],
        "slipped": slipped,
        "baseline": base,
        "periods": sorted({o["period"] for o in objectives if o["period"]}),
        "org_units": sorted({o["org_unit"] for o in objectives if o["org_unit"]}),
        "figures": figures,
    }
    return Page("strategy", "Strategy execution", context, figures), current


def cascade_order(objectives: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Depth-first from each root, siblings by due date then title; sets `indent` for display.

    Roots are objectives whose parent is absent (strategic objectives and orphans)."""
    ids = {o["objective_id"] for o in objectives}
    children: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    roots = []
    for o in objectives:
        parent = o["parent_objective_id"]
        (children[parent] if parent is not None and parent in ids else roots).append(o)

    def key(o: dict[str, Any]) -> tuple:
        return (str(o["due_date"] or "9999"), str(o["title"] or ""), str(o["objective_id"]))

    out: list[dict[str, Any]] = []
    seen: set = set()
    stack = [(o, 0) for o in sorted(roots, key=key, reverse=True)]
    while stack:
        o, indent = stack.pop()
        if o["objective_id"] in seen:
            continue  # defensive: published cascades have no cycles
        seen.add(o["objective_id"])
        out.append({**o, "indent": indent, "has_children": bool(children.get(o["objective_id"]))})
        stack.extend((c, indent + 1) for c in sorted(children.get(o["objective_id"], []), key=key, reverse=True))
    return out


def cap_cascade(ordered: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """All rows when they fit; else the top levels and what needs attention, then the first `limit`."""
    if len(ordered) <= limit:
        return ordered
    kept = [o for o in ordered if o["depth"] <= TOP_LEVELS or o["risk_status"] in ("at_risk", "off_track")]
    return kept[:limit]
