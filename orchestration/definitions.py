"""The Dagster code location: one Definitions merged from defs/."""

from __future__ import annotations

import os

for _key, _value in {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_key, _value)

import dagster as dg

from orchestration.defs.ingestion.assets import extract_assets
from orchestration.defs.jobs import nightly_sync
from orchestration.defs.provisioning import lms_users
from orchestration.defs.publication import build_publish_asset
from orchestration.defs.quality.checks import build_checks
from orchestration.defs.resources import BridgeResource
from orchestration.defs.schedules import nightly_schedule
from orchestration.defs.sensors import payroll_inbox_sensor, record_failed_run
from orchestration.defs.transformation.dbt import dbt_resource, published_model_keys, warehouse_models

publish_asset = build_publish_asset(published_model_keys())

_all_keys = {k for a in extract_assets for k in a.keys} | set(warehouse_models.keys)

defs = dg.Definitions(
    assets=[*extract_assets, warehouse_models, publish_asset, lms_users],
    asset_checks=build_checks(_all_keys),
    jobs=[nightly_sync],
    schedules=[nightly_schedule],
    sensors=[payroll_inbox_sensor, record_failed_run],
    resources={
        "bridge": BridgeResource(),
        "dbt": dbt_resource(),
    },
)
