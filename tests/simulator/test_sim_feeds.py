"""Read every feed of a running pilot simulator through the plain protocols and compare with its truth."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import requests
from sim_protocol import (
    lms_token,
    read_payroll,
    read_truth,
    rest_list,
    scim_users,
    truth_count,
    xapi_statements,
)

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EMP = "urn:hris-lms-bridge:scim:extension:employment:1.0:User"
LMS_RESOURCES = ("users", "competency_frameworks", "competencies", "job_profiles", "courses", "assignments",
                 "assessments", "reviews", "observations")


def test_ready_json_has_every_contract_variable(pilot):
    ready = json.loads((pilot.workdir / "ready.json").read_text())
    assert set(ready["env"]) == {"HRIS_SCIM_URL", "HRIS_SCIM_TOKEN", "LRS_URL", "LRS_USERNAME", "LRS_PASSWORD",
                                 "LRS_ACCOUNT_HOMEPAGE", "LMS_URL", "LMS_CLIENT_ID", "LMS_CLIENT_SECRET",
                                 "CHECKINS_URL", "CHECKINS_TOKEN", "PAYROLL_INBOX", "BRIDGE_AS_OF",
                                 "LMS_SCIM_URL", "LMS_SCIM_TOKEN"}
    assert ready["env"]["BRIDGE_AS_OF"] == "2026-06-30"
    assert ready["env"]["HRIS_SCIM_URL"].startswith("http://127.0.0.1:")
    assert ready["env"]["HRIS_SCIM_URL"].endswith("/scim/v2")
    assert ready["env"]["LRS_URL"].endswith("/xapi")
    assert ready["pid"] > 0


def test_scim_paging_matches_truth(pilot):
    env = pilot.env
    users = scim_users(env, count=37)
    truth = {r["scim_id"]: r for r in read_truth(pilot.truth_dir, "employees.csv") if r["absent_from_hris"] == "false"}
    assert len(users) == len(truth) == truth_count(pilot.truth_dir, "hris", "users")[0]
    assert len({u["id"] for u in users}) == len(users)
    for u in users:
        t = truth[u["id"]]
        assert u["title"] == t["canonical_job_title"]
        assert u[ENT]["employeeNumber"] == t["employee_number"]
        assert u[ENT]["costCenter"] == t["cost_center"]
        assert u["active"] == (t["active"] == "true")
        assert u["emails"][0]["value"] == t["email"]
        if t["active"] == "false":
            assert u[EMP]["terminationDate"] == t["termination_date"]


def test_scim_caps_count_at_max_results_and_needs_bearer(pilot):
    env = pilot.env
    h = {"Authorization": f"Bearer {env['HRIS_SCIM_TOKEN']}"}
    spc = requests.get(f"{env['HRIS_SCIM_URL']}/ServiceProviderConfig", headers=h, timeout=5).json()
    assert spc["filter"] == {"supported": True, "maxResults": 200}
    page = requests.get(f"{env['HRIS_SCIM_URL']}/Users", params={"startIndex": 1, "count": 1000}, headers=h,
                        timeout=5).json()
    assert page["itemsPerPage"] == len(page["Resources"]) == min(200, page["totalResults"])
    assert page["totalResults"] == truth_count(pilot.truth_dir, "hris", "users")[0]
    bad = requests.get(f"{env['HRIS_SCIM_URL']}/Users", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad.status_code == 401
    assert bad.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_xapi_follows_more_to_truth(pilot):
    env = pilot.env
    statements, ct, pages = xapi_statements(env, limit=400)
    assert pages > 3
    ids = [s["id"] for s in statements]
    assert len(ids) == len(set(ids)) == truth_count(pilot.truth_dir, "xapi", "statements")[0]
    stored = [s["stored"] for s in statements]
    assert stored == sorted(stored) and stored[-1] <= ct
    voided = {r["statement_id"] for r in read_truth(pilot.truth_dir, "voided_statements.csv")}
    voiders = {r["voiding_statement_id"] for r in read_truth(pilot.truth_dir, "voided_statements.csv")}
    assert voided and not voided & set(ids)  # voided statements are not returned (xAPI 1.0.3 2.2.2)
    assert voiders <= set(ids)
    refs = {s["object"]["id"] for s in statements if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"}
    assert refs == voided
    assert any(s["timestamp"] < s["stored"][:10] for s in statements)  # late statements exist


def test_xapi_actor_identifiers_match_truth(pilot):
    statements, _, _ = xapi_statements(pilot.env, limit=2000)
    links = {r["source_key"]: r for r in read_truth(pilot.truth_dir, "identity_links.csv")
             if r["source_system"] == "xapi"}
    emails = {r["employee_number"]: r["email"] for r in read_truth(pilot.truth_dir, "employees.csv")}
    home = pilot.env["LRS_ACCOUNT_HOMEPAGE"]
    kinds = set()
    for s in statements:
        a = s["actor"]
        if "mbox" in a:
            key, kinds = f"mbox:{a['mbox']}", kinds | {"mbox"}
            link = links[key]
            if link["employee_number"]:
                assert a["mbox"].lower() == f"mailto:{emails[link['employee_number']]}"
        elif "mbox_sha1sum" in a:
            key, kinds = f"mbox_sha1sum:{a['mbox_sha1sum']}", kinds | {"sha1"}
            link = links[key]
            if link["employee_number"]:
                want = hashlib.sha1(f"mailto:{emails[link['employee_number']]}".encode()).hexdigest()
                assert a["mbox_sha1sum"] == want
        else:
            key, kinds = f"account:{a['account']['homePage']}|{a['account']['name']}", kinds | {"account"}
            link = links[key]
            if a["account"]["homePage"] == home:
                assert link["employee_number"] == a["account"]["name"]
    assert kinds == {"mbox", "sha1", "account"}
    unresolved = [r for r in links.values() if r["reason"]]
    assert 0 < len(unresolved) < 0.02 * len(links)


def test_xapi_protocol_errors(pilot):
    env = pilot.env
    url = f"{env['LRS_URL']}/statements"
    no_version = requests.get(url, auth=(env["LRS_USERNAME"], env["LRS_PASSWORD"]), timeout=5)
    assert no_version.status_code == 400
    assert "X-Experience-API-Consistent-Through" in no_version.headers
    no_auth = requests.get(url, headers={"X-Experience-API-Version": "1.0.3"}, timeout=5)
    assert no_auth.status_code == 401


def test_xapi_since_exclusive_until_inclusive(pilot):
    env = pilot.env
    all_, _, _ = xapi_statements(env, limit=5000)
    mid = all_[len(all_) // 2]["stored"]
    before, _, _ = xapi_statements(env, until=mid, limit=700)
    after, _, _ = xapi_statements(env, since=mid, limit=700)
    assert before[-1]["stored"] == mid and all(s["stored"] <= mid for s in before)
    assert all(s["stored"] > mid for s in after)
    assert len(before) + len(after) == len(all_)


def test_lms_resources_match_truth(pilot):
    env = pilot.env
    token = lms_token(env)
    for resource in LMS_RESOURCES:
        records = rest_list(env["LMS_URL"], f"/api/v1/{resource}", token, limit=150)
        n, deleted = truth_count(pilot.truth_dir, "lms", resource)
        assert len(records) == n, resource
        assert len({r["id"] for r in records}) == n, resource
        assert sum(1 for r in records if r.get("deleted")) == deleted, resource
        assert all("updated_at" in r for r in records)
    users = rest_list(env["LMS_URL"], "/api/v1/users", token)
    assert any(u["employee_number"] and u["employee_number"].startswith("0") for u in users)
    assert any(u["employee_number"] is None for u in users)
    assert any(u["email"] != u["email"].strip().lower() for u in users)
    bad = requests.get(f"{env['LMS_URL']}/api/v1/users", headers={"Authorization": "Bearer expired"}, timeout=5)
    assert bad.status_code == 401


def test_lms_identity_dirt_in_truth(pilot):
    links = [r for r in read_truth(pilot.truth_dir, "identity_links.csv") if r["source_system"] == "lms"]
    reasons = [r["reason"] for r in links]
    assert reasons.count("ambiguous") == 1
    assert 0 < reasons.count("no_match") < 0.02 * len(links)


def test_checkins_match_truth(pilot):
    env = pilot.env
    for stream in ("objectives", "checkins"):
        records = rest_list(env["CHECKINS_URL"], f"/api/v1/{stream}", env["CHECKINS_TOKEN"], limit=500)
        assert len(records) == truth_count(pilot.truth_dir, "checkins", stream)[0]
    objectives = rest_list(env["CHECKINS_URL"], "/api/v1/objectives", env["CHECKINS_TOKEN"], limit=1000)
    ids = {o["id"] for o in objectives}
    orphans = {int(r["objective_id"]) for r in read_truth(pilot.truth_dir, "orphan_objectives.csv")}
    assert orphans and {o["id"] for o in objectives if o["parent_id"] and o["parent_id"] not in ids} == orphans
    assert {o["level"] for o in objectives} == {"strategic_objective", "supporting_goal", "department_target",
                                               "team_goal", "individual_task"}
    assert sum(o["status"] == "cancelled" for o in objectives) >= 1


def test_payroll_files_match_truth(pilot):
    inbox = Path(pilot.env["PAYROLL_INBOX"])
    files = read_truth(pilot.truth_dir, "payroll_files.csv")
    assert sorted(p.name for p in inbox.glob("payroll_*.csv")) == sorted(f["file_name"] for f in files)
    boms = [(inbox / f["file_name"]).read_bytes().startswith(b"\xef\xbb\xbf") for f in files]
    assert any(boms) and not all(boms)
    latest = max(files, key=lambda f: (f["period_end"], f["exported"]))
    rows = read_payroll(inbox / latest["file_name"])
    assert len(rows) == int(latest["rows"])
    assert list(rows[0]) == ["employee_number", "pay_period_start", "pay_period_end", "job_code", "job_title",
                             "pay_grade", "remuneration_package", "annual_base_salary", "currency", "fte",
                             "cost_center", "employment_status"]
    ghosts = {r["employee_number"] for r in read_truth(pilot.truth_dir, "terminated_but_paid.csv")}
    paid = {r["employee_number"].lstrip("0") for r in rows if r["employment_status"] == "active"}
    assert ghosts and ghosts <= paid
    periods = {}
    for f in files:
        periods.setdefault(f["period_end"], []).append(f["exported"])
    assert any(len(v) > 1 for v in periods.values())  # a corrected re-export exists


def test_headcount_by_cost_center_within_tolerance(pilot):
    emps = read_truth(pilot.truth_dir, "employees.csv")
    files = read_truth(pilot.truth_dir, "payroll_files.csv")
    latest_end = max(f["period_end"] for f in files)
    latest = max((f for f in files if f["period_end"] == latest_end), key=lambda f: f["exported"])
    rows = read_payroll(Path(pilot.env["PAYROLL_INBOX"]) / latest["file_name"])
    hris, pay = {}, {}
    for e in emps:
        if e["active"] == "true" and e["absent_from_hris"] == "false":
            hris[e["cost_center"]] = hris.get(e["cost_center"], 0) + 1
    for r in rows:
        if r["employment_status"] in ("active", "on_leave"):
            pay[r["cost_center"]] = pay.get(r["cost_center"], 0) + 1
    assert set(hris) == set(pay)
    assert max(abs(hris[c] - pay[c]) for c in hris) <= 2


def test_title_dirt_rates(pilot):
    aliases = read_truth(pilot.truth_dir, "title_aliases.csv")
    occ = {}
    for a in aliases:
        if a["source_system"] != "hris":
            occ[a["kind"]] = occ.get(a["kind"], 0) + int(a["occurrences"])
    assert {"exact", "normalised", "crosswalk", "unmapped"} <= set(occ)
    assert occ["unmapped"] < 0.05 * sum(occ.values())
    assert all(a["canonical_job_title"] == "" for a in aliases if a["kind"] == "unmapped")


def test_lms_assessments_cover_rater_types_and_cycles(pilot):
    env = pilot.env
    token = lms_token(env)
    assessments = rest_list(env["LMS_URL"], "/api/v1/assessments", token, limit=1000)
    assert {a["rater_type"] for a in assessments} == {"self", "manager", "peer", "direct_report"}
    assert {a["cycle"] for a in assessments} == {"2025-H2", "2026-H1"}
    frameworks = {f["id"]: f for f in rest_list(env["LMS_URL"], "/api/v1/competency_frameworks", token)}
    scale = {c["id"]: frameworks[c["framework_id"]]["scale_max"]
             for c in rest_list(env["LMS_URL"], "/api/v1/competencies", token)}
    assert all(1 <= a["rating"] <= scale[a["competency_id"]] for a in assessments)
    assert sum(f["business_unit"] is None for f in frameworks.values()) == 1
    courses = rest_list(env["LMS_URL"], "/api/v1/courses", token)
    assert any(c["compliance"] for c in courses) and all(c["xapi_activity_id"] for c in courses)


def test_identity_truth_keys_are_exactly_the_served_keys(pilot):
    env = pilot.env
    links = read_truth(pilot.truth_dir, "identity_links.csv")
    keys = lambda system: {r["source_key"] for r in links if r["source_system"] == system}
    served = set()
    for rec in rest_list(env["CHECKINS_URL"], "/api/v1/checkins", env["CHECKINS_TOKEN"], limit=1000):
        served.add(rec["employee_email"])
        if rec["manager_email"]:
            served.add(rec["manager_email"])
    for rec in rest_list(env["CHECKINS_URL"], "/api/v1/objectives", env["CHECKINS_TOKEN"], limit=1000):
        served.add(rec["owner_email"])
    assert served == keys("checkins")
    actors = set()
    for s in xapi_statements(env, limit=5000)[0]:
        a = s["actor"]
        actors.add(f"mbox:{a['mbox']}" if "mbox" in a else f"mbox_sha1sum:{a['mbox_sha1sum']}"
                   if "mbox_sha1sum" in a else f"account:{a['account']['homePage']}|{a['account']['name']}")
    assert actors == keys("xapi")
    token = lms_token(env)
    assert {str(u["id"]) for u in rest_list(env["LMS_URL"], "/api/v1/users", token) if not u.get("deleted")} == keys("lms")
    inbox = Path(env["PAYROLL_INBOX"])
    written = {r["employee_number"] for p in inbox.glob("payroll_*.csv") for r in read_payroll(p)}
    assert written == keys("payroll")
    users = scim_users(env, count=200)
    assert {u["id"] for u in users} == keys("hris")
