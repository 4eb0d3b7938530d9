"""The `foreign` dialect: every feed served inside the contract but unlike the reference
(simulator/dialect.py), and a truth that names records as this dialect serves them."""
from __future__ import annotations

import base64
import csv
import io
import re
from datetime import datetime, timedelta

import pytest
import requests

from simulator import Simulator
from simulator.dialect import Foreign, Reference
from tests.simulator import sim_protocol as sp

OFFSET_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.(\d{1,6}))?[+-]\d\d:\d\d$")


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> Simulator:
    with Simulator("pilot", seed=7, workdir=tmp_path_factory.mktemp("sim_foreign"), dialect="foreign") as sim:
        yield sim


def _walk(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def test_stamps_have_offsets_and_zero_to_six_digits_and_are_never_later_than_the_instant() -> None:
    f = Foreign()
    base = 1_782_856_800_000
    seen_digits, seen_offsets = set(), set()
    for k in range(2000):
        ms = base + k * 1_337
        text = f.stamp(ms)
        m = OFFSET_STAMP.match(text)
        assert m, text
        seen_digits.add(len(m.group(2) or ""))
        seen_offsets.add(text[-6:])
        instant = datetime.fromisoformat(text)
        exact = datetime.fromisoformat(Reference().stamp(ms))
        assert timedelta(0) <= exact - instant < timedelta(seconds=1), (ms, text)
        assert f.stamp(int(instant.timestamp() * 1000)) == text     # re-rendering a served stamp is stable
    assert seen_digits == set(range(7))
    assert len(seen_offsets) >= 8 and "+00:00" in seen_offsets


def test_scim_ids_look_numeric_are_listed_in_id_order_and_pages_are_capped(foreign) -> None:
    env = foreign.env
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {env['HRIS_SCIM_TOKEN']}"
    spc = s.get(f"{env['HRIS_SCIM_URL']}/ServiceProviderConfig", timeout=5).json()
    assert spc["filter"]["maxResults"] == 50
    page = s.get(f"{env['HRIS_SCIM_URL']}/Users", params={"startIndex": 1, "count": 50}, timeout=5).json()
    assert 0 < page["itemsPerPage"] < 50 == min(50, page["totalResults"])     # fewer than asked
    beyond = s.get(f"{env['HRIS_SCIM_URL']}/Users", params={"startIndex": 10_000}, timeout=5).json()
    assert beyond["itemsPerPage"] == 0 and "Resources" not in beyond     # RFC 7644: optional when empty
    users = sp.scim_users(env, count=50)
    assert len(users) == page["totalResults"]
    ids = [u["id"] for u in users]
    assert ids == sorted(ids) and all(re.fullmatch(r"0\d{7}", i) for i in ids[:3])
    truth = {r["scim_id"]: r for r in sp.read_truth(foreign.truth_dir, "employees.csv")}
    assert set(ids) <= set(truth)
    created = [truth[i]["hire_date"] for i in ids]
    assert created != sorted(created), "id order happens to be creation order: the dialect proves nothing"
    ext = "urn:example:acme:scim:schemas:extension:workforce:2.0:User"
    for u in users:
        assert None not in [v for _, v in _walk(u)], u["id"]        # optional attributes absent, never null
        assert ext in u["schemas"] and ext in u
        assert OFFSET_STAMP.match(u["meta"]["lastModified"])
        primary = [e for e in u["emails"] if e.get("primary")]
        assert len(u["emails"]) == 2 and primary[0]["type"] == "work"
    assert list(users[0])[-1] == "schemas"                            # keys in another order
    active = [u for u in users if u["active"]]
    assert all("terminationDate" not in u["urn:hris-lms-bridge:scim:extension:employment:1.0:User"] for u in active)
    emails = [e["value"] for u in users for e in u["emails"] if e.get("primary")]
    assert any("+" in e for e in emails) and any(e != e.lower() for e in emails)
    names = [u["displayName"] for u in users]
    assert any(not n.isascii() for n in names)


def test_rest_ids_cursor_caps_and_absent_optionals(foreign) -> None:
    env = foreign.env
    token = sp.lms_token(env)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    first = s.get(f"{env['LMS_URL']}/api/v1/assignments", params={"limit": 500}, timeout=5).json()
    assert len(first["data"]) == 97                                      # capped below what was asked
    cursor = first["next_cursor"]
    assert re.search(r"[+/]", cursor) and cursor.endswith("=")
    base64.b64decode(cursor, validate=True)                              # standard base64, padded
    raw = requests.get(f"{env['LMS_URL']}/api/v1/assignments?limit=5&cursor={cursor}", timeout=5,
                       headers={"Authorization": f"Bearer {token}"})
    assert raw.status_code == 400                                        # '+' left unencoded is a space
    users = sp.rest_list(env["LMS_URL"], "/api/v1/users", token, limit=500)
    assignments = sp.rest_list(env["LMS_URL"], "/api/v1/assignments", token, limit=500)
    courses = sp.rest_list(env["LMS_URL"], "/api/v1/courses", token)
    user_ids = {u["id"] for u in users}
    assert all(re.fullmatch(r"usr_\d{7}", i) for i in user_ids)
    assert all(re.fullmatch(r"crs-\d+", c["id"]) for c in courses)
    live = [a for a in assignments if not a.get("deleted")]
    assert {a["user_id"] for a in live} <= user_ids
    assert {a["course_id"] for a in live} <= {c["id"] for c in courses}
    assert any("employee_number" not in u for u in users)                 # null -> absent
    for rec in users + assignments:
        assert None not in [v for _, v in _walk(rec)]
        assert OFFSET_STAMP.match(rec["updated_at"])
    assert all("_links" in a for a in live)
    truth_lms = {r["source_key"] for r in sp.read_truth(foreign.truth_dir, "identity_links.csv")
                 if r["source_system"] == "lms"}
    assert truth_lms == user_ids
    courses_page = s.get(f"{env['LMS_URL']}/api/v1/courses", params={"limit": 90}, timeout=5).json()
    assert "next_cursor" not in courses_page                            # the end: absent, not null
    checkins = sp.rest_list(env["CHECKINS_URL"], "/api/v1/checkins", env["CHECKINS_TOKEN"], limit=1000)
    objectives = sp.rest_list(env["CHECKINS_URL"], "/api/v1/objectives", env["CHECKINS_TOKEN"], limit=1000)
    assert all(re.fullmatch(r"CHK-\d+", c["id"]) for c in checkins)
    objective_ids = {o["id"] for o in objectives}
    assert all(re.fullmatch(r"\d{6,}", i) for i in objective_ids)
    assert {c["objective_id"] for c in checkins} <= objective_ids
    orphans = sp.read_truth(foreign.truth_dir, "orphan_objectives.csv")
    assert orphans and {o["objective_id"] for o in orphans} <= objective_ids


def test_xapi_statements_other_order_offsets_and_a_smaller_cap(foreign) -> None:
    env = foreign.env
    statements, ct, pages = sp.xapi_statements(env, limit=5000)
    assert OFFSET_STAMP.match(ct) and not ct.endswith("Z")
    assert len(statements) == sp.truth_count(foreign.truth_dir, "xapi", "statements")[0]
    assert pages >= len(statements) // 1000
    first = statements[0]
    assert list(first)[:2] == ["version", "stored"] and "context" in first
    assert first["stored"].endswith("+02:00") and first["timestamp"].endswith("-05:00")
    assert len({s["id"] for s in statements}) == len(statements)
    durations = [s["result"]["duration"] for s in statements if "duration" in s.get("result", {})]
    assert durations and all(re.fullmatch(r"PT\d+H\d+M\d+\.0S", d) for d in durations)


def test_payroll_files_bom_quoted_reordered_with_multiline_remarks(foreign) -> None:
    files = sorted((foreign.workdir / "inbox").glob("payroll_*.csv"))
    data = files[-1].read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    text = data.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text, newline="")))
    assert header[0] != "employee_number" and header[-1] == "remarks"
    rows = sp.read_payroll(files[-1])
    assert any("\n" in r["remarks"] and "," in r["remarks"] for r in rows)
    assert any(not r["job_title"].isascii() for r in rows)              # non-breaking and thin spaces


def test_injected_bad_rows_name_their_physical_lines(foreign) -> None:
    detail = foreign.inject("bad_payroll_rows")["detail"]
    path = foreign.workdir / "inbox" / detail["file"]
    reader = csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline=""))
    starts, line = {}, 2
    for row in reader:
        starts[line] = row
        line = reader.line_num + 1
    bad = [starts[n] for n in detail["bad_lines"]]
    assert bad[0]["annual_base_salary"] == "12,5x0"
    assert bad[1]["pay_period_end"] == "2026-13-45"
    assert bad[2]["employee_number"] == ""
    assert max(detail["bad_lines"]) > 0 and line - 2 > len(starts)      # some records span two lines
