"""Sensors: new payroll files start a sync; a failed run still gets its audit verdict."""


import hashlib
import json

import dagster as dg

from connectors.payroll import list_files
from orchestration.defs.jobs import nightly_sync
from orchestration.lib import run_log
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehousePaths, connect_work


@dg.sensor(job=nightly_sync, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def payroll_inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Starts a sync when a payroll export lands in PAYROLL_INBOX. The cursor is the set of
    file checksums already seen; the connector itself skips loaded files by checksum too,
    so a sensor that fires twice loads nothing twice.

    Its first evaluation on a Dagster instance (a fresh `make dev`, say) only takes note of
    the exports already there: they are not news, and the warehouse it would write to may
    have been built from other sources (the demo's simulator). Those load with the next
    scheduled or manual sync; exports dropped from then on start one."""
    settings = Settings.from_env(require_sources=False)
    inbox = settings.sources.get("PAYROLL_INBOX")
    if not inbox:
        return dg.SkipReason("PAYROLL_INBOX is not set")
    names = {f.sha256 for f in list_files(inbox)}
    if context.cursor is None:
        return dg.SensorResult(
            skip_reason=f"first evaluation: {len(names)} payroll export(s) already in the inbox taken as seen; "
            "exports dropped from now on start a sync (the schedule or `bridge sync` loads these)",
            cursor=json.dumps(sorted(names)),
        )
    seen = set(json.loads(context.cursor))
    new = sorted(names - seen)
    if not new:
        return dg.SkipReason("no new payroll files")
    run_key = hashlib.sha256("\n".join(new).encode()).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=run_key, tags={"bridge/trigger": "sensor", "bridge/payroll_files": str(len(new))})],
        cursor=json.dumps(sorted(names | seen)),
    )


@dg.run_failure_sensor(monitored_jobs=[nightly_sync], default_status=dg.DefaultSensorStatus.RUNNING)
def record_failed_run(context: dg.RunFailureSensorContext) -> None:
    """A run stopped before `publish` (a failed step or a blocking check) gets a `blocked`
    verdict and an alert; the published tables stay as they were."""
    settings = Settings.from_env(require_sources=False)
    paths = WarehousePaths.for_settings(settings)
    failed = [e.step_key for e in context.get_step_failure_events() if e.step_key]
    con = connect_work(paths)
    try:
        from connectors.landing import ensure_schema

        ensure_schema(con)
        run_log.finish(
            con, paths, context.dagster_run.run_id, failed_steps=failed,
            trigger=context.dagster_run.tags.get("bridge/trigger", "manual"),
            webhook_url=settings.webhook_url,
        )
    finally:
        con.close()
