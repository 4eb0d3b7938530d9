"""The DuckDB lander: append-only version log, one transaction per batch + cursor, schema."""
from __future__ import annotations

import hashlib
import json

import duckdb
import pytest

from connectors.landing import CursorWrite, DuckDBLander, RecordSpec, canonical_json

SPEC = RecordSpec(id_path="$.id", updated_path="$.updated_at", deleted_path="$.deleted")


def recs(n: int, **extra) -> list[dict]:
    return [{"id": i, "updated_at": f"2026-06-01T00:00:{i:02d}Z", "v": 1, **extra} for i in range(n)]


def test_relanding_same_page_adds_nothing(con):
    lander = DuckDBLander(con)
    assert lander.land_batch("lms", "users", recs(5), "r1", spec=SPEC) == 5
    assert lander.land_batch("lms", "users", recs(5), "r2", spec=SPEC) == 0
    assert con.execute("select count(*) from raw.lms__users").fetchone()[0] == 5


def test_changed_record_adds_a_version_and_tombstone_is_a_version(con):
    lander = DuckDBLander(con)
    lander.land_batch("lms", "users", recs(3), "r1", spec=SPEC)
    page = recs(3)
    page[1]["v"] = 2
    page[2]["deleted"] = True
    assert lander.land_batch("lms", "users", page, "r2", spec=SPEC) == 2
    rows = con.execute("""select record_id, json_extract(payload, '$.v')::int, is_deleted, run_id, batch_seq
                          from raw.lms__users order by batch_seq, record_id""").fetchall()
    assert [r[:4] for r in rows] == [("0", 1, False, "r1"), ("1", 1, False, "r1"), ("2", 1, False, "r1"),
                                     ("1", 2, False, "r2"), ("2", 1, True, "r2")]
    assert rows[0][4] < rows[3][4]                  # batch_seq orders versions


def test_record_hash_is_sha256_of_sorted_payload_plus_deleted_flag(con):
    lander = DuckDBLander(con)
    rec = {"updated_at": "2026-06-01T00:00:00Z", "id": 7, "b": {"z": 1, "a": [2, 1]}}
    lander.land_batch("lms", "users", [rec], "r1", spec=SPEC)
    got, payload = con.execute("select record_hash, payload from raw.lms__users").fetchone()
    assert got == hashlib.sha256((canonical_json(rec) + "|0").encode()).hexdigest()
    assert json.loads(payload) == rec


def test_last_occurrence_in_a_batch_wins(con):
    lander = DuckDBLander(con)
    page = [{"id": 1, "updated_at": "a", "v": "first"}, {"id": 1, "updated_at": "b", "v": "last"}]
    assert lander.land_batch("lms", "users", page, "r1", spec=SPEC) == 1
    assert con.execute("select json_extract_string(payload, '$.v') from raw.lms__users").fetchone()[0] == "last"


def test_batch_and_cursor_commit_together(con, monkeypatch):
    lander = DuckDBLander(con)
    lander.land_batch("lms", "users", recs(2), "r1", spec=SPEC, cursor=CursorWrite({"n": 1}, "full"))

    def crash(*a, **k):     # the process dies between the insert and the cursor write
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(lander, "_write_cursor", crash)
    with pytest.raises(RuntimeError):
        lander.land_batch("lms", "users", recs(6), "r2", spec=SPEC, cursor=CursorWrite({"n": 2}, "full"))
    assert con.execute("select count(*) from raw.lms__users").fetchone()[0] == 2    # batch not visible
    assert lander.read_cursor("lms", "users") == {"n": 1}                          # cursor not moved
    monkeypatch.undo()
    assert lander.land_batch("lms", "users", recs(6), "r3", spec=SPEC, cursor=CursorWrite({"n": 3}, "full")) == 4
    assert lander.read_cursor("lms", "users") == {"n": 3}


def test_schema_has_every_raw_state_and_audit_table_with_contract_columns(con):
    DuckDBLander(con)
    tables = {f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}
    for t in ["hris__users", "xapi__statements", "lms__users", "lms__competency_frameworks",
              "lms__competencies", "lms__job_profiles", "lms__courses", "lms__assignments", "lms__assessments",
              "lms__reviews", "lms__observations", "checkins__objectives", "checkins__checkins", "payroll__rows",
              "payroll__files", "payroll__withdrawals", "hris__full_pulls"]:
        assert f"raw.{t}" in tables
    cols = lambda t: [c[0] for c in con.execute(
        "select column_name from information_schema.columns where table_schema||'.'||table_name = ? "
        "order by ordinal_position", [t]).fetchall()]
    assert cols("audit.source_extract") == ["run_id", "source", "stream", "mode", "cursor_from", "cursor_to",
                                            "records", "pages", "bytes", "checksum", "started_at", "finished_at",
                                            # after the contract's: what the records read became
                                            "new_versions", "duplicates_absorbed", "quarantined"]
    assert cols("audit.quarantine") == ["run_id", "source", "stream", "record_ref", "reason", "quarantined_at"]
    assert cols("audit.pipeline_run") == ["run_id", "started_at", "finished_at", "status", "code_version",
                                          "trigger"]
    assert cols("audit.publication") == ["run_id", "decided_at", "status", "blocked_by", "row_counts"]
    assert cols("audit.dq_result")[:3] == ["run_id", "check_name", "target_table"]
    assert cols("raw.payroll__rows")[:8] == ["record_id", "payload", "record_hash", "source_updated_at",
                                             "is_deleted", "run_id", "batch_seq", "landed_at"]
    assert cols("bridge_state.cursor") == ["source", "stream", "cursor_value", "mode", "run_id", "updated_at"]
    DuckDBLander(con)       # idempotent


