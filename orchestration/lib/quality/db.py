"""Small catalogue look-ups on the working database."""

from __future__ import annotations

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """``table`` is ``schema.name``; any connection with DuckDB's ``execute(sql, params)`` will do
    (the Postgres checks pass one that points published names at the build schemas)."""
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema || '.' || table_name = ?",
        [table],
    ).fetchall()[0]
    return bool(row and row[0])
