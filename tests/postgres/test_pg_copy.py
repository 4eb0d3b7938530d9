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


def test_a_snapshot_copies_reporting_again_only_after_a_publication(pg_db: PgTarget, pg_admin,
                                                                     tmp_path: Path) -> None:
    def pg(*statements: str) -> None:
        with pg_admin.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
        pg_admin.commit()

    def snapshot(sql: str) -> list[tuple]:
        dest = pg_warehouse.snapshot_published(paths, tmp_path / "snapshot.duckdb")
        con = duckdb.connect(str(dest), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    pg("create schema reporting", "create table reporting.t (id text)", "insert into reporting.t values ('a')",
       "create schema audit", "create table audit.r (run_id text)", "insert into audit.r values ('run-1')")
    paths = WarehousePaths.from_url(pg_db.url(with_password=True), str(tmp_path / "work"))
    assert snapshot("select id from reporting.t") == [("a",)]
    # A probe the bridge never does: a published table changed in place (only a swap publishes).
    # The next snapshot still has the row it copied, so its reporting came from the previous
    # snapshot; the audit trail, which grows within a run, travels every time.
    pg("update reporting.t set id = 'changed in place'", "insert into audit.r values ('run-2')")
    assert snapshot("select id from reporting.t") == [("a",)]
    assert snapshot("select run_id from audit.r order by 1") == [("run-1",), ("run-2",)]
    # a publication: a new schema renamed into place, as publish.swap_published does
    pg("create schema reporting__build", "create table reporting__build.t (id text, n integer)",
       "insert into reporting__build.t values ('b', 2)",
       "alter schema reporting rename to reporting__old", "alter schema reporting__build rename to reporting",
       "drop schema reporting__old cascade")
    assert snapshot("select id, n from reporting.t") == [("b", 2)]
