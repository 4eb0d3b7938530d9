"""The small state the report keeps between publications: each objective's risk and
forecast, so the next report can call out what slipped since.

`report/_state/objectives.json` holds the state of the publication the report shows
and of the one before it. Regenerating the report of the same publication (after a
blocked run, say) compares against the same previous publication again instead of
against itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

STATE_FILE = Path("_state") / "objectives.json"
VERSION = 1

# How bad a risk status is; a move to a higher rank is a slip.
RISK_RANK = {"done": 0, "on_track": 1, "no_data": 1, "at_risk": 2, "off_track": 3}


@dataclass(frozen=True)
class Snapshot:
    run_id: str | None
    as_of_date: str | None
    objectives: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Slip:
    objective_id: str
    previous_risk: str | None
    risk: str | None
    previous_forecast: str | None
    forecast: str | None
    days_later: int | None  # how much later the forecast completion moved
    risk_worsened: bool


def snapshot_of(run_id: str | None, as_of: date | str | None, objectives: list[dict[str, Any]]) -> Snapshot:
    return Snapshot(
        run_id,
        _iso(as_of),
        {
            str(o["objective_id"]): {
                "risk_status": o.get("risk_status"),
                "forecast_completion_date": _iso(o.get("forecast_completion_date")),
                "forecast_slip_days": o.get("forecast_slip_days"),
            }
            for o in objectives
        },
    )


def load(report_dir: Path) -> dict[str, Any] | None:
    """The state file of the report now in place, or None (first report, unreadable file)."""
    path = report_dir / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def baseline(state: dict[str, Any] | None, run_id: str | None) -> Snapshot | None:
    """The publication to compare with: the stored current one, unless it is this one."""
    if not state:
        return None
    current = _snapshot(state.get("current"))
    if current is not None and current.run_id != run_id:
        return current
    return _snapshot(state.get("previous"))


def dump(report_dir: Path, current: Snapshot, previous: Snapshot | None) -> None:
    path = report_dir / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"version": VERSION, "current": _as_dict(current), "previous": _as_dict(previous) if previous else None}
    # compact: json's C encoder does not indent, and the pure-Python one took 0.5 s of each
    # publication on the standard profile (the file is read by the next publication only)
    path.write_text(json.dumps(data, separators=(",", ":"), sort_keys=True, default=str), encoding="utf-8")


def slips(previous: Snapshot, current: Snapshot) -> list[Slip]:
    """Objectives whose risk got worse or whose forecast completion moved later."""
    found = []
    for oid, now in current.objectives.items():
        before = previous.objectives.get(oid)
        if before is None:
            continue  # new objective: nothing to compare with
        rank_before = RISK_RANK.get(before.get("risk_status") or "", 1)
        rank_now = RISK_RANK.get(now.get("risk_status") or "", 1)
        days_later = _days_between(before.get("forecast_completion_date"), now.get("forecast_completion_date"))
        worsened = rank_now > rank_before
        if worsened or (days_later is not None and days_later > 0):
            found.append(
                Slip(
                    oid,
                    before.get("risk_status"),
                    now.get("risk_status"),
                    before.get("forecast_completion_date"),
                    now.get("forecast_completion_date"),
                    days_later,
                    worsened,
                )
            )
    return found


def _days_between(before: str | None, now: str | None) -> int | None:
    if not before or not now:
        return None
    return (date.fromisoformat(now[:10]) - date.fromisoformat(before[:10])).days


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _snapshot(data: Any) -> Snapshot | None:
    if not isinstance(data, dict) or not isinstance(data.get("objectives"), dict):
        return None
    return Snapshot(data.get("run_id"), data.get("as_of_date"), data["objectives"])


def _as_dict(s: Snapshot) -> dict[str, Any]:
    return {"run_id": s.run_id, "as_of_date": s.as_of_date, "objectives": s.objectives}
