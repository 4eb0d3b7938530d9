"""What every page shows in its header: which publication the data comes from, its
as-of date, and how the latest run ended (a blocked run keeps the previous data)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from orchestration.lib.report.db import PublishedDb


@dataclass(frozen=True)
class ReportMeta:
    publication_run_id: str | None  # the run whose reporting tables are shown
    published_at: datetime | None
    as_of_date: date | None
    latest_run_id: str | None  # the latest run with a decision (may be blocked)
    latest_status: str | None  # published | blocked
    latest_blocked_by: list[str]
    generated_at: datetime


def read_meta(db: PublishedDb, generated_at: datetime) -> ReportMeta:
    pub = db.one(
        "select run_id, decided_at from audit.publication where status = 'published' "
        "order by decided_at desc, run_id desc limit 1",
        needs=["audit.publication"],
    )
    latest = db.one(
        "select run_id, status, blocked_by from audit.publication order by decided_at desc, run_id desc limit 1",
        needs=["audit.publication"],
    )
    as_of = db.one(
        "select max(as_of_date) as d from reporting.fct_objective_progress", needs=["reporting.fct_objective_progress"]
    )
    as_of_date = as_of["d"] if as_of and as_of["d"] is not None else None
    if as_of_date is None and pub:
        as_of_date = pub["decided_at"].date()
    return ReportMeta(
        publication_run_id=pub["run_id"] if pub else None,
        published_at=pub["decided_at"] if pub else None,
        as_of_date=as_of_date,
        latest_run_id=latest["run_id"] if latest else None,
        latest_status=latest["status"] if latest else None,
        latest_blocked_by=parse_list(latest["blocked_by"]) if latest else [],
        generated_at=generated_at,
    )


def parse_list(text: Any) -> list[str]:
    """audit text columns holding a JSON list (blocked_by, sample_keys); tolerant of plain text."""
    if text is None or text == "":
        return []
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return [str(text)]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]