IMMUTABLE = RecordSpec(id_path="$.id", updated_path="$.stored", id_from_hash=True, immutable=True)


def page(records: list, more: str = "") -> bytes:
    return json.dumps({"statements": records, "more": more}).encode()


def test_land_pages_lands_records_as_served_from_page_texts(con):
    lander = DuckDBLander(con)
    first = {"id": "a", "stored": "2026-06-01T00:00:00Z", "z": 1, "b": {"y": "é", "x": [2, 1]}}
    no_id = {"stored": "2026-06-02T00:00:00Z", "verb": {"id": "v"}}
    pages = [page([first, no_id]), page([{"id": "b", "stored": "2026-06-03T00:00:00Z"}]).decode()]
    assert lander.land_pages("xapi", "statements", pages, "r1", records_path="$.statements", spec=IMMUTABLE,
                             cursor=CursorWrite({"n": 1}, "full")) == 3
    rows = {r[0]: r[1:] for r in con.execute(
        "select record_id, payload::varchar, record_hash, source_updated_at, is_deleted from raw.xapi__statements").fetchall()}
    served = json.dumps(first, separators=(",", ":"), ensure_ascii=False)     # minified, keys in served order
    assert rows["a"] == (served, hashlib.sha256((served + "|0").encode()).hexdigest(), "2026-06-01T00:00:00Z",
                         False)
    no_id_text = json.dumps(no_id, separators=(",", ":"))
    assert rows[hashlib.sha256(no_id_text.encode()).hexdigest()][0] == no_id_text
    assert lander.read_cursor("xapi", "statements") == {"n": 1}


def test_land_pages_immutable_skips_known_keys_and_last_occurrence_wins(con):
    lander = DuckDBLander(con)
    one = {"id": "a", "stored": "s1", "v": "first"}
    assert lander.land_pages("xapi", "statements", [page([one, dict(one, v="last")]), page([])], "r1",
                             records_path="$.statements", spec=IMMUTABLE) == 1
    assert con.execute("select payload->>'$.v' from raw.xapi__statements").fetchone()[0] == "last"
    # an id once landed is never landed again, even served with other content; a new one is
    assert lander.land_pages("xapi", "statements", [page([dict(one, v="changed"), {"id": "b", "stored": "s2"}])],
                             "r2", records_path="$.statements", spec=IMMUTABLE) == 1
    assert sorted(con.execute("select record_id, run_id from raw.xapi__statements").fetchall()) == [
        ("a", "r1"), ("b", "r2")]


def test_land_pages_batch_and_cursor_commit_together(con, monkeypatch):
    lander = DuckDBLander(con)

    def crash(*a, **k):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(lander, "_write_cursor", crash)
    with pytest.raises(RuntimeError):
        lander.land_pages("xapi", "statements", [page([{"id": "a"}])], "r1", records_path="$.statements",
                          spec=IMMUTABLE, cursor=CursorWrite({"n": 1}, "full"))
    assert con.execute("select count(*) from raw.xapi__statements").fetchone()[0] == 0
    assert lander.read_cursor("xapi", "statements") is None


def test_a_failed_batch_leaves_nothing_and_the_lander_keeps_working(con):
    lander = DuckDBLander(con)
    with pytest.raises(duckdb.InvalidInputException):      # the error itself, not a follow-on one
        lander.land_pages("xapi", "statements", [page([{"id": "a"}]), b'{"statements": [{"id": "b"'], "r1",
                          records_path="$.statements", spec=IMMUTABLE, cursor=CursorWrite({"n": 1}, "full"))
    assert con.execute("select count(*) from raw.xapi__statements").fetchone()[0] == 0
    assert lander.read_cursor("xapi", "statements") is None
    assert lander.land_pages("xapi", "statements", [page([{"id": "a"}])], "r2", records_path="$.statements",
                             spec=IMMUTABLE) == 1
    assert lander.land_batch("lms", "users", recs(2), "r2", spec=SPEC) == 2


