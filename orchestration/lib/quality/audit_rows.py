"""Writing check outcomes to ``audit.dq_result`` (append-only, kept across runs)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from connectors.landing import ensure_audit_schema
from orchestration.lib.quality.outcome import MAX_SAMPLE_KEYS, CheckOutcome, safe_key


def ensure_dq_result_table(con: duckdb.DuckDBPyConnection) -> None:
    """audit.dq_result, with the other audit tables (their one definition: connectors/landing.py)."""
    ensure_audit_schema(con)


def write_dq_results(con: duckdb.DuckDBPyConnection, run_id: str, outcomes: Sequence[CheckOutcome],
                     evaluated_at: datetime | None = None) -> int:
    """Append one row per outcome in a single bulk insert; returns the number of rows written.

    ``evaluated_at`` is stored as naive UTC (the audit tables' convention).
    """
    ensure_audit_schema(con)
    if not outcomes:
        return 0
    stamp = (evaluated_at or datetime.now(UTC))
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    insert_dq_rows(con, [
        (run_id, o.check_name, o.target_table, o.severity, bool(o.success), _text(o.observed_value),
         int(o.unexpected_count),
         # Re-sanitised here too: an outcome built by hand must not leak an address either.
         json.dumps([safe_key(k) for k in o.sample_keys[:MAX_SAMPLE_KEYS]]), stamp, o.engine)
        for o in outcomes
    ])
    return len(outcomes)


def insert_dq_rows(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple]) -> None:
    """Append rows (in audit.dq_result's column order) as one Arrow batch: DuckDB's
    executemany runs one insert per row (2-4 ms each here). The columns and their types are
    the table's own (connectors/landing.py creates it); DuckDB casts the batch to them."""
    if not rows:
        return
    columns = [name for (name,) in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'audit' and table_name = 'dq_result' "
        "and database_name = current_database() order by column_index").fetchall()]
    table = pa.table(dict(zip(columns, (pa.array(column) for column in zip(*rows, strict=True)), strict=True)))
    con.register("_bridge_dq_rows", table)
    try:
        con.execute("insert into audit.dq_result by name select * from _bridge_dq_rows")
    finally:
        con.unregister("_bridge_dq_rows")


def _text(value: str | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
