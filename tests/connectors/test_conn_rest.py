"""LMS (OAuth2) and check-in (Bearer) cursor lists: paging, tombstones, per-batch cursor, resume."""
from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from connector_fakes import FakeServer, RestSource

from connectors.config import CheckinsConfig, LmsConfig
from connectors.errors import SchemaDriftError, SourceError
from connectors.lms import STREAMS as LMS_STREAMS
from connectors.sync import extract_source

LOG = logging.getLogger("test.rest")
DAY = date(2026, 6, 30)


def rows(prefix: str, n: int, day: str = "2026-06-01") -> list[dict]:
    return [{"id": i + 1, "name": f"{prefix}-{i}", "updated_at": f"{day}T08:{i // 60:02d}:{i % 60:02d}Z"}
            for i in range(n)]


def latest(con, table: str) -> dict[str, tuple]:
    q = f"""select record_id, payload, is_deleted from raw.{table}
            qualify row_number() over (partition by record_id order by batch_seq desc) = 1"""
    return {r[0]: (json.loads(r[1]), r[2]) for r in con.execute(q).fetchall()}


def test_lms_nine_resources_oauth_and_incremental(con, fast_http):
    data = {name: rows(name, 3 + k) for k, name in enumerate(LMS_STREAMS)}
    src = RestSource(data, client_id="lms-client", client_secret="lms-S3cret-value", max_limit=4)
    with FakeServer(src) as srv:
        cfg = LmsConfig(base_url=srv.url, client_id="lms-client", client_secret="lms-S3cret-value",
                        page_size=4, http=fast_http)
        results = extract_source(con, "lms", cfg, "r1", DAY, LOG)
        assert [r.stream for r in results] == list(LMS_STREAMS)
        for k, (res, name) in enumerate(zip(results, LMS_STREAMS)):
            assert res.records == 3 + k and res.mode == "full" and res.raw_table == f"raw.lms__{name}"
            assert set(latest(con, f"lms__{name}")) == {str(r["id"]) for r in data[name]}
        assert srv.counts["/oauth/token"] == 1          # one token for the whole source
        # next day: one change, one tombstone
        data["courses"][0].update(title="renamed", updated_at="2026-07-01T09:00:00Z")
        data["courses"][1].update(deleted=True, updated_at="2026-07-01T09:30:00Z")
        srv.requests.clear()
        results = extract_source(con, "lms", cfg, "r2", DAY, LOG)
        course_q = [q for m, p, q in srv.requests if p == "/api/v1/courses"]
    by = {r.stream: r for r in results}
    assert by["courses"].records == 2 and by["courses"].mode == "incremental"
    assert course_q[0]["updated_since"] == data["courses"][-1]["updated_at"]
    assert sum(r.records for r in results) == 2
    cur = latest(con, "lms__courses")
    assert cur["1"][0]["title"] == "renamed" and cur["1"][1] is False
    assert cur["2"][1] is True and cur["2"][0]["deleted"] is True
    versions = con.execute("select count(*) from raw.lms__courses").fetchone()[0]
    assert versions == len(data["courses"]) + 2


def test_checkins_bearer_and_cursor_resume_after_failure(con, fast_http):
    data = {"objectives": rows("obj", 9), "checkins": rows("chk", 23)}
    with FakeServer(RestSource(data, token="chk-Bearer-T0ken", max_limit=5)) as srv:
        cfg = CheckinsConfig(base_url=srv.url, token="chk-Bearer-T0ken", page_size=5, batch_records=5,
                             http=fast_http)
        srv.faults = [None] * 2 + [None, None] + ["503"] * fast_http.max_attempts  # objectives ok; checkins dies at page 3
        with pytest.raises(SourceError) as err:
            extract_source(con, "checkins", cfg, "r1", DAY, LOG)
        assert "checkins/checkins" in str(err.value) and "/api/v1/checkins" in str(err.value)
        assert len(latest(con, "checkins__checkins")) == 10         # two committed batches kept
        state = json.loads(con.execute("select cursor_value from bridge_state.cursor "
                                       "where stream='checkins'").fetchone()[0])
        assert state["next_cursor"] == "10"
        srv.requests.clear()
        results = extract_source(con, "checkins", cfg, "r2", DAY, LOG)
        cursors = [q.get("cursor") for m, p, q in srv.requests if p == "/api/v1/checkins"]
    assert cursors == ["10", "15", "20"]                             # resumed, not restarted
    by = {r.stream: r for r in results}
    assert by["checkins"].records == 13 and len(latest(con, "checkins__checkins")) == 23
    assert by["objectives"].records == 0 and by["objectives"].mode == "incremental"


