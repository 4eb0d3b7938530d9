"""The nightly schedule; cron and timezone from the environment (default 02:00 UTC)."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.defs.jobs import nightly_sync

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_sync_schedule",
    job=nightly_sync,
    cron_schedule=os.environ.get("BRIDGE_SCHEDULE_CRON", "0 2 * * *"),
    execution_timezone=os.environ.get("BRIDGE_SCHEDULE_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={"bridge/trigger": "schedule"},
)
