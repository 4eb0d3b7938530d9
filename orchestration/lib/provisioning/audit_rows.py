"""Writing the plan and its results to `audit.provisioning_change` / `audit.provisioning_result`
(append-only; created with the other audit tables by connectors.landing.ensure_schema)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.lib.provisioning.plan import Note, Plan

TARGET = "lms"
CHANGE_TABLE = "audit.provisioning_change"
RESULT_TABLE = "audit.provisioning_result"
# a change's columns that are one value per plan, set in SQL rather than repeated row by row
_PLAN_WIDE = ("run_id", "target", "planned_at")


def table_schema(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    """An audit table's columns and types, in order, as its one DDL made them
    (connectors.landing.ensure_audit_schema): this module keeps no column list of its own to drift."""
    return con.table(table).limit(0).to_arrow_table().schema


def change_schema(con: duckdb.DuckDBPyConnection) -> pa.Schema:
    """The per-row columns of a change, in the table's order (`change_columns` builds them so)."""
    schema = table_schema(con, CHANGE_TABLE)
    return pa.schema([f for f in schema if f.name not in _PLAN_WIDE])


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


def change_columns(plan: Plan) -> list[list]:
    """The plan's change rows as columns (employee_number, target_id, action, field, value_before,
    value_after): built column-wise, as Arrow takes them (a large plan has ~10^6 rows)."""
    cols: list[list] = [[], [], [], [], [], []]
    en, tid, act, fld, bef, aft = (c.append for c in cols)
    for ch in plan.changes:
        for name, before, after in ch.fields:
            en(ch.employee_number)
            tid(ch.target_id)
            act(ch.action)
            fld(name)
            bef(text(before))
            aft(text(after))
    for n in plan.notes:
        for append, value in zip((en, tid, act, fld, bef, aft), (n.employee_number, n.target_id, n.action, n.field,
                                                                  text(n.before), text(n.after)), strict=True):
            append(value)
    return cols


def note_columns(notes: Sequence[Note]) -> list[list]:
    return [[n.employee_number for n in notes], [n.target_id for n in notes], [n.action for n in notes],
            [n.field for n in notes], [text(n.before) for n in notes], [text(n.after) for n in notes]]


def _batch(schema: pa.Schema, rows: Sequence[tuple]) -> pa.Table:
    return pa.Table.from_arrays([pa.array(col, type=f.type) for col, f in
                                 zip(zip(*rows, strict=True), schema, strict=True)], schema=schema)


def write_changes(con: duckdb.DuckDBPyConnection, run_id: str, columns: Sequence[list],
                  planned_at: datetime | None = None) -> None:
    """One Arrow batch per call (DuckDB's executemany is one insert per row); the plan-wide values
    are constants of the insert, not columns repeated row by row."""
    if not columns[0]:
        return
    schema = change_schema(con)
    batch = pa.Table.from_arrays([pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)],
                                 schema=schema)
    con.register("_bridge_provisioning_changes", batch)
    try:
        con.execute(f"insert into {CHANGE_TABLE} by name select ? as run_id, ? as target, ? as planned_at, * "
                    "from _bridge_provisioning_changes", [run_id, TARGET, planned_at or now()])
    finally:
        con.unregister("_bridge_provisioning_changes")


def write_results(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple]) -> None:
    """Rows as tuples in audit.provisioning_result's column order (`held_results`, `apply_plan`)."""
    if not rows:
        return
    con.register("_bridge_provisioning_results", _batch(table_schema(con, RESULT_TABLE), rows))
    try:
        con.execute(f"insert into {RESULT_TABLE} by name select * from _bridge_provisioning_results")
    finally:
        con.unregister("_bridge_provisioning_results")