def test_record_without_updated_at_fails_stream_naming_field_and_id(con, fast_http):
    data = {"objectives": rows("obj", 3), "checkins": rows("chk", 3)}
    del data["objectives"][2]["updated_at"]
    with FakeServer(RestSource(data, token="tok-123456")) as srv:
        cfg = CheckinsConfig(base_url=srv.url, token="tok-123456", http=fast_http)
        with pytest.raises(SchemaDriftError) as err:
            extract_source(con, "checkins", cfg, "r1", DAY, LOG, streams=("objectives",))
    assert err.value.field == "updated_at" and "id=3" in str(err.value)
    assert con.execute("select count(*) from raw.checkins__objectives").fetchone()[0] == 0


def test_audit_source_extract_row_per_stream(con, fast_http):
    data = {"objectives": rows("obj", 7), "checkins": rows("chk", 2)}
    with FakeServer(RestSource(data, token="tok-abcdef", max_limit=3)) as srv:
        cfg = CheckinsConfig(base_url=srv.url, token="tok-abcdef", page_size=3, http=fast_http)
        extract_source(con, "checkins", cfg, "run-42", DAY, LOG)
    got = con.execute("""select stream, mode, cursor_from, cursor_to, records, pages, bytes > 0, length(checksum)
                         from audit.source_extract where run_id = 'run-42' order by stream""").fetchall()
    assert got == [("checkins", "full", None, "2026-06-01T08:00:01Z", 2, 1, True, 64),
                   ("objectives", "full", None, "2026-06-01T08:00:06Z", 7, 3, True, 64)]


def test_page_served_twice_is_absorbed_but_an_endless_cursor_fails(con, fast_http):
    data = {"objectives": rows("obj", 6), "checkins": rows("chk", 1)}
    src = RestSource(data, token="tok-loop-1", max_limit=3)
    with FakeServer(src) as srv:
        cfg = CheckinsConfig(base_url=srv.url, token="tok-loop-1", page_size=3, http=fast_http)
        real = srv.route

        def twice(req):         # the first page is served again (same next_cursor) once
            if req.path == "/api/v1/objectives" and "cursor" in req.query and not twice.done:
                twice.done = True
                req.query.pop("cursor")
            return real(req)
        twice.done = False
        srv.route = twice
        [res] = extract_source(con, "checkins", cfg, "r1", DAY, LOG, streams=("objectives",))
        assert res.records == 9 and res.new_versions == 6
        srv.route = lambda req: (200, {"Content-Type": "application/json"},
                                 json.dumps({"data": [], "next_cursor": "again"}).encode())
        con.execute("delete from bridge_state.cursor")
        with pytest.raises(SourceError) as err:
            extract_source(con, "checkins", cfg, "r2", DAY, LOG, streams=("objectives",))
    assert "paging loop" in str(err.value)


def test_expired_resume_cursor_restarts_the_listing(con, fast_http):
    data = {"objectives": rows("obj", 7), "checkins": rows("chk", 1)}
    with FakeServer(RestSource(data, token="tok-exp-1", max_limit=3)) as srv:
        cfg = CheckinsConfig(base_url=srv.url, token="tok-exp-1", page_size=3, http=fast_http)
        con.execute("create schema if not exists bridge_state")
        extract_source(con, "checkins", cfg, "r0", DAY, LOG, streams=("checkins",))   # creates the schema
        con.execute("""insert or replace into bridge_state.cursor values ('checkins', 'objectives',
                       '{"updated_since": null, "max_updated_at": null, "next_cursor": "stale"}', 'full', 'r0',
                       now()::timestamp)""")
        real = srv.route
        srv.route = lambda req: ((400, {"Content-Type": "application/json"}, b'{"error": "cursor expired"}')
                                 if req.query.get("cursor") == "stale" else real(req))
        [res] = extract_source(con, "checkins", cfg, "r1", DAY, LOG, streams=("objectives",))
    assert res.records == 7 and len(latest(con, "checkins__objectives")) == 7


def test_pages_are_landed_in_batches_of_batch_records(con, fast_http):
    data = {"objectives": rows("obj", 20), "checkins": rows("chk", 1)}
    with FakeServer(RestSource(data, token="tok-batch-1", max_limit=3)) as srv:
        cfg = CheckinsConfig(base_url=srv.url, token="tok-batch-1", page_size=3, batch_records=7, http=fast_http)
        [res] = extract_source(con, "checkins", cfg, "r1", DAY, LOG, streams=("objectives",))
    sizes = [n for (n,) in con.execute("select count(*) from raw.checkins__objectives group by batch_seq "
                                       "order by batch_seq").fetchall()]
    assert sizes == [9, 9, 2]           # 3 pages of 3 reach 7 records -> one batch; the rest at the end
    assert res.pages == 7 and res.records == 20
