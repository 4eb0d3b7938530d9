"""xAPI feed: spec examples land raw; window since/until; watermark only moves at the end."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from connector_fakes import FIXTURES, FakeServer, LrsSource

from connectors.config import XapiConfig
from connectors.errors import SourceError
from connectors.sync import extract_source

LOG = logging.getLogger("test.xapi")
USER, PASSWORD = "lrs-user", "lrs-Pa55-word"
SPEC = json.loads((FIXTURES / "xapi/spec-examples.json").read_text())
DAY = date(2026, 6, 30)


def stmt(i: int, stored: str, verb: str = "completed") -> dict:
    return {"id": f"00000000-0000-4000-8000-{i:012d}", "actor": {"mbox": f"mailto:p{i}@example.com"},
            "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
            "object": {"id": f"http://example.com/course/{i % 5}"}, "stored": stored, "timestamp": stored}


def cfg(url: str, http, page_size: int = 10) -> XapiConfig:
    # one page per landed batch, so a failure mid-window leaves committed pages behind
    return XapiConfig(base_url=f"{url}/xapi", username=USER, password=PASSWORD, http=http, page_size=page_size,
                      batch_records=page_size)


def raw(con) -> dict[str, dict]:
    return {r[0]: json.loads(r[1]) for r in con.execute("select record_id, payload from raw.xapi__statements").fetchall()}


def test_every_spec_example_lands_raw(con, fast_http):
    stored = [dict(s, stored=s.get("stored", f"2026-06-0{1 + i % 9}T10:00:00Z")) for i, s in enumerate(SPEC)]
    with FakeServer(LrsSource(stored, USER, PASSWORD, "2026-06-30T00:00:00Z", max_limit=4)) as srv:
        [res] = extract_source(con, "xapi", cfg(srv.url, fast_http, page_size=4), "r1", DAY, LOG)
    got = raw(con)
    assert res.records == len(SPEC) and res.pages == 3
    with_id = {s["id"] for s in SPEC if "id" in s}
    no_id = [s for s in stored if "id" not in s]
    assert with_id <= set(got)
    for s in no_id:     # keyed by sha256 of the statement text as landed (minified, keys in served order)
        key = hashlib.sha256(json.dumps(s, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
        assert got[key] == s
    assert len(got) == len(with_id) + len(no_id)
    long_example = next(s for s in SPEC if s.get("context") and s.get("authority"))
    assert got[long_example["id"]] == long_example


def test_window_until_consistent_through_and_watermark(con, fast_http):
    stmts = [stmt(i, f"2026-06-29T10:{i:02d}:00Z") for i in range(25)]
    late = stmt(99, "2026-06-30T12:00:00Z")          # stored after the run's consistency point
    src = LrsSource(stmts + [late], USER, PASSWORD, "2026-06-29T23:59:59Z", max_limit=10)
    with FakeServer(src) as srv:
        [r1] = extract_source(con, "xapi", cfg(srv.url, fast_http), "r1", DAY, LOG)
        queries = [q for m, p, q in srv.requests if p == "/xapi/statements"]
        assert queries[0] == {"limit": "1"}                 # the cheap consistency probe
        assert queries[1] == {"ascending": "true", "limit": "10", "until": "2026-06-29T23:59:59Z"}
        assert r1.records == 25 and late["id"] not in raw(con)
        assert r1.cursor_to == "2026-06-29T23:59:59Z"
        src.consistent_through = "2026-06-30T23:59:59Z"
        srv.requests.clear()
        [r2] = extract_source(con, "xapi", cfg(srv.url, fast_http), "r2", DAY, LOG)
        q = [q for m, p, q in srv.requests if p == "/xapi/statements"][1]
    assert q["since"] == "2026-06-29T23:59:59Z" and r2.records == 1 and late["id"] in raw(con)
    assert r2.mode == "incremental" and r2.cursor_from == "2026-06-29T23:59:59Z"


def test_failure_mid_window_keeps_watermark_and_resumes_from_more(con, fast_http):
    stmts = [stmt(i, f"2026-06-29T10:{i:02d}:00Z") for i in range(30)]
    src = LrsSource(stmts, USER, PASSWORD, "2026-06-29T23:59:59Z", max_limit=10)
    with FakeServer(src) as srv:
        srv.faults = [None, None, None] + ["500"] * fast_http.max_attempts     # probe, page 1, page 2 then dies
        with pytest.raises(SourceError):
            extract_source(con, "xapi", cfg(srv.url, fast_http), "r1", DAY, LOG)
        state = json.loads(con.execute("select cursor_value from bridge_state.cursor where source='xapi'").fetchone()[0])
        assert state["watermark"] is None and state["in_window"] is True     # W not moved to C
        assert len(raw(con)) == 20
        srv.requests.clear()
        [r2] = extract_source(con, "xapi", cfg(srv.url, fast_http), "r2", DAY, LOG)
        offsets = [q.get("offset") for m, p, q in srv.requests if p == "/xapi/statements"]
    assert offsets == ["20"] and r2.records == 10           # resumed at the third page, no probe, no re-read
    assert len(raw(con)) == 30 and r2.cursor_to == "2026-06-29T23:59:59Z"


def test_redelivered_statements_add_nothing(con, fast_http):
    stmts = [stmt(i, f"2026-06-29T10:{i:02d}:00Z") for i in range(12)]
    with FakeServer(LrsSource(stmts, USER, PASSWORD, "2026-06-29T23:59:59Z", max_limit=5)) as srv:
        extract_source(con, "xapi", cfg(srv.url, fast_http), "r1", DAY, LOG)
        con.execute("delete from bridge_state.cursor")          # forget the watermark: everything comes again
        [r2] = extract_source(con, "xapi", cfg(srv.url, fast_http), "r2", DAY, LOG)
    assert r2.records == 12 and r2.new_versions == 0
    assert con.execute("select count(*) from raw.xapi__statements").fetchone()[0] == 12


def test_statements_are_landed_as_served(con, fast_http):
    stmts = [stmt(i, f"2026-06-29T10:{i:02d}:00Z") for i in range(3)]
    with FakeServer(LrsSource(stmts, USER, PASSWORD, "2026-06-29T23:59:59Z", max_limit=10)) as srv:
        extract_source(con, "xapi", cfg(srv.url, fast_http), "r1", DAY, LOG)
    text = dict(con.execute("select record_id, payload::varchar from raw.xapi__statements").fetchall())
    for s in stmts:     # minified by DuckDB, keys in the order the LRS served them (not sorted)
        assert text[s["id"]] == json.dumps(s, separators=(",", ":"))


def _break(route, bad: dict[int, bytes]):
    """Serve `bad[n]` (status 200) as the n-th statements response instead of the real one."""
    seen = [0]

    def wrapped(req):
        status, headers, body = route(req)
        if req.path == "/xapi/statements":
            seen[0] += 1
            if seen[0] in bad:
                return status, headers, bad[seen[0]]
        return status, headers, body
    return wrapped


def test_truncated_or_invalid_page_is_retried(con, fast_http):
    stmts = [stmt(i, f"2026-06-29T10:{i:02d}:00Z") for i in range(25)]
    src = LrsSource(stmts, USER, PASSWORD, "2026-06-29T23:59:59Z", max_limit=10)
    page2 = src(type("R", (), {"headers": {"Authorization": src.auth, "X-Experience-API-Version": "1.0.3"},
                               "path": "/xapi/statements", "query": {"limit": "10", "offset": "10"}})())[2]
    bad = {3: page2[: len(page2) // 2], 4: b"", 5: b'{"statements": [}'}  # complete responses, broken JSON
    with FakeServer(_break(src, bad)) as srv:
        [res] = extract_source(con, "xapi", cfg(srv.url, fast_http), "r1", DAY, LOG)
        assert srv.counts["/xapi/statements"] == 1 + 3 + 3      # probe, 3 pages, 3 retries of page 2
    assert res.records == 25 and len(raw(con)) == 25


@pytest.mark.parametrize("body", [b'{"statements": {"id": "x"}, "more": ""}', b'{"more": ""}',
                                  b'{"statements": [1, {"id": "x"}], "more": ""}', b'[]', b'"statements"'])
def test_page_that_is_not_a_statement_result_is_not_landed(con, fast_http, body):
    stmts = [stmt(i, f"2026-06-29T10:{i:02d}:00Z") for i in range(25)]
    src = LrsSource(stmts, USER, PASSWORD, "2026-06-29T23:59:59Z", max_limit=10)
    with FakeServer(_break(src, {3: body})) as srv, pytest.raises(SourceError) as err:
        extract_source(con, "xapi", cfg(srv.url, fast_http), "r1", DAY, LOG)
    assert "not a StatementResult" in str(err.value) and err.value.status == 200
    assert len(raw(con)) == 10          # the first page only; the window stays open, W not moved
    state = json.loads(con.execute("select cursor_value from bridge_state.cursor").fetchone()[0])
    assert state["in_window"] is True and state["watermark"] is None


def test_a_more_link_that_keeps_coming_back_is_a_paging_loop(con, fast_http):
    stmts = [stmt(i, f"2026-06-29T10:{i:02d}:00Z") for i in range(5)]
    src = LrsSource(stmts, USER, PASSWORD, "2026-06-29T23:59:59Z", max_limit=10)

    def loop(req):
        status, headers, body = src(req)
        if req.path == "/xapi/statements" and req.query.get("limit") != "1":
            doc = json.loads(body)
            body = json.dumps({"statements": doc["statements"], "more": "/xapi/statements?offset=0"}).encode()
        return status, headers, body

    with FakeServer(loop) as srv, pytest.raises(SourceError, match="paging loop"):
        extract_source(con, "xapi", cfg(srv.url, fast_http), "r1", DAY, LOG)
    assert len(raw(con)) == 5           # re-delivered pages added nothing
    state = json.loads(con.execute("select cursor_value from bridge_state.cursor").fetchone()[0])
    assert state["watermark"] is None


def _utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def test_without_consistent_through_the_window_ends_at_date_minus_settle_and_overlaps(con, fast_http):
    """CONTRACT 2.2: C = the response's Date minus LRS_SETTLE_SECONDS; the next window starts that much
    before W, so a statement stored late inside the last window is still read."""
    now = datetime.now(UTC)
    stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stmts = [stmt(i, stamp(now - timedelta(hours=2, minutes=i))) for i in range(25)]
    settling = stmt(50, stamp(now + timedelta(seconds=5)))     # stored after Date - 300 s: not yet settled
    src = LrsSource(stmts + [settling], USER, PASSWORD, "", max_limit=10)
    config = XapiConfig(base_url="", username=USER, password=PASSWORD, http=fast_http, page_size=10,
                        settle_seconds=300)
    with FakeServer(src) as srv:
        config = replace(config, base_url=f"{srv.url}/xapi")
        before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=300)
        [r1] = extract_source(con, "xapi", config, "r1", DAY, LOG)
        after = datetime.now(UTC) - timedelta(seconds=300)
        assert r1.records == 25 and settling["id"] not in raw(con)
        assert before <= _utc(r1.cursor_to) <= after
        late = stmt(51, stamp(_utc(r1.cursor_to) - timedelta(seconds=60)))   # stored late, inside window 1
        src.statements.append(late)
        srv.requests.clear()
        [r2] = extract_source(con, "xapi", config, "r2", DAY, LOG)
        sinces = {q.get("since") for m, p, q in srv.requests if p == "/xapi/statements" and "until" in q}
    assert sinces == {stamp(_utc(r1.cursor_to) - timedelta(seconds=300))[:-4] + "Z"}
    assert r2.mode == "incremental" and late["id"] in raw(con)
    assert r2.new_versions == 1 and settling["id"] not in raw(con)     # overlap re-read, absorbed by id


def test_periodic_full_read_rereads_the_whole_lrs(con, fast_http):
    stmts = [stmt(i, f"2026-06-29T10:{i:02d}:00Z") for i in range(12)]
    src = LrsSource(stmts, USER, PASSWORD, "2026-06-29T23:59:59Z", max_limit=10)
    with FakeServer(src) as srv:
        config = replace(cfg(srv.url, fast_http), full_refresh_days=7)
        [r1] = extract_source(con, "xapi", config, "r1", date(2026, 6, 1), LOG)
        missed = stmt(40, "2026-06-01T00:00:00Z")     # in the LRS, but before W: no incremental window has it
        src.statements.append(missed)
        src.consistent_through = "2026-06-30T23:59:59Z"
        [r2] = extract_source(con, "xapi", config, "r2", date(2026, 6, 7), LOG)
        assert r2.mode == "incremental" and missed["id"] not in raw(con)
        srv.requests.clear()
        [r3] = extract_source(con, "xapi", config, "r3", date(2026, 6, 8), LOG)
        queries = [q for m, p, q in srv.requests if p == "/xapi/statements" and "until" in q]
    assert r1.mode == "full" and r3.mode == "full" and r3.cursor_from is None
    assert queries and all("since" not in q for q in queries)
    assert missed["id"] in raw(con) and r3.records == 13 and r3.new_versions == 1


def test_refused_resume_link_rereads_the_window(con, fast_http):
    stmts = [stmt(i, f"2026-06-29T10:{i:02d}:00Z") for i in range(30)]
    src = LrsSource(stmts, USER, PASSWORD, "2026-06-29T23:59:59Z", max_limit=10)
    with FakeServer(src) as srv:
        srv.faults = [None, None, None] + ["500"] * fast_http.max_attempts
        with pytest.raises(SourceError):
            extract_source(con, "xapi", cfg(srv.url, fast_http), "r1", DAY, LOG)
        srv.requests.clear()
        srv.faults = ["410"]            # the LRS forgot the `more` link
        [r2] = extract_source(con, "xapi", cfg(srv.url, fast_http), "r2", DAY, LOG)
        offsets = [q.get("offset") for m, p, q in srv.requests if p == "/xapi/statements"]
    assert offsets == ["20", None, "10", "20"] and r2.records == 30 and r2.new_versions == 10
    assert len(raw(con)) == 30 and r2.cursor_to == "2026-06-29T23:59:59Z"
