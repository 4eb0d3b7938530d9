"""One provisioning pass: plan against what the LMS holds now, record the plan, hold it past a
safeguard, apply it, record every result, read back (CONTRACT section 5)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import duckdb

from connectors.config import HttpSettings
from connectors.scim_provision import Capabilities, ScimTarget, ScimTargetConfig
from orchestration.lib import publication
from orchestration.lib.provisioning.apply import ApplyReport, apply_plan, held_results
from orchestration.lib.provisioning.audit_rows import (
    change_columns,
    note_columns,
    text,
    write_changes,
    write_results,
)
from orchestration.lib.provisioning.config import ProvisioningConfig
from orchestration.lib.provisioning.plan import Plan, build_plan, read_people
from orchestration.lib.quality.audit_rows import write_dq_results
from orchestration.lib.quality.outcome import CheckOutcome
from orchestration.lib.warehouse import WarehousePaths, connect_read_only

log = logging.getLogger("orchestration.provisioning")
SAFEGUARD_CHECK = "provisioning_safeguards"
READ_BACK_CHECK = "provisioning_read_back"
ENGINE = "provisioning"
DEFAULT_HTTP = HttpSettings()


@dataclass
class Outcome:
    mode: str                        # plan | apply
    plan: Plan
    held: bool                       # a safeguard held the plan (and it was not overridden)
    report: ApplyReport | None       # None when nothing was sent


def target_config(cfg: ProvisioningConfig, http: HttpSettings = DEFAULT_HTTP) -> ScimTargetConfig:
    return ScimTargetConfig(cfg.url or "", cfg.token or "", page_size=cfg.page_size, http=http)


def compute_plan(people_con: duckdb.DuckDBPyConnection, cfg: ProvisioningConfig, as_of: date,
                 http: HttpSettings = DEFAULT_HTTP) -> tuple[Plan, Capabilities]:
    """Capabilities first, then every LMS user (paged), then the plan. Sends no write.

    Every night reads the LMS in full: the plan compares the checked HRIS data with what the LMS
    holds now, so a change made in the LMS by anyone else is seen the next night (no stored
    snapshot to drift). Each page is reduced to the fields the plan compares as it arrives."""
    people = read_people(people_con, as_of, cfg.scope)
    with ScimTarget(target_config(cfg, http)) as target:
        caps = target.capabilities()
        plan = build_plan(people, (u for page in target.pages() for u in page), caps,
                          max_deactivations=cfg.max_deactivations, max_change_rate=cfg.max_change_rate)
    return plan, caps


def provision(work: duckdb.DuckDBPyConnection, people_con: duckdb.DuckDBPyConnection, cfg: ProvisioningConfig,
              run_id: str, as_of: date, *, apply: bool, allow_over_threshold: bool = False,
              webhook_url: str | None = None, http: HttpSettings = DEFAULT_HTTP) -> Outcome:
    """Plan, record the plan in `audit.provisioning_change` (before anything is sent), then, when
    asked to apply and no safeguard holds it, apply it. Checks go to `audit.dq_result`."""
    work = work.cursor()    # its own statement state: a caller's half-read result cannot block the writes
    plan, caps = compute_plan(people_con, cfg, as_of, http)
    write_changes(work, run_id, change_columns(plan))
    held_by = plan.held_by
    held = bool(held_by) and not allow_over_threshold
    if not apply:
        # a plan that sends nothing holds nothing: the finding is recorded when an apply is held
        return Outcome("plan", plan, held, None)
    write_dq_results(work, run_id, [CheckOutcome(
        check_name=SAFEGUARD_CHECK, target_table="audit.provisioning_change", severity="blocking",
        success=not held_by, observed_value=f"{plan.deactivations} deactivations, change rate "
                                            f"{plan.change_rate:.4f}",
        unexpected_count=len(held_by), sample_keys=[], engine=ENGINE)])
    if held:
        write_results(work, held_results(run_id, plan))
        if webhook_url:
            from orchestration.lib.run_log import alert

            alert(webhook_url, run_id, "provisioning held", [SAFEGUARD_CHECK], None)
        log.warning("provisioning plan held: %s", "; ".join(held_by))
        return Outcome("apply", plan, True, None)
    report = apply_plan(plan, caps, lambda: ScimTarget(target_config(cfg, http)), run_id, workers=cfg.workers,
                        record=lambda rows: write_results(work, rows))
    if report.conflicts:
        write_changes(work, run_id, note_columns(report.conflicts))
    diffs = report.read_back_differences
    write_dq_results(work, run_id, [CheckOutcome(
        check_name=READ_BACK_CHECK, target_table="audit.provisioning_result", severity="warn",
        success=not diffs, observed_value=f"{len(diffs)} differences",
        unexpected_count=len(diffs), sample_keys=sorted({en for en, _ in diffs}), engine=ENGINE)])
    return Outcome("apply", plan, False, report)


def was_published(work: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """Whether this run's latest publication decision is `published` (a blocked run provisions nothing)."""
    rows = work.execute("select status from audit.publication where run_id = ? order by decided_at desc limit 1",
                        [run_id]).fetchall()
    return bool(rows) and rows[0][0] == "published"


@contextmanager
def published_people(paths: WarehousePaths) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to what readers see (on Postgres, a snapshot of it)."""
    con = connect_read_only(paths, publication.report_source(paths))
    try:
        yield con
    finally:
        con.close()


def publish_audit(work: duckdb.DuckDBPyConnection, paths: WarehousePaths, run_id: str) -> None:
    """Bring the published audit schema up to date with this run's plan and results (reporting
    carried over unchanged, only the audit rows the published copy lacks copied)."""
    publication.refresh_published_audit(work, paths, run_id)


def summary_lines(outcome: Outcome, *, changes: int = 30) -> list[str]:
    """What `bridge provision` and the run log print: counts by action, then the changes."""
    plan = outcome.plan
    counts = plan.counts()
    lines = [f"provisioning plan ({outcome.mode}): " + ", ".join(f"{a} {n}" for a, n in counts.items()),
             (f"  {plan.lms_users} LMS users read, {plan.people_in_scope} people in scope, "
              f"{plan.matched_in_scope} matched, {plan.unmatched_lms_users} LMS users unmatched (never touched)")]
    for reason in plan.held_by:
        lines.append(f"  HELD: {reason}" + ("" if outcome.held else " (overridden)"))
    if outcome.report:
        lines.append("  applied: " + ", ".join(f"{k} {v}" for k, v in sorted(outcome.report.statuses.items()))
                     + f"; read-back differences {len(outcome.report.read_back_differences)}")
    shown = 0
    for ch in plan.changes:
        for name, before, after in ch.fields:
            if shown >= changes:
                lines.append(f"  ... {sum(len(c.fields) for c in plan.changes) - shown} more field changes "
                             "(all in audit.provisioning_change)")
                return lines
            lines.append(f"  {ch.action:<10} {ch.employee_number:<12} {ch.target_id or '-':<14} {name:<15} "
                         f"{text(before)!s:<24} -> {text(after)}")
            shown += 1
    return lines
