"""The audit trail of runs: audit.pipeline_run rows and the end-of-run decision.

Every run ends with exactly one publication decision. `publish` records it on success;
a run that fails or is stopped by a blocking check before `publish` gets a `blocked`
decision here (`abandoned` when a signal stopped it, `dry_run` for a dry run), so auditors
never find a run without a verdict, nor one with two.
"""

from __future__ import annotations

import functools
import json
import logging
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import requests

from orchestration.lib import publication
from orchestration.lib.warehouse import WarehousePaths

log = logging.getLogger(__name__)
REPO_DIR = Path(__file__).resolve().parents[2]


@functools.cache
def code_version() -> str:
    """The git commit the code runs from (the package version outside a checkout)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            dirty = subprocess.run(
                ["git", "-C", str(REPO_DIR), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
            return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import version

    return f"hris-lms-bridge {version('hris-lms-bridge')}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_started(con: duckdb.DuckDBPyConnection, run_id: str, trigger: str) -> None:
    """Insert the run's row once (whichever step of the run gets here first).

    Syncs never overlap, so a run still marked `running` when another starts was killed
    (SIGKILL, a lost machine) before it could close itself: it is recorded as abandoned."""
    con.execute(
        "update audit.pipeline_run set status = 'abandoned' where status = 'running' and run_id <> ?",
        [run_id],
    )
    con.execute(
        "insert into audit.pipeline_run (run_id, started_at, finished_at, status, code_version, trigger) "
        "select ?, ?, null, 'running', ?, ? "
        "where not exists (select 1 from audit.pipeline_run where run_id = ?)",
        [run_id, _now(), code_version(), trigger, run_id],
    )


def finish(
    con: duckdb.DuckDBPyConnection,
    paths: WarehousePaths,
    run_id: str,
    *,
    failed_steps: list[str] | None = None,
    trigger: str = "manual",
    webhook_url: str | None = None,
    run_url: str | None = None,
    dry_run: bool = False,
    interrupted: str | None = None,
) -> publication.PublicationDecision:
    """Close the run: make sure it has exactly one decision, set its final status, alert if needed.

    A run without a decision gets one here: `abandoned` when a signal stopped it, `dry_run` for a
    dry run, else `blocked` (by its failed checks, or its failed steps)."""
    ensure_started(con, run_id, trigger)
    decision = publication.decision_for(con, run_id)
    status = publication.run_status(con, run_id)
    if decision is None or status == "running":
        failing = publication.blocking_failures(con, run_id)
        steps = [f"step_failed: {step}" for step in (failed_steps or ["unknown"])]
        if decision is not None:  # decided, but the run was not closed (stopped right after)
            status = publication.run_status_for(decision.status)
            publication.mark_run_finished(con, run_id, status)
        elif interrupted:
            status = "abandoned"
            decision = publication.close_unpublished(
                con, paths, run_id, "abandoned", [f"interrupted: {interrupted}", *failing], status)
        elif dry_run:
            status = "dry_run"
            decision = publication.close_unpublished(con, paths, run_id, "dry_run", failing or steps, status)
        else:
            status = "blocked" if failing else "failed"
            decision = publication.close_unpublished(con, paths, run_id, "blocked", failing or steps, status)
    if decision.status not in ("published", "dry_run") and webhook_url:
        alert(webhook_url, run_id, status or "failed", decision.blocked_by, run_url)
    return decision


def alert(webhook_url: str, run_id: str, status: str, blocking_checks: list[str], run_url: str | None) -> None:
    """Post a short JSON message; an unreachable webhook is logged, never fatal."""
    body = {
        "text": f"hris-lms-bridge run {run_id} {status}",
        "run_id": run_id,
        "status": status,
        "blocking_checks": blocking_checks,
        "run_url": run_url,
    }
    try:
        requests.post(webhook_url, data=json.dumps(body), headers={"Content-Type": "application/json"}, timeout=10)
    except requests.RequestException as exc:
        log.warning("alert webhook failed: %s", type(exc).__name__)
