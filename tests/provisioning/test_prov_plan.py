"""The plan alone: matching, field changes, positive evidence, capabilities, safeguards, order."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from connectors.scim_provision import CORE, ENTERPRISE, Capabilities
from orchestration.lib.provisioning.apply import held_results
from orchestration.lib.provisioning.audit_rows import change_columns, write_changes, write_results
from orchestration.lib.provisioning.config import parse_scope
from orchestration.lib.provisioning.fields import BY_NAME, FIELDS, read_fields, work_email
from orchestration.lib.provisioning.plan import PENDING, build_plan, read_people
from orchestration.lib.settings import SettingsError
from tests.provisioning.conftest import people_db, person, work_db

AS_OF = date(2026, 12, 1)
FULL = Capabilities(filter_supported=True, patch_supported=True,
                    core_attributes=frozenset(("userName", "name", "displayName", "title", "emails", "active",
                                               "externalId")),
                    enterprise=True, enterprise_attributes=frozenset(("employeeNumber", "department", "division",
                                                                      "costCenter", "manager")))


def user(uid: str, user_name: str, external_id: str | None = None, active: bool = True, **extra) -> dict:
    res = {"schemas": [CORE], "id": uid, "userName": user_name, "active": active,
           "emails": [{"value": user_name, "type": "work", "primary": True}], **extra}
    if external_id is not None:
        res["externalId"] = external_id
    return res


def in_sync(uid: str, p: tuple, manager_id: str | None = None, active: bool = True) -> dict:
    """An LMS user that already holds exactly what the HRIS says of person `p`."""
    en, email, name, _, title, dept, div, cc = p[:8]
    ent = {"employeeNumber": en, "department": dept, "division": div, "costCenter": cc}
    if manager_id:
        ent["manager"] = {"value": manager_id}
    return user(uid, email, en, active, displayName=name, name={"formatted": name}, title=title,
                **{ENTERPRISE: ent})


def plan_for(rows, users, caps=FULL, **kw):
    people = read_people(people_db(rows), AS_OF, kw.pop("scope", ()))
    return build_plan(people, users, caps, **kw)


def by_action(plan) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ch in plan.changes:
        out.setdefault(ch.action, []).append(ch.employee_number)
    for n in plan.notes:
        out.setdefault(n.action, []).append(n.employee_number)
    return out


def test_matching_tiers_external_id_then_user_name_then_work_email() -> None:
    a = person("00042", "a@x.org", "A", "Engineer")
    b = person("43", "b@x.org", "B", "Engineer")
    c = person("44", "c@x.org", "C", "Engineer")
    users = [
        in_sync("u-a", a) | {"externalId": "0000042"},          # number with other leading zeros
        in_sync("u-b", b) | {"externalId": None, "userName": "B@X.org"},   # userName, another case
        in_sync("u-c", c) | {"externalId": None, "userName": "trainer-c",  # only the work e-mail
                             "emails": [{"value": "C@x.org", "type": "work"}]},
    ]
    plan = plan_for([a, b, c], users)
    assert plan.lms_id == {"00042": "u-a", "43": "u-b", "44": "u-c"}
    changes = {(ch.employee_number, name): after for ch in plan.changes for name, _, after in ch.fields}
    assert changes[("00042", "externalId")] == "00042"
    assert ("43", "userName") not in changes            # userName is caseExact=false: B@X.org is b@x.org
    assert changes[("43", "externalId")] == "43"
    assert changes[("44", "userName")] == "c@x.org"
    assert {ch.action for ch in plan.changes} == {"update"}


def test_the_work_email_is_the_primary_else_the_first_work_else_the_first() -> None:
    home, work, other = ({"value": "h@x.org", "type": "home"}, {"value": "w@x.org", "type": "work"},
                         {"value": "o@x.org", "type": "work"})
    assert work_email({"emails": [home, work, other]}) == "w@x.org"
    assert work_email({"emails": [home, work, other | {"primary": True}]}) == "o@x.org"
    assert work_email({"emails": [{"value": None, "primary": True}, "junk", home]}) == "h@x.org"
    assert work_email({"emails": [{"type": "work"}]}) is None
    assert work_email({}) is None


def test_two_candidates_and_a_user_matching_two_people_are_conflicts_never_written() -> None:
    a = person("1", "a@x.org", "A", "Engineer")
    b = person("2", "shared@x.org", "B", "Engineer")
    c = person("3", "shared@x.org", "C", "Engineer")
    users = [user("u1", "a@x.org", "1"), user("u1b", "other@x.org", "01"),   # two users claim number 1
             user("u2", "shared@x.org")]                                       # matches both 2 and 3
    plan = plan_for([a, b, c], users)
    assert plan.changes == []
    conflicts = {(n.employee_number, n.target_id) for n in plan.notes if n.action == "conflict"}
    assert conflicts == {("1", "u1"), ("1", "u1b"), ("2", "u2"), ("3", "u2")}


def test_unmatched_lms_users_are_never_touched() -> None:
    a = person("1", "a@x.org", "A", "Engineer")
    users = [in_sync("u1", a), user("admin", "admin@lms.local"), user("trainer", "t@partner.org", "T-9")]
    plan = plan_for([a], users)
    assert plan.changes == [] and plan.unmatched_lms_users == 2
    assert all(n.target_id not in ("admin", "trainer") for n in plan.notes)


def test_deactivation_only_on_positive_evidence_and_a_rehire_is_a_reactivation() -> None:
    left = person("1", "a@x.org", "A", "Engineer", active=False, term="2026-11-20")
    ends_today = person("2", "b@x.org", "B", "Engineer", term="2026-12-01")       # still active in the HRIS
    absent = person("3", "c@x.org", "C", "Engineer", active=False, reason="absent_from_source")
    rehired = person("4", "d@x.org", "D", "Engineer")
    not_yet = person("5", "e@x.org", "E", "Engineer", term="2026-12-31")
    users = [in_sync("u1", left), in_sync("u2", ends_today), in_sync("u3", absent),
             in_sync("u4", rehired, active=False), in_sync("u5", not_yet)]
    plan = plan_for([left, ends_today, absent, rehired, not_yet], users)
    acts = by_action(plan)
    assert sorted(acts["deactivate"]) == ["1", "2"]
    assert acts["reactivate"] == ["4"]
    assert "3" in acts["skip"] and "3" not in acts["deactivate"]
    deact = next(ch for ch in plan.changes if ch.employee_number == "1")
    assert deact.fields == [("active", True, False)]          # nothing else is sent to a leaver
    assert all("5" not in ens for ens in acts.values())


def test_an_inactive_person_without_a_user_is_not_created() -> None:
    plan = plan_for([person("1", "a@x.org", "A", "Engineer", active=False, term="2026-01-01")], [])
    assert plan.changes == []


def test_managers_are_created_before_their_reports_and_referenced_by_lms_id() -> None:
    boss = person("1", "boss@x.org", "Boss", "VP")
    lead = person("2", "lead@x.org", "Lead", "Lead", manager="1")
    dev = person("3", "dev@x.org", "Dev", "Engineer", manager="2")
    known = person("4", "known@x.org", "Known", "Engineer", manager="9")
    mgr9 = person("9", "nine@x.org", "Nine", "Head")
    plan = plan_for([dev, lead, boss, known, mgr9], [in_sync("u9", mgr9), in_sync("u4", known)])
    creates = {ch.employee_number: ch for ch in plan.changes if ch.action == "create"}
    assert {en: ch.depth for en, ch in creates.items()} == {"1": 0, "2": 1, "3": 2}
    assert {n: a for n, _, a in creates["3"].fields}["manager"] == PENDING + "2"
    update = next(ch for ch in plan.changes if ch.employee_number == "4")
    assert ("manager", None, "u9") in update.fields          # the manager's id in the LMS, not in the HRIS


def test_what_the_lms_does_not_declare_is_recorded_as_skipped_not_written() -> None:
    caps = Capabilities(filter_supported=False, patch_supported=True,
                        core_attributes=frozenset(("userName", "emails", "active", "externalId", "title")),
                        enterprise=False, enterprise_attributes=frozenset())
    a = person("1", "a@x.org", "A", "Engineer")
    plan = plan_for([a], [user("u1", "a@x.org", "1", title="Eng.")], caps=caps)
    skipped = {n.field for n in plan.notes if n.action == "skip"}
    assert skipped == {"displayName", "name.formatted", "employeeNumber", "department", "division",
                       "costCenter", "manager"}
    assert [f for f, _, _ in plan.changes[0].fields] == ["title"]


def test_safeguards_hold_the_plan_past_either_threshold() -> None:
    staff = [person(str(i), f"p{i}@x.org", f"P{i}", "Engineer") for i in range(1, 21)]
    users = [in_sync(f"u{i}", p) for i, p in enumerate(staff, 1)]
    moved = [p[:4] + ("Senior Engineer",) + p[5:] for p in staff[:3]]      # 3 of 20 change title: 15%
    plan = plan_for(moved + staff[3:], users)
    assert plan.rate_changes == 3 and plan.change_rate == pytest.approx(0.15)
    assert len(plan.held_by) == 1 and "MAX_CHANGE_RATE" in plan.held_by[0]
    assert plan_for(moved + staff[3:], users, max_change_rate=0.2).held_by == []
    gone = [p[:9] + (False, "2026-11-01", None) for p in staff[:3]] + staff[3:]
    held = plan_for(gone, users, max_deactivations=2)
    assert held.deactivations == 3 and "MAX_DEACTIVATIONS" in held.held_by[0]
    assert plan_for(gone, users, max_deactivations=3).held_by == []


def test_scope_filters_people_and_rejects_what_it_cannot_read() -> None:
    a = person("1", "a@x.org", "A", "Engineer", div="Technology")
    b = person("2", "b@x.org", "B", "Clerk", div="Corporate", dept="Finance")
    plan = plan_for([a, b], [], scope=parse_scope("division = Technology|Operations"))
    assert [ch.employee_number for ch in plan.changes] == ["1"] and plan.people_in_scope == 1
    assert parse_scope("division=A; department=B|C") == (("department", frozenset({"B", "C"})),
                                                         ("division", frozenset({"A"})))
    with pytest.raises(SettingsError, match="BRIDGE_PROVISIONING_SCOPE"):
        parse_scope("location=Paris")


def test_audit_rows_take_their_columns_from_the_one_audit_ddl() -> None:
    staff = [person(str(i), f"p{i}@x.org", f"P{i}", "Engineer") for i in range(1, 11)]
    moved = [p[:4] + ("Senior Engineer",) + p[5:] for p in staff[:3]]      # 30 %: held
    plan = plan_for(moved + staff[3:], [in_sync(f"u{i}", p) for i, p in enumerate(staff, 1)])
    assert plan.held_by
    work = work_db()
    write_changes(work, "run-1", change_columns(plan))
    write_results(work, held_results("run-1", plan))
    assert work.execute("select distinct run_id, target, action, field, value_before, value_after "
                        "from audit.provisioning_change").fetchall() == [
        ("run-1", "lms", "update", "title", "Engineer", "Senior Engineer")]
    rows = work.execute("select run_id, target, employee_number, target_id, action, status, http_status, "
                        "left(error, 26), attempted_at is not null from audit.provisioning_result "
                        "order by employee_number").fetchall()
    assert rows == [("run-1", "lms", en, f"u{en}", "update", "held", None, "plan held by a safeguard: ", True)
                    for en in ("1", "2", "3")]
    # the writers hold no column list of their own: a column the audit DDL renames is simply followed
    work.execute("alter table audit.provisioning_result rename column error to error_text")
    write_results(work, held_results("run-2", plan))
    assert work.execute("select count(*) from audit.provisioning_result where run_id = 'run-2' "
                        "and error_text like 'plan held by a safeguard: %'").fetchone() == (3,)


SCIM_FIXTURES = Path(__file__).resolve().parents[1] / "connectors" / "fixtures" / "scim"


def test_a_users_fields_read_at_once_equal_each_fields_own_read() -> None:
    """The plan reads every LMS user's fields at once (read_fields); the read-back and the
    field table read them one by one (Field.read): the two must never disagree."""
    resources = [json.loads((SCIM_FIXTURES / "rfc7643-8.3-enterprise-user.json").read_text()),
                 {"id": "u1", "userName": "A@X.org", "active": "false", "name": "not an object",
                  "emails": [{"value": "b@x.org", "type": "home"}, {"value": "w@x.org", "type": "work"}],
                  ENTERPRISE: {"manager": "m-7", "employeeNumber": 42}},
                 {"id": "u2", ENTERPRISE: {"manager": {"value": ""}}, "active": None},
                 {"id": "u3", ENTERPRISE: "not an object", "emails": "nor this"}]
    for res in resources:
        assert read_fields(res) == tuple(f.read(res) for f in FIELDS)
    assert read_fields(resources[0])[FIELDS.index(BY_NAME["manager"])] == "26118915-6090-4610-87e4-49d8ca9f808d"


def test_unchanged_users_are_skipped_and_values_still_compare_as_the_field_says() -> None:
    """A user whose values all equal the desired ones is skipped at once; any other is compared
    field by field as before: the JSON number 42 for the employee number "42" is the same value,
    "42" for "00042" is not (ids are opaque strings)."""
    p, q = person("42", "a@x.org", "A", "Engineer"), person("00043", "b@x.org", "B", "Engineer")
    assert plan_for([p, q], [in_sync("u-1", p), in_sync("u-2", q)]).changes == []
    u, v = in_sync("u-1", p), in_sync("u-2", q)
    u[ENTERPRISE]["employeeNumber"] = 42
    v[ENTERPRISE]["employeeNumber"] = "43"
    assert [(ch.employee_number, ch.fields) for ch in plan_for([p, q], [u, v]).changes] == [
        ("00043", [("employeeNumber", "43", "00043")])]


def test_the_plan_reads_the_lms_page_by_page_without_holding_the_listing() -> None:
    """build_plan takes the users as they arrive (a generator over the pages), once."""
    a, b = person("1", "a@x.org", "A", "Engineer"), person("2", "b@x.org", "B", "Engineer")
    pages = iter([[in_sync("u-1", a)], [user("u-2", "b@x.org", "2")]])
    read = []

    def users():
        for page in pages:
            read.append(len(page))
            yield from page

    plan = plan_for([a, b], users())
    assert read == [1, 1]
    assert by_action(plan) == {"update": ["2"]}
    assert plan.lms_id == {"1": "u-1", "2": "u-2"}
