"""mirror_raw / mirror_audit: DuckDB work file -> PostgreSQL, incremental and idempotent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import psycopg2.extensions
import pytest

from connectors.landing import DuckDBLander, ExtractAudit, RecordSpec, ensure_schema
from orchestration.lib.postgres.connection import PgTarget, connect
from orchestration.lib.postgres.mirror import CHUNK_ROWS, MirrorError, mirror_audit, mirror_raw

pytestmark = pytest.mark.postgres

SCIM = RecordSpec(id_path="$.id", updated_path="$.meta.lastModified")
REST = RecordSpec(deleted_path="$.deleted")


def _user(i: int, title: str = "Engineer") -> dict:
    return {
        "id": f"u{i}",
        "userName": f"user{i}@example.org",
        "title": title,
        "meta": {"lastModified": f"2026-06-0{i}T10:00:00Z"},
        "note": 'quote " comma , newline \n',
    }


@pytest.fixture
def work(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, DuckDBLander]]:
    con = duckdb.connect(str(tmp_path / "bridge.work.duckdb"))
    ensure_schema(con)
    lander = DuckDBLander(con)
    lander.land_batch("hris", "users", [_user(1), _user(2), _user(3)], "run-1", spec=SCIM)
    lander.land_batch(
        "lms",
        "users",
        [
            {"id": 7, "updated_at": "2026-06-01T00:00:00Z", "email": "A@x.org"},
            {"id": 8, "updated_at": None, "deleted": True},
        ],
        "run-1",
        spec=REST,
    )
    # payroll rows and their file row as the lander writes them (SQL: its batch API is not our concern)
    name, sha = "payroll_2026-06-30_20260701T020000.csv", "ab" * 32
    for line, row in (
        (2, {"employee_number": "0042", "annual_base_salary": "51000.50"}),
        (4, {"employee_number": "43", "annual_base_salary": ""}),
    ):
        con.execute(
            "insert into raw.payroll__rows values (?, ?, 'h', '2026-07-01T02:00:00', false, 'run-1', "
            "nextval('bridge_state.batch_seq'), now()::timestamp, ?, ?, ?, '2026-06-30', "
            "'2026-07-01 02:00:00')",
            [f"{sha}:{line}", json.dumps(row), name, sha, line],
        )
    con.execute(
        "insert into raw.payroll__files values (?, ?, '2026-06-30', '2026-07-01 02:00:00', 2, 1, "
        "'loaded', null, 'run-1', now()::timestamp)",
        [sha, name],
    )
    lander.quarantine("run-1", "payroll", "rows", [(f"{name}:3", "unparseable annual_base_salary")])
    con.execute(
        "insert into audit.pipeline_run values ('run-1', '2026-07-01 02:00:00.123456', null, "
        "'running', 'abc123', 'schedule')"
    )
    lander.write_extract(ExtractAudit(run_id="run-1", source="hris", stream="users", records=3, pages=1))
    yield con, lander
    con.close()


@pytest.fixture
def pg(pg_db: PgTarget) -> Iterator[psycopg2.extensions.connection]:
    con = connect(pg_db)
    yield con
    con.close()


def _pg_all(pg: psycopg2.extensions.connection, sql: str) -> list[tuple]:
    with pg.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    pg.rollback()
    return rows


def _duck_counts(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
    ]
    return {
        f"{schema}.{t}": con.execute(f'select count(*) from {schema}."{t}"').fetchone()[0] for t in tables
    }


def _pg_counts(pg: psycopg2.extensions.connection, schema: str) -> dict[str, int]:
    tables = [r[0] for r in _pg_all(pg, f"select tablename from pg_tables where schemaname = '{schema}'")]
    return {f"{schema}.{t}": _pg_all(pg, f'select count(*) from {schema}."{t}"')[0][0] for t in tables}


def test_mirror_raw_copies_every_table_with_types_and_contents(work, pg) -> None:
    con, _ = work
    copied = mirror_raw(con, pg)

    assert copied["raw.hris__users"] == 3 and copied["raw.lms__users"] == 2
    assert copied["raw.payroll__rows"] == 2 and copied["raw.payroll__files"] == 1
    assert _pg_counts(pg, "raw") == _duck_counts(con, "raw")
    types = dict(
        _pg_all(
            pg,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'payroll__rows'",
        )
    )
    assert types["payload"] == "jsonb" and types["landed_at"] == "timestamp without time zone"
    assert (
        types["batch_seq"] == "bigint" and types["period_end"] == "date" and types["is_deleted"] == "boolean"
    )
    # jsonb keeps the awkward characters; the whole row equals DuckDB's
    pg_rows = _pg_all(
        pg,
        "select record_id, payload->>'note', record_hash, source_updated_at, is_deleted, "
        "batch_seq, landed_at from raw.hris__users order by record_id",
    )
    duck_rows = con.execute(
        "select record_id, json_extract_string(payload, '$.note'), record_hash, "
        "source_updated_at, is_deleted, batch_seq, landed_at "
        "from raw.hris__users order by record_id"
    ).fetchall()
    assert pg_rows == duck_rows and pg_rows[0][1] == 'quote " comma , newline \n'
    # a null stays null (not ''), and an empty string stays '' inside the payload
    assert _pg_all(pg, "select source_updated_at is null from raw.lms__users where record_id = '8'") == [
        (True,)
    ]
    assert _pg_all(
        pg,
        "select payload->>'annual_base_salary', period_end, exported_at from raw.payroll__rows "
        "where line_number = 4",
    ) == [("", date(2026, 6, 30), datetime(2026, 7, 1, 2, 0))]


def test_remirror_adds_nothing_and_a_new_batch_adds_only_its_rows(work, pg) -> None:
    con, lander = work
    mirror_raw(con, pg)
    before = _pg_counts(pg, "raw")

    again = mirror_raw(con, pg)
    assert {k: v for k, v in again.items() if v} == {"raw.payroll__files": 1}  # replaced whole, same row
    assert _pg_counts(pg, "raw") == before

    # u2 changes title, u4 is new, u1 is re-delivered unchanged -> 2 new versions
    assert (
        lander.land_batch(
            "hris", "users", [_user(1), _user(2, "Senior Engineer"), _user(4)], "run-2", spec=SCIM
        )
        == 2
    )
    third = mirror_raw(con, pg)
    assert third["raw.hris__users"] == 2 and third["raw.lms__users"] == 0
    assert _pg_counts(pg, "raw")["raw.hris__users"] == before["raw.hris__users"] + 2
    latest = _pg_all(
        pg,
        "select distinct on (record_id) record_id, payload->>'title', run_id "
        "from raw.hris__users order by record_id, batch_seq desc",
    )
    assert latest == [
        ("u1", "Engineer", "run-1"),
        ("u2", "Senior Engineer", "run-2"),
        ("u3", "Engineer", "run-1"),
        ("u4", "Engineer", "run-2"),
    ]


def test_rows_travel_in_chunks_each_exactly_once(work, pg) -> None:
    con, lander = work
    lander.land_batch("hris", "users", [_user(i) for i in range(4, 10)], "run-2", spec=SCIM)
    versions = "select record_id, record_hash, batch_seq from raw.hris__users order by 1, 3"

    copied = mirror_raw(con, pg, chunk_rows=2)  # 9 rows: five chunks

    assert copied["raw.hris__users"] == 9
    assert _pg_all(pg, versions) == con.execute(versions).fetchall()
    # the index on batch_seq is built after the first load, once
    assert _pg_all(pg, "select indexname from pg_indexes where schemaname = 'raw' and tablename = 'hris__users'") \
        == [("hris__users__batch_seq_idx",)]
    lander.land_batch("hris", "users", [_user(1, "Lead"), _user(2, "Lead"), _user(3, "Lead")], "run-3", spec=SCIM)
    assert mirror_raw(con, pg, chunk_rows=2)["raw.hris__users"] == 3
    assert _pg_all(pg, versions) == con.execute(versions).fetchall()


def test_backslashes_tabs_line_breaks_empty_strings_and_nulls_arrive_unchanged(work, pg) -> None:
    con, _ = work
    odd_id = "a\\b\tc\nd\re \\N"  # the text format's special characters, and its NULL spelled out
    title = 'C:\\temp\t"x"\n'
    payload = json.dumps({"id": odd_id, "title": title, "gone": None}, indent="\t")  # tabs and newlines
    con.execute(
        "insert into raw.lms__courses values (?, ?, '', null, false, 'run-2', nextval('bridge_state.batch_seq'), "
        "now()::timestamp)",
        [odd_id, payload],
    )
    mirror_raw(con, pg)
    assert _pg_all(
        pg, "select record_id, record_hash, source_updated_at, payload ->> 'title', payload -> 'gone' "
        "from raw.lms__courses",
    ) == [(odd_id, "", None, title, None)]


def test_mirror_audit_appends_missing_rows_and_upserts_runs(work, pg) -> None:
    con, lander = work
    first = mirror_audit(con, pg)
    assert first == {
        "audit.pipeline_run": 1,
        "audit.source_extract": 1,
        "audit.quarantine": 1,
        "audit.dq_result": 0,
        "audit.publication": 0,
        # every audit table is mirrored, those of provisioning and erasure too (empty here)
        "audit.provisioning_change": 0,
        "audit.provisioning_result": 0,
        "audit.erasure": 0,
        "audit.suppression": 0,
    }
    assert mirror_audit(con, pg) == dict.fromkeys(first, 0)
    assert _pg_all(pg, "select status, finished_at from audit.pipeline_run") == [("running", None)]

    # the run goes on: two identical dq rows (both must arrive), one more quarantine, run closed
    for _ in range(2):
        con.execute(
            "insert into audit.dq_result values ('run-1', 'unique_dim_employee', 'dim_employee', "
            "'blocking', true, '0', 0, null, '2026-07-01 02:10:00', 'dbt')"
        )
    lander.quarantine("run-1", "lms", "users", [("lms:users:9", "no id")])
    con.execute("update audit.pipeline_run set status = 'succeeded', finished_at = '2026-07-01 02:30:00'")
    second = mirror_audit(con, pg)
    assert second["audit.dq_result"] == 2 and second["audit.quarantine"] == 1
    assert second["audit.pipeline_run"] == 1 and second["audit.source_extract"] == 0
    assert _pg_all(pg, "select status, finished_at, started_at from audit.pipeline_run") == [
        ("succeeded", datetime(2026, 7, 1, 2, 30), datetime(2026, 7, 1, 2, 0, 0, 123456))
    ]
    assert _pg_counts(pg, "audit") == _duck_counts(con, "audit")
    assert mirror_audit(con, pg) == dict.fromkeys(first, 0)


@pytest.mark.parametrize("chunk_rows", [CHUNK_ROWS, 1])
def test_mirror_is_one_transaction_nothing_lands_on_failure(work, pg, chunk_rows: int) -> None:
    con, _ = work
    # a PG-incompatible JSON (NUL escape) in the last table copied aborts the whole mirror
    # (with chunk_rows=1, after other chunks of the same table went in)
    con.execute(
        "insert into raw.xapi__statements values ('s0', '{\"x\": 1}', 'h', null, false, 'run-1', 998, now()::timestamp), "
        "('s1', '{\"x\": \"\\u0000\"}', 'h', null, false, 'run-1', 999, now()::timestamp)"
    )
    with pytest.raises(MirrorError, match=r"raw\.xapi__statements.*nothing was copied") as err:
        mirror_raw(con, pg, chunk_rows=chunk_rows)
    assert "\\u0000" not in str(err.value) and err.value.__cause__ is None
    assert _pg_all(pg, "select count(*) from pg_tables where schemaname = 'raw'") == [(0,)]


def test_a_column_added_in_duckdb_is_added_in_postgres(work, pg) -> None:
    con, _ = work
    mirror_raw(con, pg)
    con.execute("alter table raw.lms__courses add column source_region varchar")
    con.execute(
        "insert into raw.lms__courses values ('c1', '{\"id\": \"c1\"}', 'h', null, false, 'run-2', "
        "nextval('bridge_state.batch_seq'), now()::timestamp, 'emea')"
    )
    assert mirror_raw(con, pg)["raw.lms__courses"] == 1
    assert _pg_all(pg, "select record_id, source_region from raw.lms__courses") == [("c1", "emea")]
