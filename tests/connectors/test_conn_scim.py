"""SCIM feed against RFC 7643/7644 fixtures and a small SCIM server."""
from __future__ import annotations

import copy
import json
import logging
from datetime import date

import pytest
from connector_fakes import FIXTURES, FakeServer, ScimSource

from connectors.config import ScimConfig
from connectors.errors import SchemaDriftError
from connectors.sync import extract_source

LOG = logging.getLogger("test.scim")
TOKEN = "scim-bearer-Tok3n"
ENTERPRISE = json.loads((FIXTURES / "scim/rfc7643-8.3-enterprise-user.json").read_text())
SPC = json.loads((FIXTURES / "scim/rfc7643-8.5-service-provider-config.json").read_text())
LIST_PARTIAL = json.loads((FIXTURES / "scim/rfc7644-3.4.2-list-response-partial.json").read_text())


def make_users(n: int, day: str = "2026-06-01") -> list[dict]:
    out = []
    for i in range(n):
        u = copy.deepcopy(ENTERPRISE)
        u["id"], u["userName"] = f"u{i:04d}", f"user{i}@example.com"
        u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"] = f"{i:06d}"
        u["meta"]["lastModified"] = f"{day}T00:00:{i % 60:02d}Z"
        out.append(u)
    return out


def cfg(url: str, http, **kw) -> ScimConfig:
    return ScimConfig(base_url=f"{url}/scim/v2", token=TOKEN, http=http, **kw)


def latest(con) -> dict[str, tuple]:
    rows = con.execute("""select record_id, payload, is_deleted from raw.hris__users
                          qualify row_number() over (partition by record_id order by batch_seq desc) = 1""").fetchall()
    return {r[0]: (json.loads(r[1]), r[2]) for r in rows}


def test_fixture_service_provider_config_max_results_caps_pages(con, fast_http):
    users = make_users(450)
    with FakeServer(ScimSource(users, TOKEN, spc=SPC, max_results=200)) as srv:
        [res] = extract_source(con, "hris", cfg(srv.url, fast_http, page_size=500), "r1", date(2026, 6, 30), LOG)
        counts = [int(q["count"]) for m, p, q in srv.requests if p == "/scim/v2/Users"]
    assert set(counts) == {200}                 # maxResults 200 honoured even though 500 was configured
    assert res.records == 450 and res.pages == 3 and res.mode == "full"
    got = latest(con)
    assert len(got) == 450
    # extra attributes kept raw
    assert got["u0007"][0]["addresses"][0]["locality"] == "Hollywood"
    assert got["u0007"][0]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"] == "000007"


def test_fixture_list_response_without_paging_fields(con, fast_http):
    resources = LIST_PARTIAL["Resources"]

    class Bare(ScimSource):
        def __call__(self, req):
            status, headers, body = super().__call__(req)
            if req.path == "/scim/v2/Users":   # exactly the RFC's shape: no itemsPerPage/startIndex
                start = int(req.query["startIndex"])
                page = resources if start == 1 else []
                body = json.dumps({**LIST_PARTIAL, "Resources": page}).encode()
            return status, headers, body

    with FakeServer(Bare([], TOKEN, filter_supported=False)) as srv:
        [res] = extract_source(con, "hris", cfg(srv.url, fast_http), "r1", date(2026, 6, 30), LOG)
    got = latest(con)
    assert set(got) == {r["id"] for r in resources} and res.records == 2
    row = con.execute("select source_updated_at from raw.hris__users limit 1").fetchone()
    assert row[0] is None                       # absent meta -> null, not an error


def test_enterprise_user_fixture_lands_raw(con, fast_http):
    with FakeServer(ScimSource([ENTERPRISE], TOKEN)) as srv:
        extract_source(con, "hris", cfg(srv.url, fast_http), "r1", date(2026, 6, 30), LOG)
    got = latest(con)[ENTERPRISE["id"]][0]
    assert got == ENTERPRISE        # exactly as received (key order aside)


def test_short_pages_and_empty_page_stop(con, fast_http):
    users = make_users(57)

    class Short(ScimSource):      # a server returning fewer than asked
        def __call__(self, req):
            if req.path == "/scim/v2/Users":
                req.query["count"] = str(min(int(req.query["count"]), 7))
            return super().__call__(req)

    with FakeServer(Short(users, TOKEN)) as srv:
        [res] = extract_source(con, "hris", cfg(srv.url, fast_http, page_size=20), "r1", date(2026, 6, 30), LOG)
        starts = [int(q["startIndex"]) for m, p, q in srv.requests if p == "/scim/v2/Users"]
    assert starts == [1 + 7 * i for i in range(9)] + [58]     # 9 pages of <=7, then the empty one
    assert res.records == 57 and len(latest(con)) == 57