def test_pages_staged_in_groups_land_in_one_transaction_with_their_cursor(con):
    lander = DuckDBLander(con)
    lander.stage_pages([page([{"id": "a", "v": "first"}])], records_path="$.statements")
    lander.stage_pages([page([{"id": "b"}]), page([{"id": "a", "v": "last"}])], records_path="$.statements")
    assert con.execute("select count(*) from raw.xapi__statements").fetchone()[0] == 0     # nothing landed yet
    assert lander.land_staged("xapi", "statements", "r1", spec=IMMUTABLE, cursor=CursorWrite({"n": 2}, "full")) == 2
    assert con.execute("select payload->>'$.v' from raw.xapi__statements where record_id = 'a'").fetchone()[0] \
        == "last"       # the last occurrence across the groups wins
    assert lander.read_cursor("xapi", "statements") == {"n": 2}
    # a failed group discards everything staged before it
    lander.stage_pages([page([{"id": "c"}])], records_path="$.statements")
    with pytest.raises(duckdb.InvalidInputException):
        lander.stage_pages([b'{"statements": [{"id": "d"'], records_path="$.statements")
    lander.stage_pages([page([{"id": "e"}])], records_path="$.statements")
    assert lander.land_staged("xapi", "statements", "r2", spec=IMMUTABLE) == 1
    assert sorted(r[0] for r in con.execute("select record_id from raw.xapi__statements").fetchall()) == [
        "a", "b", "e"]


def test_keys_read_while_staging_land_the_same_rows(tmp_path):
    """Pages staged with their spec (keys read as they are staged) land exactly what pages staged
    without one do: the same ids, stamps, hashes and payloads, the last occurrence winning."""
    served = [page([{"id": "a", "stored": "s1", "v": "first"}, {"stored": "s2", "v": "no id"}]),
              page([{"id": "b", "stored": "s3"}, {"id": "a", "stored": "s4", "v": "last"}])]
    rows = []
    for spec in (None, IMMUTABLE):
        con = duckdb.connect(str(tmp_path / f"{spec is None}.duckdb"))
        lander = DuckDBLander(con)
        for group in served:
            lander.stage_pages([group], records_path="$.statements", spec=spec)
        assert lander.land_staged("xapi", "statements", "r1", spec=IMMUTABLE) == 3
        rows.append(con.execute("select record_id, payload::varchar, record_hash, source_updated_at "
                                "from raw.xapi__statements order by record_id").fetchall())
        con.close()
    assert rows[0] == rows[1]
    assert [r[3] for r in rows[1] if r[0] == "a"] == ["s4"]


def test_a_batch_is_staged_and_landed_with_one_spec(con):
    lander = DuckDBLander(con)
    lander.stage_pages([page([{"id": "a"}])], records_path="$.statements", spec=IMMUTABLE)
    with pytest.raises(ValueError, match="same record spec"):
        lander.stage_pages([page([{"id": "b"}])], records_path="$.statements")
    with pytest.raises(ValueError, match="staged with"):
        lander.land_staged("xapi", "statements", "r1", spec=RecordSpec(id_path="$.id", updated_path=None))


def test_memory_limit_is_capped_while_landing_then_restored(con):
    lander = DuckDBLander(con)
    con.execute("reset memory_limit")
    default = con.execute("select current_setting('memory_limit')").fetchone()[0]
    with lander.memory_limit("512MB"):
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == default
    con.execute("set memory_limit = '256MB'")
    with lander.memory_limit("512MB"):      # a lower limit is kept
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "244.1 MiB"


def test_every_version_carries_a_batch_seq_also_in_a_warehouse_from_before() -> None:
    """batch_seq orders versions, so the raw tables refuse a version without one; a raw table
    created before that was declared gets the constraint on the next run, its rows kept."""
    from connectors.landing import ensure_schema

    con = duckdb.connect(":memory:")
    con.execute("create schema raw")
    con.execute("""create table raw.lms__users (record_id varchar not null, payload json, record_hash varchar,
                   source_updated_at varchar, is_deleted boolean, run_id varchar, batch_seq bigint,
                   landed_at timestamp)""")
    con.execute("insert into raw.lms__users (record_id, batch_seq) values ('1', 7)")
    ensure_schema(con)
    nullable = con.execute("select table_name from information_schema.columns where table_schema = 'raw' "
                           "and column_name = 'batch_seq' and is_nullable = 'YES'").fetchall()
    assert nullable == []
    assert con.execute("select record_id, batch_seq from raw.lms__users").fetchall() == [("1", 7)]
    with pytest.raises(duckdb.ConstraintException, match="batch_seq"):
        con.execute("insert into raw.xapi__statements (record_id) values ('s1')")
