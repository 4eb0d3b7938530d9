"""Writing the plan and its results to `audit.provisioning_change` / `audit.provisioning_result`
(append-only; created with the other audit tables by connectors.landing.ensure_schema)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.lib.provisioning.plan import Plan

TARGET = "lms"
_CHANGE = pa.schema([("run_id", pa.string()), ("target", pa.string()), ("employee_number", pa.string()),
                     ("target_id", pa.string()), ("action", pa.string()), ("field", pa.string()),
                     ("value_before", pa.string()), ("value_after", pa.string()),
                     ("planned_at", pa.timestamp("us"))])
_RESULT = pa.schema([("run_id", pa.string()), ("target", pa.string()), ("employee_number", pa.string()),
                     ("target_id", pa.string()), ("action", pa.string()), ("status", pa.string()),
                     ("http_status", pa.int32()), ("error", pa.string()), ("attempted_at", pa.timestamp("us"))])


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def text(value: Any) -> str | None:
    """A value as the audit rows hold it: JSON booleans as `true`/`false`, everything else as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def change_rows(run_id: str, plan: Plan) -> list[tuple]:
    at = now()
    rows = [(run_id, TARGET, ch.employee_number, ch.target_id, ch.action, name, text(before), text(after), at)
            for ch in plan.changes for name, before, after in ch.fields]
    rows += [(run_id, TARGET, n.employee_number, n.target_id, n.action, n.field, text(n.before), text(n.after), at)
             for n in plan.notes]
    return rows


def _insert(con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema, rows: Sequence[tuple]) -> None:
    """One Arrow batch per call: DuckDB's executemany is one insert per row."""
    if not rows:
        return
    batch = pa.Table.from_arrays([pa.array(col, type=f.type) for col, f in
                                  zip(zip(*rows, strict=True), schema, strict=True)], schema=schema)
    con.register("_bridge_provisioning_rows", batch)
    try:
        con.execute(f"insert into audit.{table} ({', '.join(schema.names)}) "
                    f"select {', '.join(schema.names)} from _bridge_provisioning_rows")
    finally:
        con.unregister("_bridge_provisioning_rows")


def write_changes(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple]) -> None:
    _insert(con, "provisioning_change", _CHANGE, rows)


def write_results(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple]) -> None:
    _insert(con, "provisioning_result", _RESULT, rows)
