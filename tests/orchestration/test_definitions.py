"""The Dagster code location: the asset graph, checks, job, schedule and sensors.

The snapshot (asset_graph.json) makes an accidental change to the graph show in review;
regenerate it on purpose with UPDATE_SNAPSHOTS=1.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import dagster as dg
import pytest

SNAPSHOT = Path(__file__).with_name("asset_graph.json")
CONTRACT = Path(__file__).resolve().parents[2] / ".." / "shared" / "CONTRACT.md"


def contract_tables() -> dict[str, list[str]]:
    """schema.table -> columns, read from section 4 of CONTRACT.md (a copy travels in tests/fixtures)."""
    copy = Path(__file__).resolve().parents[1] / "fixtures" / "contract_tables.json"
    if copy.exists():
        nested = json.loads(copy.read_text())
        return {f"{schema}.{table}": cols for schema, tables in nested.items() for table, cols in tables.items()}
    text = CONTRACT.read_text()
    section = text[text.index("## 4. Published tables") :]
    out: dict[str, list[str]] = {}
    schema = None
    for line in section.splitlines():
        m = re.match(r"`(\w+)` schema", line)
        if m:
            schema = m.group(1)
        m = re.match(r"- `(\w+)`[^:]*: (.*)", line)
        if m and schema:
            out[f"{schema}.{m.group(1)}"] = [c.strip() for c in re.sub(r"\(.*?\)", "", m.group(2)).split(",")]
    return out


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from orchestration.definitions import defs

    return defs


@pytest.fixture(scope="module")
def graph(defs: dg.Definitions):
    return defs.resolve_asset_graph()


def _keys(graph) -> set[str]:
    return {k.to_user_string() for k in graph.get_all_asset_keys()}


def test_every_raw_stream_is_an_asset(graph) -> None:
    from connectors.landing import RAW_STREAMS

    keys = _keys(graph)
    for source, streams in RAW_STREAMS.items():
        for stream in streams:
            assert f"raw/{source}__{stream}" in keys


def test_every_contract_table_is_a_dbt_asset_upstream_of_publish(graph) -> None:
    keys = _keys(graph)
    publish = dg.AssetKey(["publication", "published_warehouse"])
    upstream = {k.to_user_string() for k in graph.get(publish).parent_keys}
    for table in contract_tables():
        schema, name = table.split(".")
        if schema == "audit":
            continue  # written by the pipeline itself, not by dbt
        assert f"{schema}/{name}" in keys, f"{table} is not an asset"
        assert f"{schema}/{name}" in upstream, f"publish does not wait for {table}"


def test_staging_models_read_the_raw_assets(graph) -> None:
    # dbt's source hris.users is the connectors' table raw.hris__users
    node = graph.get(dg.AssetKey(["staging", "base_hris__user_versions"]))
    assert dg.AssetKey(["raw", "hris__users"]) in node.parent_keys
    node = graph.get(dg.AssetKey(["staging", "stg_lms__courses"]))
    assert dg.AssetKey(["staging", "base_lms__courses"]) in node.parent_keys


def test_checks_cover_gx_dbt_and_reconciliation(graph) -> None:
    checks = {(c.asset_key.to_user_string(), c.name): c for c in (graph.get_check_spec(k) for k in graph.asset_check_keys)}
    by_asset = {}
    for check in checks.values():
        by_asset.setdefault(check.asset_key.to_user_string(), set()).add(check.name)
    # a GX suite on the employee dimension, blocking
    gx = [n for n in by_asset["reporting/dim_employee"] if "__" in n and not n.startswith(("unique_", "not_null_"))]
    assert gx, "no GX checks on dim_employee"
    assert any(checks[("reporting/dim_employee", n)].blocking for n in gx)
    # dbt tests are checks too
    assert any(n.startswith("unique_dim_employee") for n in by_asset["reporting/dim_employee"])
    # the cross-system reconciliation checks, warn and blocking
    names = {name for _, name in checks}
    assert "terminated_but_paid" in names
    assert not checks[next(k for k in checks if k[1] == "terminated_but_paid")].blocking
    assert any(checks[k].blocking for k in checks if k[1] == "headcount_by_cost_center_within_tolerance")
    # raw feeds have suites too
    assert any(a.startswith("raw/") for a in by_asset)


def test_job_schedule_and_sensors(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def("nightly_sync")
    assert job is not None
    schedule = defs.get_schedule_def("nightly_sync_schedule")
    assert schedule.cron_schedule == os.environ.get("BRIDGE_SCHEDULE_CRON", "0 2 * * *")
    assert schedule.job_name == "nightly_sync"
    sensors = {s.name for s in defs.sensors}
    assert {"payroll_inbox_sensor", "record_failed_run"} <= sensors


def _gate(check: dg.AssetCheckSpec) -> str:
    """blocking to Dagster; blocking to `publish` only (raw feeds, checked after dbt); warn."""
    if check.blocking:
        return "blocking"
    return "holds-publish" if (check.description or "").startswith("[blocking: holds publish]") else "warn"


def test_asset_graph_snapshot(graph) -> None:
    current = {
        "assets": sorted(_keys(graph)),
        "checks": sorted(f"{c.asset_key.to_user_string()}:{c.name}:{_gate(c)}"
                         for c in (graph.get_check_spec(k) for k in graph.asset_check_keys)),
    }
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=1) + "\n")
    assert SNAPSHOT.exists(), "no snapshot yet: run with UPDATE_SNAPSHOTS=1 and review it"
    recorded = json.loads(SNAPSHOT.read_text())
    assert current == recorded, "the asset graph changed: review it, then UPDATE_SNAPSHOTS=1"
