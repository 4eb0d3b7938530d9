"""dbt's source freshness (`dbt source freshness`, its `sources.json`) as rows of
audit.dq_result, so auditors see when a feed stopped delivering beside every other check.

One row per source table with a freshness threshold, named `freshness:<source>.<table>`
(engine `dbt`), aimed at the raw table (`raw.hris__users`). dbt's verdict gives the
severity: `warn` (older than warn_after) is a warn finding, `error` (older than error_after)
is blocking, so the night is not published from a feed that stopped delivering; a fresh
table is recorded as passing at the highest level it could have reached. A table dbt could
not measure (`runtime error`) is a failed warn finding naming the error: the build itself
reads every source, so a missing table already fails there. Thresholds are the sources'
`freshness` config (dbt_project/README.md, "Source freshness").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb

from orchestration.lib.quality.audit_rows import ensure_dq_result_table, insert_dq_rows

CHECK_PREFIX = "freshness:"


def _check_name(source: Mapping[str, Any], unique_id: str) -> str:
    if source.get("source_name") and source.get("name"):
        return f"{CHECK_PREFIX}{source['source_name']}.{source['name']}"
    return CHECK_PREFIX + ".".join(unique_id.split(".")[-2:])


def _target(source: Mapping[str, Any], unique_id: str) -> str:
    if source.get("schema") and source.get("identifier"):
        return f"{source['schema']}.{source['identifier']}"
    return ""


def _hours(criteria: Mapping[str, Any] | None, level: str) -> str | None:
    threshold = (criteria or {}).get(level) or {}
    if threshold.get("count") is None:
        return None
    return f"{threshold['count']} {threshold.get('period') or 'hour'}"


def freshness_rows(run_id: str, sources_json: Mapping[str, Any], manifest: Mapping[str, Any],
                   evaluated_at: datetime | None = None) -> list[tuple]:
    """audit.dq_result rows (DQ_RESULT_DDL's column order) for the results of one
    `dbt source freshness`."""
    stamp = (evaluated_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    sources = manifest.get("sources", {})
    rows = []
    for result in sources_json.get("results", []):
        uid = result.get("unique_id", "")
        source = sources.get(uid, {})
        status = result.get("status")
        criteria = result.get("criteria") or source.get("freshness") or {}
        if status == "pass":
            severity, success = ("blocking" if _hours(criteria, "error_after") else "warn"), True
        elif status == "error":
            severity, success = "blocking", False
        else:  # "warn", or "runtime error" (dbt could not read the table's loaded_at)
            severity, success = "warn", False
        if status in ("pass", "warn", "error"):
            age = result.get("max_loaded_at_time_ago_in_s")
            observed = (f"{status}: last landed {result.get('max_loaded_at')}, "
                        f"{float(age) / 3600:.1f} h ago" if age is not None else status)
            limits = [f"{level.split('_')[0]} after {h}" for level in ("warn_after", "error_after")
                      if (h := _hours(criteria, level))]
            if limits:
                observed += f" ({', '.join(limits)})"
        else:
            # dbt's message names the relation and the database error; it carries no record data
            observed = f"{status}: {(result.get('message') or '').strip()[:300]}"
        rows.append((run_id, _check_name(source, uid), _target(source, uid), severity, success, observed,
                     0 if success else 1, "[]", stamp, "dbt"))
    return rows


def record_source_freshness(con: duckdb.DuckDBPyConnection, run_id: str, sources_json: Mapping[str, Any],
                            manifest: Mapping[str, Any]) -> list[str]:
    """Append the freshness rows of this run; return the names of the blocking failures."""
    rows = freshness_rows(run_id, sources_json, manifest)
    ensure_dq_result_table(con)
    insert_dq_rows(con, rows)
    return [r[1] for r in rows if r[3] == "blocking" and r[4] is False]
