"""Provisioning the LMS from the published HRIS data (CONTRACT section 5): wiring only.

Downstream of `publish`: Dagster runs it only after a publication, so a blocked run never
provisions; it checks the run's decision again before sending anything (as `publish` does).
"""

import dagster as dg

from orchestration.defs.publication import PUBLISH_KEY
from orchestration.defs.resources import BridgeResource
from orchestration.lib import publication
from orchestration.lib.provisioning import run as provisioning
from orchestration.lib.provisioning.config import ProvisioningConfig
from orchestration.lib.report import generate_report
from orchestration.lib.source_config import http_settings

PROVISION_KEY = dg.AssetKey(["provisioning", "lms_users"])


@dg.asset(
    key=PROVISION_KEY,
    deps=[PUBLISH_KEY],
    group_name="provisioning",
    kinds={"scim"},
    description="Brings the LMS's users in line with the published HRIS data over SCIM 2.0: "
                "plans, records the plan, holds it past a safeguard, applies (BRIDGE_LMS_PROVISIONING).",
)
def lms_users(context: dg.AssetExecutionContext, bridge: BridgeResource) -> dg.MaterializeResult:
    settings = bridge.settings()
    cfg = ProvisioningConfig.from_settings(settings)
    if publication.is_dry_run(context.run.tags):
        context.log.info("dry run: nothing provisioned")
        return dg.MaterializeResult(metadata={"mode": "dry_run"})
    if cfg.mode == "off":
        context.log.info("provisioning is off (LMS_SCIM_URL unset or BRIDGE_LMS_PROVISIONING=off)")
        return dg.MaterializeResult(metadata={"mode": "off"})
    paths = bridge.paths()
    run_id = context.run.run_id
    with bridge.work() as work:
        if not provisioning.was_published(work, run_id):
            raise dg.Failure(description="provisioning needs this run's publication; nothing was sent")
        with provisioning.published_people(paths) as people:
            outcome = provisioning.provision(work, people, cfg, run_id, settings.as_of_or_today(),
                                             apply=cfg.mode == "apply", webhook_url=settings.webhook_url,
                                             http=http_settings(settings))
        provisioning.publish_audit(work, paths, run_id)
    # the report site was written by `publish`, before this plan existed: its Audit page shows it now
    generate_report(publication.report_source(paths), paths.report, memory_limit=paths.memory.scratch)
    for line in provisioning.summary_lines(outcome, changes=0):
        context.log.info(line)
    report = outcome.report
    return dg.MaterializeResult(metadata={
        "mode": cfg.mode,
        "held": outcome.held,
        "changes_by_action": dg.MetadataValue.json(outcome.plan.counts()),
        "results_by_status": dg.MetadataValue.json(report.statuses if report else {}),
        "read_back_differences": len(report.read_back_differences) if report else 0,
    })
