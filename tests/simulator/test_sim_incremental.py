"""Advancing the simulated clock changes every feed, and incremental reads see exactly the changes."""
from __future__ import annotations

from pathlib import Path

from sim_protocol import lms_token, read_truth, rest_list, scim_users, truth_count, xapi_statements


def test_advance_changes_are_seen_incrementally(fresh):
    env = fresh.env
    before_users = {u["id"]: u for u in scim_users(env, count=100)}
    watermark = max(u["meta"]["lastModified"] for u in before_users.values())
    statements, ct, _ = xapi_statements(env, limit=2000)
    token = lms_token(env)
    lms_before = {r["id"]: r for r in rest_list(env["LMS_URL"], "/api/v1/assignments", token, limit=500)}
    lms_mark = max(r["updated_at"] for r in lms_before.values())
    ck_before = rest_list(env["CHECKINS_URL"], "/api/v1/checkins", env["CHECKINS_TOKEN"], limit=1000)
    ck_mark = max(r["updated_at"] for r in ck_before)
    files_before = {p.name for p in Path(env["PAYROLL_INBOX"]).glob("*.csv")}

    fresh.advance_days(14)  # two weeks: crosses a payroll period end (2026-07-10)
    env = fresh.env
    assert env["BRIDGE_AS_OF"] == "2026-07-14"

    # SCIM: the filter returns exactly the users whose state changed
    after_users = {u["id"]: u for u in scim_users(env, count=100)}
    changed = {i for i, u in after_users.items() if i not in before_users or u != before_users[i]}
    filtered = scim_users(env, count=40, filter_=f'meta.lastModified gt "{watermark}"')
    assert changed and {u["id"] for u in filtered} == changed
    assert all(u["meta"]["lastModified"] > watermark for u in filtered)
    assert any(i not in before_users for i in changed)  # a new hire

    # xAPI: the window (W, C] holds the new statements only, none seen before
    new, ct2, _ = xapi_statements(env, since=ct, limit=300)
    assert ct2 > ct and new
    assert not {s["id"] for s in new} & {s["id"] for s in statements}
    assert all(ct < s["stored"] <= ct2 for s in new)
    assert any(s["timestamp"] <= ct for s in new)  # late: happened before the last window, stored now

    # LMS: updated_since returns only records updated since the mark (including tombstones)
    inc = rest_list(env["LMS_URL"], "/api/v1/assignments", token, updated_since=lms_mark, limit=50)
    assert inc and all(r["updated_at"] >= lms_mark for r in inc)
    full = {r["id"]: r for r in rest_list(env["LMS_URL"], "/api/v1/assignments", token, limit=500)}
    assert {i for i, r in full.items() if lms_before.get(i) != r} == {r["id"] for r in inc if r["updated_at"] > lms_mark}

    ck_new = rest_list(env["CHECKINS_URL"], "/api/v1/checkins", env["CHECKINS_TOKEN"], updated_since=ck_mark)
    assert ck_new and all(r["updated_at"] >= ck_mark for r in ck_new)
    assert len(ck_new) + len(ck_before) - sum(r["updated_at"] == ck_mark for r in ck_new) == \
        truth_count(fresh.truth_dir, "checkins", "checkins")[0]

    files_after = {p.name for p in Path(env["PAYROLL_INBOX"]).glob("*.csv")}
    assert any(n.startswith("payroll_2026-07-10_") for n in files_after - files_before)
    assert len(files_after) == truth_count(fresh.truth_dir, "payroll", "files")[0]

    history = read_truth(fresh.truth_dir, "employee_history.csv")
    assert any(h["date"] > "2026-06-30" for h in history)


def test_lagging_lrs_holds_consistent_through_back(fresh):
    env = fresh.env
    _, ct0, _ = xapi_statements(env, limit=5000)
    fresh.set_lagging(True)
    fresh.advance_days(1)
    seen: dict[str, dict] = {}
    watermark = ct0
    _, first_ct, _ = xapi_statements(env, since=ct0, limit=5000)
    assert first_ct < fresh.ready["now"]  # statements are pending: consistent-through is held back
    for _ in range(12):  # a correct client: read (W, C], then W := C
        batch, ct, _ = xapi_statements(env, since=watermark, limit=5000)
        for s in batch:
            assert s["stored"] <= ct
            seen[s["id"]] = s
        watermark = max(watermark, ct)
    fresh.set_lagging(False)
    rest, _, _ = xapi_statements(env, since=watermark, limit=5000)
    for s in rest:
        seen[s["id"]] = s
    everything, _, _ = xapi_statements(env, since=ct0, limit=5000)
    assert set(seen) == {s["id"] for s in everything} and seen
