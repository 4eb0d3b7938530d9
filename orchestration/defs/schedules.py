"""The nightly schedule; cron and timezone from the environment (default 02:00 UTC),
validated by the settings (a bad cron or zone is a one-line configuration error)."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.jobs import nightly_sync
from orchestration.lib.settings import schedule_settings

_cron, _timezone = schedule_settings()

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_sync_schedule",
    job=nightly_sync,
    cron_schedule=_cron,
    execution_timezone=_timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={"bridge/trigger": "schedule"},
)
