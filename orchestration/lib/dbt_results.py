"""dbt's run results as rows of audit.dq_result, so auditors see dbt tests beside GX.

A model that failed to build is recorded as a failing blocking check too: a partial
build must never be published.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb

from orchestration.lib.quality.audit_rows import insert_dq_rows


def _target_of(test_node: Mapping[str, Any], nodes: Mapping[str, Any]) -> str:
    for parent in test_node.get("depends_on", {}).get("nodes", []):
        node = nodes.get(parent)
        if node and node.get("resource_type") in ("model", "seed", "snapshot"):
            return f"{node['schema']}.{node['name']}"
        if node and node.get("resource_type") == "source":
            return f"{node['schema']}.{node['identifier']}"  # source hris.users is raw.hris__users
    return ""


def record_dbt_results(
    con: duckdb.DuckDBPyConnection, run_id: str, run_results: Mapping[str, Any], manifest: Mapping[str, Any]
) -> list[str]:
    """Write one dq_result row per dbt test and per failed model; return the blocking failures."""
    nodes = manifest.get("nodes", {})
    relations = {**nodes, **manifest.get("sources", {})}
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    blocking_failed = []
    for result in run_results.get("results", []):
        uid = result["unique_id"]
        node = nodes.get(uid, {})
        status = result.get("status")
        if uid.startswith("test."):
            configured = (node.get("config", {}).get("severity") or "error").lower()
            severity = "blocking" if configured == "error" else "warn"
            name = node.get("name", uid)
            # A test skipped because something upstream failed was not evaluated (NULL): the
            # upstream failure is what blocks, and blocked_by should name only that.
            success = None if status == "skipped" else status == "pass"
            rows.append(
                (run_id, name, _target_of(node, relations), severity, success, status,
                 int(result.get("failures") or 0), "[]", now, "dbt")
            )
            if severity == "blocking" and success is False:
                blocking_failed.append(name)
        elif uid.startswith(("model.", "seed.", "snapshot.")) and status == "error":
            name = f"dbt_build__{node.get('name', uid)}"
            target = f"{node.get('schema', '')}.{node.get('name', uid)}"
            rows.append((run_id, name, target, "blocking", False, status, 0, "[]", now, "dbt"))
            blocking_failed.append(name)
    insert_dq_rows(con, rows)
    return blocking_failed


def sample_json(keys: list[str]) -> str:
    return json.dumps(keys[:20])
