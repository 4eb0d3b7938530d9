"""Postgres -> DuckDB through COPY (orchestration/lib/pg_warehouse.py): the report's snapshot
and the checks' copy keep each column's type and value, NULL apart from the empty string."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import pg_warehouse
from orchestration.lib.postgres.connection import PgTarget
from orchestration.lib.warehouse import WarehousePaths

pytestmark = pytest.mark.postgres


def test_a_snapshot_keeps_types_values_and_nulls(pg_db: PgTarget, pg_admin, tmp_path: Path) -> None:
    with pg_admin.cursor() as cur:
        cur.execute("create schema reporting")
        cur.execute("create table reporting.t (id text, note text, n integer, big bigint, amount numeric(12,2), "
                    "ok boolean, day date, at timestamptz, local timestamp, ratio double precision)")
        cur.execute("insert into reporting.t values "
                    "('00042', '', 1, 9007199254740993, 1234.50, true, '2026-01-31', "
                    "'2026-06-01 10:00:00+02', '2026-06-01 10:00:00', 0.25), "
                    "('x,\"y\"\nz', null, null, null, null, null, null, null, null, null)")
    pg_admin.commit()
    paths = WarehousePaths.from_url(pg_db.url(with_password=True), str(tmp_path / "work"))
    dest = pg_warehouse.snapshot_published(paths, tmp_path / "snapshot.duckdb")
    con = duckdb.connect(str(dest), read_only=True)
    try:
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_name = 't'").fetchall())
        rows = con.execute("select * from reporting.t order by n nulls last").fetchall()
    finally:
        con.close()
    assert types == {"id": "VARCHAR", "note": "VARCHAR", "n": "INTEGER", "big": "BIGINT",
                     "amount": "DECIMAL(12,2)", "ok": "BOOLEAN", "day": "DATE",
                     "at": "TIMESTAMP WITH TIME ZONE", "local": "TIMESTAMP", "ratio": "DOUBLE"}
    first, second = rows
    assert first[:8] == ("00042", "", 1, 9007199254740993, Decimal("1234.50"), True, date(2026, 1, 31),
                         first[7])
    assert first[7].astimezone(UTC) == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert first[8:] == (datetime(2026, 6, 1, 10, 0), 0.25)
    assert second == ('x,"y"\nz', None, None, None, None, None, None, None, None, None)
    assert not list((tmp_path / "work").glob(".pg_copy_*"))     # the CSV files are gone