def test_missing_user_name_fails_naming_field_and_record(con, fast_http):
    users = make_users(3)
    del users[1]["userName"]
    with FakeServer(ScimSource(users, TOKEN)) as srv, pytest.raises(SchemaDriftError) as err:
        extract_source(con, "hris", cfg(srv.url, fast_http), "r1", date(2026, 6, 30), LOG)
    assert "userName" in str(err.value) and "u0001" in str(err.value)
    assert con.execute("select count(*) from raw.hris__users").fetchone()[0] == 0


def test_incremental_filter_then_periodic_full_pull_tombstones_absent(con, fast_http):
    users = make_users(30)
    src = ScimSource(users, TOKEN)
    with FakeServer(src) as srv:
        c = cfg(srv.url, fast_http, page_size=10, full_refresh_days=7)
        extract_source(con, "hris", c, "r1", date(2026, 6, 30), LOG)
        users[3]["title"] = "Senior Tour Guide"
        users[3]["meta"]["lastModified"] = "2026-07-01T09:00:00Z"
        gone = users.pop(5)
        srv.requests.clear()
        [r2] = extract_source(con, "hris", c, "r2", date(2026, 7, 1), LOG)
        filters = {q.get("filter") for m, p, q in srv.requests if p == "/scim/v2/Users"}
        assert r2.mode == "incremental" and r2.records == 1
        assert filters == {'meta.lastModified gt "2026-06-01T00:00:29Z"'}
        assert latest(con)["u0003"][0]["title"] == "Senior Tour Guide"
        assert latest(con)[gone["id"]][1] is False        # incremental pulls never tombstone
        [r3] = extract_source(con, "hris", c, "r3", date(2026, 7, 7), LOG)   # 7 days after the first full pull
    assert r3.mode == "full" and r3.records == 29
    state = latest(con)
    assert state[gone["id"]][1] is True and state[gone["id"]][0]["id"] == gone["id"]
    assert sum(1 for p, d in state.values() if d) == 1
    pulls = con.execute("select run_id, users_seen, users_marked_absent from raw.hris__full_pulls order by run_id").fetchall()
    assert pulls == [("r1", 30, 0), ("r3", 29, 1)]
    assert con.execute("select count(*) from bridge_state.scim_seen").fetchone()[0] == 0


def test_user_shifted_between_pages_is_not_tombstoned(con, fast_http):
    users = make_users(20)

    class Shifting(ScimSource):   # a user deleted mid-pull shifts the next page: one user is skipped
        shift = False

        def __call__(self, req):
            out = super().__call__(req)
            if self.shift and req.path == "/scim/v2/Users" and req.query.get("startIndex") == "1":
                self.shift = False
                self.users.pop(0)
            return out

    src = Shifting(users, TOKEN, filter_supported=False)
    with FakeServer(src) as srv:
        c = cfg(srv.url, fast_http, page_size=10)
        extract_source(con, "hris", c, "r1", date(2026, 6, 30), LOG)
        src.shift = True
        srv.requests.clear()
        [res] = extract_source(con, "hris", c, "r2", date(2026, 7, 1), LOG)
        looked_up = sorted(p for m, p, q in srv.requests if p.startswith("/scim/v2/Users/"))
    state = latest(con)
    # u0000 (seen on page 1, then deleted) made u0010 slide out of view: it is re-read by id, not tombstoned
    assert looked_up == ["/scim/v2/Users/u0010"]
    assert not any(d for p, d in state.values())
    assert res.mode == "full" and len(state) == 20
    with FakeServer(src) as srv:     # the next full pull does not see u0000: 404 confirms, tombstoned
        extract_source(con, "hris", cfg(srv.url, fast_http, page_size=10), "r3", date(2026, 7, 2), LOG)
    assert [k for k, (p, d) in latest(con).items() if d] == ["u0000"]


def test_filter_refused_despite_config_falls_back_to_full_pull(con, fast_http):
    users = make_users(12)

    class Refuses(ScimSource):     # advertises filtering, answers 400 invalidFilter to it
        def __call__(self, req):
            if req.path == "/scim/v2/Users" and "filter" in req.query:
                return 400, {"Content-Type": "application/scim+json"}, json.dumps(
                    {"status": "400", "scimType": "invalidFilter"}).encode()
            return super().__call__(req)

    with FakeServer(Refuses(users, TOKEN)) as srv:
        c = cfg(srv.url, fast_http, page_size=5)
        extract_source(con, "hris", c, "r1", date(2026, 6, 30), LOG)
        users[2]["title"] = "Chief Guide"
        users[2]["meta"]["lastModified"] = "2026-07-01T08:00:00Z"
        [res] = extract_source(con, "hris", c, "r2", date(2026, 7, 1), LOG)
        filtered = [q for m, p, q in srv.requests if p == "/scim/v2/Users" and "filter" in q]
    assert len(filtered) == 1 and res.mode == "full" and res.records == 12
    assert latest(con)["u0002"][0]["title"] == "Chief Guide"


