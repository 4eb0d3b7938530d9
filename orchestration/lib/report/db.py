"""Read-only access to the published DuckDB file for the report pages.

The report reads only `reporting` and `audit` of the published file. A table may
be missing (a first run that was blocked publishes `audit` only), so every query
goes through `rows`, which returns nothing for a missing table instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

from connectors import duck

ALLOWED_SCHEMAS = ("reporting", "audit")


class PublishedDb:
    """A read-only connection plus the set of tables it holds."""

    def __init__(self, path: Path, memory_limit: int) -> None:
        self.path = path
        self.con = duck.connect(path, read_only=True, memory_limit=memory_limit)
        found = self.con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
        ).fetchall()
        self.tables = {f"{s}.{t}" for s, t in found if s in ALLOWED_SCHEMAS}

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, *tables: str) -> bool:
        return all(t in self.tables for t in tables)

    def rows(self, sql: str, params: Iterable[Any] = (), *, needs: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Rows as dicts; [] when a table in `needs` is not published."""
        needs = list(needs)
        for table in needs:
            if table.split(".")[0] not in ALLOWED_SCHEMAS:
                raise ValueError(f"the report reads only {ALLOWED_SCHEMAS}, not {table}")
        if not self.has(*needs):
            return []
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def one(self, sql: str, params: Iterable[Any] = (), *, needs: Iterable[str] = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params, needs=needs)
        return found[0] if found else None
