"""Writing check outcomes to ``audit.dq_result`` (append-only, kept across runs)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from orchestration.lib.quality.outcome import MAX_SAMPLE_KEYS, CheckOutcome, safe_key

# Identical to the connectors' definition (docs/contract.md section 4): either side may create it first.
DQ_RESULT_DDL = """
create table if not exists audit.dq_result (
    run_id VARCHAR,
    check_name VARCHAR,
    target_table VARCHAR,
    severity VARCHAR,
    success BOOLEAN,
    observed_value VARCHAR,
    unexpected_count BIGINT,
    sample_keys VARCHAR,
    evaluated_at TIMESTAMP,
    engine VARCHAR
)
"""

_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("check_name", pa.string()), ("target_table", pa.string()),
    ("severity", pa.string()), ("success", pa.bool_()), ("observed_value", pa.string()),
    ("unexpected_count", pa.int64()), ("sample_keys", pa.string()),
    ("evaluated_at", pa.timestamp("us")), ("engine", pa.string()),
])


def ensure_dq_result_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists audit")
    con.execute(DQ_RESULT_DDL)


def write_dq_results(con: duckdb.DuckDBPyConnection, run_id: str, outcomes: Sequence[CheckOutcome],
                     evaluated_at: datetime | None = None) -> int:
    """Append one row per outcome in a single bulk insert; returns the number of rows written.

    ``evaluated_at`` is stored as naive UTC (the audit tables' convention).
    """
    ensure_dq_result_table(con)
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
    """Append rows (in DQ_RESULT_DDL's column order) as one Arrow batch: DuckDB's
    executemany runs one insert per row (2-4 ms each here)."""
    if not rows:
        return
    table = pa.Table.from_arrays([pa.array(column, type=field.type) for column, field in
                                  zip(zip(*rows, strict=True), _SCHEMA, strict=True)], schema=_SCHEMA)
    con.register("_bridge_dq_rows", table)
    try:
        con.execute(f"insert into audit.dq_result ({', '.join(_SCHEMA.names)}) "
                    f"select {', '.join(_SCHEMA.names)} from _bridge_dq_rows")
    finally:
        con.unregister("_bridge_dq_rows")


def _text(value: str | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
