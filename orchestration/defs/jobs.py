"""The one job: extract every source, build, check, publish, provision the LMS. Steps run in one process
(DuckDB has one writer per file, and a sync is small work behind fixed costs)."""

from __future__ import annotations

import dagster as dg

nightly_sync = dg.define_asset_job(
    name="nightly_sync",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    tags={"bridge/writer": "warehouse"},  # dagster.yaml limits this tag to one run at a time
    description="Extract all five sources, build the warehouse with dbt, run every check, publish, "
                "then provision the LMS (BRIDGE_LMS_PROVISIONING).",
)
