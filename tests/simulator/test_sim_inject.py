"""Each injection kind makes its trouble visible through the plain protocols."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sim_protocol import lms_token, read_payroll, read_truth, rest_list, scim_users, xapi_statements

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_hris_and_lms_injections(fresh):
    env = fresh.env
    mark = max(u["meta"]["lastModified"] for u in scim_users(env, count=200))
    dup = fresh.inject("duplicate_employee_number")["detail"]
    miss = fresh.inject("missing_employee_number")["detail"]
    drop = fresh.inject("drop_required_field", feed="scim", field="userName")["detail"]
    changed = scim_users(env, count=200, filter_=f'meta.lastModified gt "{mark}"')
    by_id = {u["id"]: u for u in changed}
    assert dup["scim_ids"][1] in by_id  # the changed user is seen by an incremental read
    all_by_id = {u["id"]: u for u in scim_users(env, count=200)}
    assert {all_by_id[i][ENT]["employeeNumber"] for i in dup["scim_ids"]} == {dup["employee_number"]}
    assert "employeeNumber" not in by_id[miss["scim_id"]][ENT]
    assert all("userName" not in by_id[i] for i in drop["touched"]["scim"])
    everyone = scim_users(env, count=200)
    numbers = [u[ENT].get("employeeNumber") for u in everyone if u["active"]]
    assert numbers.count(dup["employee_number"]) == 2

    token = lms_token(env)
    users_before = rest_list(env["LMS_URL"], "/api/v1/users", token)
    unknown = fresh.inject("unknown_lms_users", count=4)["detail"]
    fresh.inject("drop_required_field", feed="lms_users", field="id")
    users = rest_list(env["LMS_URL"], "/api/v1/users", token)
    assert sum(1 for u in users if "id" not in u) == 3
    assert set(unknown["user_ids"]) <= {u.get("id") for u in users}
    assert len(users) == len(users_before) + 4
    links = {r["source_key"]: r for r in read_truth(fresh.truth_dir, "identity_links.csv") if r["source_system"] == "lms"}
    assert all(links[str(i)]["reason"] == "no_match" for i in unknown["user_ids"])


def test_xapi_and_checkin_injections(fresh):
    env = fresh.env
    _, ct, _ = xapi_statements(env, limit=5000)
    actors = fresh.inject("unresolved_xapi_actors", count=3)["detail"]
    fresh.inject("new_unknown_field", feed="xapi", field="x_extra")
    new, _, _ = xapi_statements(env, since=ct)
    with_extra = [s for s in new if "x_extra" in s]
    assert len(with_extra) >= 3 and len(new) == actors["statements"] + len(with_extra)
    links = {r["source_key"]: r for r in read_truth(fresh.truth_dir, "identity_links.csv") if r["source_system"] == "xapi"}
    assert all(links[k]["reason"] == "no_match" for k in actors["actors"])

    cyc = fresh.inject("objective_cycle")["detail"]
    fresh.inject("progress_out_of_range")
    objs = {o["id"]: o for o in rest_list(env["CHECKINS_URL"], "/api/v1/objectives", env["CHECKINS_TOKEN"], limit=1000)}
    a, b = cyc["objective_ids"]
    assert objs[a]["parent_id"] == b and objs[b]["parent_id"] == a
    checkins = rest_list(env["CHECKINS_URL"], "/api/v1/checkins", env["CHECKINS_TOKEN"], limit=1000)
    assert sum(c["progress_pct"] == 150 for c in checkins) == 1


def test_payroll_injections(fresh):
    inbox = Path(fresh.env["PAYROLL_INBOX"])
    names = lambda: sorted(p.name for p in inbox.glob("payroll_*.csv"))
    before = names()
    gap = fresh.inject("headcount_gap")["detail"]
    rows = read_payroll(inbox / gap["file"])
    assert gap["rows_dropped"] > 0 and gap["cost_center"] not in {r["cost_center"] for r in rows}
    bad = fresh.inject("bad_payroll_rows")["detail"]
    lines = (inbox / bad["file"]).read_bytes().decode("utf-8-sig").split("\r\n")
    assert "12,5x0" in lines[bad["bad_lines"][0] - 1] and "2026-13-45" in lines[bad["bad_lines"][1] - 1]
    miss = fresh.inject("payroll_missing_column")["detail"]
    assert "annual_base_salary" not in read_payroll(inbox / miss["file"])[0]
    unm = fresh.inject("unmapped_titles")["detail"]
    titles = [r["job_title"] for r in read_payroll(inbox / unm["file"])]
    assert sum(t.startswith("Unlisted Role") for t in titles) == unm["rows_changed"] > 0
    latest = max(inbox.glob("payroll_*.csv"))
    digest = hashlib.sha256(latest.read_bytes()).hexdigest()
    res = fresh.inject("resend_payroll_file")["detail"]
    assert res["file"] == latest.name
    assert hashlib.sha256((inbox / res["file"]).read_bytes()).hexdigest() == digest
    corr = fresh.inject("correct_payroll_file")["detail"]
    assert corr["file"] not in before and corr["file"].split("_")[1] == gap["file"].split("_")[1]
    assert len(names()) == len(before) + 5
    kinds = [r["kind"] for r in read_truth(fresh.truth_dir, "injected.csv")]
    assert kinds == ["headcount_gap", "bad_payroll_rows", "payroll_missing_column", "unmapped_titles",
                     "resend_payroll_file", "correct_payroll_file"]


def _history(truth_dir: Path, employee_number: str) -> list[dict]:
    return [r for r in read_truth(truth_dir, "employee_history.csv") if r["employee_number"] == employee_number]


def _employee(truth_dir: Path, employee_number: str) -> dict:
    (row,) = [r for r in read_truth(truth_dir, "employees.csv") if r["employee_number"] == employee_number]
    return row


def test_same_day_changes_show_only_the_last_state_of_the_day(fresh):
    env = fresh.env
    fresh.advance_days(1)
    mark = max(u["meta"]["lastModified"] for u in scim_users(env, count=200))
    before = {u["id"]: u for u in scim_users(env, count=200)}
    got = fresh.inject("same_day_changes")["detail"]
    assert got["date"] == fresh.env["BRIDGE_AS_OF"]
    old = before[got["scim_id"]]
    assert got["intermediate_title"] not in (old["title"], got["title"])
    assert got["department"] != old[ENT]["department"]

    changed = {u["id"]: u for u in scim_users(env, count=200, filter_=f'meta.lastModified gt "{mark}"')}
    assert set(changed) == {got["scim_id"]}  # one user changed, seen once, by an incremental read
    user = changed[got["scim_id"]]
    assert user["meta"]["lastModified"][:10] == got["date"]
    assert user["title"] == got["title"] and user[ENT]["department"] == got["department"]
    managers = {u["id"]: u[ENT]["employeeNumber"] for u in scim_users(env, count=200)}
    assert managers[user[ENT]["manager"]["value"]] == got["manager_employee_number"]

    today = [r for r in _history(fresh.truth_dir, got["employee_number"]) if r["date"] == got["date"]]
    assert [(r["canonical_job_title"], r["department"], r["manager_employee_number"]) for r in today] == [
        (got["title"], got["department"], got["manager_employee_number"])]
    current = _employee(fresh.truth_dir, got["employee_number"])
    assert (current["canonical_job_title"], current["department"]) == (got["title"], got["department"])
    assert [r["kind"] for r in read_truth(fresh.truth_dir, "injected.csv")] == ["same_day_changes"]


def test_rehire_makes_a_terminated_person_active_again(fresh):
    env = fresh.env
    fresh.advance_days(2)
    mark = max(u["meta"]["lastModified"] for u in scim_users(env, count=200))
    token = lms_token(env)
    lms_mark = max(u["updated_at"] for u in rest_list(env["LMS_URL"], "/api/v1/users", token))
    got = fresh.inject("rehire")["detail"]
    assert got["terminated"] < got["date"] == fresh.env["BRIDGE_AS_OF"]

    changed = {u["id"]: u for u in scim_users(env, count=200, filter_=f'meta.lastModified gt "{mark}"')}
    assert set(changed) == {got["scim_id"]}
    user = changed[got["scim_id"]]
    assert user["active"] is True and user[ENT]["employeeNumber"] == got["employee_number"]
    employment = user["urn:hris-lms-bridge:scim:extension:employment:1.0:User"]
    assert employment["terminationDate"] is None and employment["hireDate"] == got["date"]

    hist = _history(fresh.truth_dir, got["employee_number"])
    assert (hist[-1]["date"], hist[-1]["is_active"]) == (got["date"], "true")
    assert (hist[-2]["date"], hist[-2]["is_active"]) == (got["terminated"], "false")
    row = _employee(fresh.truth_dir, got["employee_number"])
    assert (row["active"], row["termination_date"], row["hire_date"]) == ("true", "", got["date"])

    assert got["lms_user_id"] is not None
    lms = {u["id"]: u for u in rest_list(env["LMS_URL"], "/api/v1/users", token, updated_since=lms_mark)}
    assert lms[got["lms_user_id"]]["active"] is True

    again = fresh.inject("rehire")["detail"]  # the next one back is someone else
    assert again["employee_number"] != got["employee_number"]
    with pytest.raises(RuntimeError, match=r"400.*not terminated more than a day ago"):
        fresh.inject("rehire", employee_number=got["employee_number"])  # active again: no rehire