VENDOR = "urn:example:params:scim:schemas:extension:acme-hr:3.0:User"
ATTRIBUTE_MAP = {
    "employeeNumber": f"{VENDOR}:personnelId",
    "hireDate": f"{VENDOR}:startDate",
    "terminationDate": f"{VENDOR}:endDate",
    "employmentType": f"{VENDOR}:contract",
    "fte": f"{VENDOR}:workingTime.fte",
    "location": "addresses.locality",                   # core attribute, multi-valued: the primary one
    "frontline": f"{VENDOR}:FrontLine",                 # SCIM names are case-insensitive
    "jobCode": "urn:ietf:params:scim:schemas:core:2.0:User:nickName",
}


def vendor_user(i: int) -> dict:
    u = copy.deepcopy(ENTERPRISE)       # RFC 7643 8.3: its enterprise employeeNumber "701984"
    u["id"], u["userName"] = f"v{i:03d}", f"vendor{i}@example.com"
    u["meta"]["lastModified"] = "2026-06-01T00:00:00Z"
    u["nickName"] = f"JC-{i}"
    u[VENDOR] = {"personnelId": f"00{i:03d}", "startDate": "2019-03-01", "endDate": None, "contract": "part_time",
                 "workingTime": {"fte": 0.6}, "frontline": True, "costObject": "X1"}
    return u


def test_attribute_map_lands_the_contract_shape_and_keeps_what_it_displaced(con, fast_http):
    from connectors.scim import EMPLOYMENT, REPLACED

    users = [vendor_user(i) for i in range(3)]
    with FakeServer(ScimSource(users, TOKEN)) as srv:
        extract_source(con, "hris", cfg(srv.url, fast_http, attributes=ATTRIBUTE_MAP), "r1", date(2026, 6, 30), LOG)
    got = latest(con)["v001"][0]
    ent = got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    assert ent["employeeNumber"] == "00001"                       # from the vendor's attribute, as text
    assert got[REPLACED] == {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984"}
    assert got[EMPLOYMENT] == {"hireDate": "2019-03-01", "employmentType": "part_time", "fte": 0.6,
                               "location": "Hollywood", "frontline": True, "jobCode": "JC-1"}
    assert got[VENDOR] == users[1][VENDOR]                         # the original attributes stay as served
    assert ent["department"] == "Tour Operations"                  # unmapped enterprise attributes untouched


def test_default_attribute_map_lands_records_as_served(con, fast_http):
    users = [vendor_user(0)]
    with FakeServer(ScimSource(users, TOKEN)) as srv:
        extract_source(con, "hris", cfg(srv.url, fast_http), "r1", date(2026, 6, 30), LOG)
    assert latest(con)["v000"][0] == users[0]


@pytest.mark.parametrize("bad", [{"salary": "urn:x:y:1.0:User:pay"}, {"hireDate": "urn:x:y:1.0:User:"},
                                 {"hireDate": "a.b.c"}, {"fte": "urn:x:User:fte value"}])
def test_attribute_map_refuses_unknown_fields_and_bad_paths(bad):
    from connectors.scim import AttributeMap

    with pytest.raises(ValueError, match=r"unknown field|not a SCIM attribute path"):
        AttributeMap(bad)


def test_full_pull_over_the_absence_rate_terminates_no_one_and_decides_again(con, fast_http):
    users = make_users(40)
    src = ScimSource(users, TOKEN)
    with FakeServer(src) as srv:
        [first] = extract_source(con, "hris", cfg(srv.url, fast_http), "r1", date(2026, 6, 1), LOG)
        assert first.mode == "full" and first.absent_held == 0
        src.users = users[:37]          # a token that sees only part of the HRIS: 3 of 40 (7.5 %) missing
        [held] = extract_source(con, "hris", cfg(srv.url, fast_http, full_refresh_days=1), "r2",
                                date(2026, 6, 2), LOG)
        assert held.mode == "full" and (held.absent_held, held.active_users) == (3, 40)
        assert con.execute("select count(*) from raw.hris__users where is_deleted").fetchone()[0] == 0
        # the next run pulls in full again (the held pull did not count as the weekly one) and decides again
        [again] = extract_source(con, "hris", cfg(srv.url, fast_http, max_absence_termination_rate=0.1), "r3",
                                 date(2026, 6, 3), LOG)
        assert again.mode == "full" and again.absent_held == 0
    deleted = {r[0] for r in con.execute("select record_id from raw.hris__users where is_deleted").fetchall()}
    assert deleted == {u["id"] for u in users[37:]}
