"""Write-audit-publish: the last step of a sync.

Dagster runs `publish` only when every blocking check upstream passed; `publish` checks
again against audit.dq_result (belt and braces: Dagster's blocking semantics have had
gaps) before replacing the published files, and records its decision either way.
"""


import dagster as dg

from orchestration.defs.resources import BridgeResource
from orchestration.lib import publication

PUBLISH_KEY = dg.AssetKey(["publication", "published_warehouse"])


def build_publish_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISH_KEY,
        deps=upstream,
        group_name="publication",
        kinds={"duckdb"},
        description="Replaces every published table together, only when all blocking checks passed.",
    )
    def published_warehouse(context: dg.AssetExecutionContext, bridge: BridgeResource) -> dg.MaterializeResult:
        paths = bridge.paths()
        with bridge.work() as con:
            decision = publication.publish(con, paths, context.run_id)
        if decision.status != "published":
            raise dg.Failure(
                description="publication blocked by: " + ", ".join(decision.blocked_by),
                metadata={"blocked_by": decision.blocked_by},
            )
        context.log.info(f"published {len(decision.row_counts)} tables to {paths.published}")
        return dg.MaterializeResult(
            metadata={
                "published_file": str(paths.published),
                "tables": len(decision.row_counts),
                "row_counts": dg.MetadataValue.json(decision.row_counts),
            }
        )

    return published_warehouse
