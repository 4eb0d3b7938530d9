"""A small hand-made raw layer (docs/internals.md "Raw layer") with the dirt the
business rules must handle, so the dbt project can be built and checked without
the simulator or the connectors. Every value asserted by test_dbt_build.py is
derivable by hand from the records below."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import duckdb

AS_OF = "2026-06-30"
HOMEPAGE = "https://hr.corp.example"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EMP = "urn:hris-lms-bridge:scim:extension:employment:1.0:User"

VERSION_COLUMNS = """
    record_id varchar not null,
    payload json,
    record_hash varchar,
    source_updated_at varchar,
    is_deleted boolean,
    run_id varchar,
    batch_seq bigint,
    landed_at timestamp
"""

STREAMS = [
    "hris__users", "xapi__statements",
    "lms__users", "lms__competency_frameworks", "lms__competencies", "lms__job_profiles", "lms__courses",
    "lms__assignments", "lms__assessments", "lms__reviews", "lms__observations",
    "checkins__objectives", "checkins__checkins",
]

CROSSWALK_CSV = """source_title,canonical_job_title,job_family,job_level
Software Engineer,Software Engineer,Engineering,L3
Senior Software Engineer,Senior Software Engineer,Engineering,L4
Junior Software Engineer,Junior Software Engineer,Engineering,L2
HR Manager,HR Manager,People,M1
People Partner,HR Manager,,
Data Analyst,Data Analyst,Analytics,L2
"""


def scim_user(uid, empno, name, title, dept, division, cc, emails, modified, manager=None, active=True,
              employment=None):
    given, family = name.split(" ")
    ent = {"employeeNumber": empno, "department": dept, "division": division, "costCenter": cc}
    if empno is None:
        del ent["employeeNumber"]
    if manager:
        ent["manager"] = {"value": manager}
    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "id": uid, "userName": emails[0]["value"] if emails else uid,
        "name": {"givenName": given, "familyName": family}, "displayName": name,
        "title": title, "emails": emails, "active": active, ENT: ent,
        "meta": {"resourceType": "User", "created": "2020-01-01T00:00:00Z", "lastModified": modified},
    }
    if employment:
        user[EMP] = employment
    return user


def stmt(sid, actor, verb, obj_id, ts, stored, obj_type="Activity", result=None):
    s = {"id": sid, "actor": actor, "verb": {"id": verb}, "object": {"objectType": obj_type, "id": obj_id},
         "timestamp": ts, "stored": stored}
    if result:
        s["result"] = result
    return s


V = "http://adlnet.gov/expapi/verbs/"
ACT = "http://lms.corp.example/activities/"


def build(path: Path) -> None:
    """Write the raw schema into the DuckDB file at path (created or replaced)."""
    path = Path(path)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    for t in STREAMS:
        con.execute(f"create table raw.{t} ({VERSION_COLUMNS})")
    con.execute(f"""create table raw.payroll__rows ({VERSION_COLUMNS}, file_name varchar, file_sha256 varchar,
                    line_number integer, period_end date, exported_at timestamp)""")
    con.execute("""create table raw.payroll__files (file_sha256 varchar, file_name varchar, period_end date,
                   exported_at timestamp, rows_loaded bigint, rows_quarantined bigint, status varchar,
                   reason varchar, run_id varchar, landed_at timestamp)""")
    con.execute("""create table raw.payroll__withdrawals (file_sha256 varchar, file_name varchar, reason varchar,
                   requested_by varchar, withdrawn_at timestamp)""")
    con.execute("""create table raw.hris__full_pulls (run_id varchar, pulled_at timestamp, pull_date date,
                   users_seen bigint, users_marked_absent bigint)""")

    seq = iter(range(1, 10_000))

    def land(table, record_id, payload, updated, batch, deleted=False, extra=None):
        body = json.dumps(payload, sort_keys=True)
        row = [str(record_id), body, hashlib.sha256((body + str(deleted)).encode()).hexdigest(), updated,
               deleted, f"run-{batch}", batch * 1000 + next(seq), datetime(2026, 6, 1, 0, 0) ]
        cols = "record_id, payload, record_hash, source_updated_at, is_deleted, run_id, batch_seq, landed_at"
        if extra:
            row += list(extra.values())
            cols += ", " + ", ".join(extra)
        con.execute(f"insert into raw.{table} ({cols}) values ({', '.join('?' * len(row))})", row)

    # ---- HRIS (SCIM) --------------------------------------------------------------
    alice_emails = [{"value": "alice@home.example", "type": "home"},
                    {"value": " Alice.A@Corp.com ", "type": "work"}]
    alice = scim_user("scim-1", "1001", "Alice Archer", "Senior Software Engineer", "Engineering", "Tech",
                      "CC10", alice_emails, "2026-01-10T09:00:00Z",
                      employment={"hireDate": "2019-04-01", "employmentType": "full_time", "fte": 1.0,
                                  "location": "Leeds", "frontline": False})
    land("hris__users", "scim-1", alice, "2026-01-10T09:00:00Z", 1)

    def bob(title, fte, modified, display="Bob Baker"):
        u = scim_user("scim-2", "1002", "Bob Baker", title, "Engineering", "Tech", "CC10",
                      [{"value": "bob@corp.com", "type": "work", "primary": True}], modified, manager="scim-1",
                      employment={"fte": fte, "employmentType": "full_time"})
        u["displayName"] = display
        return u

    land("hris__users", "scim-2", bob("Junior Software Engineer", 1.0, "2026-01-10T09:00:00Z"),
         "2026-01-10T09:00:00Z", 1)
    land("hris__users", "scim-2", bob("Software Engineer", 1.0, "2026-02-01T08:00:00Z"),
         "2026-02-01T08:00:00Z", 2)
    # same day, later batch: collapses with the previous version (last wins)
    land("hris__users", "scim-2", bob("Software Engineer", 0.8, "2026-02-01T17:00:00Z"),
         "2026-02-01T17:00:00Z", 3)
    # untracked change only: merges into the previous history row
    land("hris__users", "scim-2", bob("Software Engineer", 0.8, "2026-03-01T08:00:00Z", display="Bobby Baker"),
         "2026-03-01T08:00:00Z", 4)

    carol = scim_user("scim-3", "01003", "Carol Chen", "Data Analyst", "Insights", "Sales", "CC20",
                      [{"value": "carol@corp.com", "type": "work"}], "2026-01-10T09:00:00Z")
    land("hris__users", "scim-3", carol, "2026-01-10T09:00:00Z", 1)
    # absent from the full pull of 2026-06-15: a deleted version with the previous payload
    land("hris__users", "scim-3", carol, "2026-06-15T02:00:00Z", 5, deleted=True)

    dan = scim_user("scim-4", "1004", "Dan Dorsey", "HR Manager", "People", "Tech", "CC20",
                    [{"value": "dan@corp.com", "type": "work"}], "2026-01-10T09:00:00Z")
    land("hris__users", "scim-4", dan, "2026-01-10T09:00:00Z", 1)
    nobody = scim_user("scim-5", None, "Nemo Nobody", "Intern", "People", "Tech", "CC20",
                       [{"value": "nemo@corp.com", "type": "work"}], "2026-01-10T09:00:00Z")
    land("hris__users", "scim-5", nobody, "2026-01-10T09:00:00Z", 1)
    for uid, num, name in [("scim-6", "1006", "Fay Fox"), ("scim-7", "1007", "Gus Grey")]:
        u = scim_user(uid, num, name, "Data Analyst", "Insights", "Tech", "CC30",
                      [{"value": "shared@corp.com", "type": "work"}], "2026-01-10T09:00:00Z")
        land("hris__users", uid, u, "2026-01-10T09:00:00Z", 1)
    con.execute("insert into raw.hris__full_pulls values ('run-5', '2026-06-15 02:00:00', '2026-06-15', 6, 1)")

    # ---- payroll ------------------------------------------------------------------
    def pay_file(name, period_end, exported, rows, batch, landed_at=datetime(2026, 7, 2), variant=""):
        sha = hashlib.sha256((name + variant).encode()).hexdigest()
        for i, r in enumerate(rows, start=2):
            keys = ["employee_number", "job_title", "remuneration_package", "annual_base_salary", "cost_center",
                    "employment_status"]
            payload = dict(zip(keys, r))
            payload.update({"pay_period_start": period_end[:8] + "01", "pay_period_end": period_end,
                            "job_code": "J1", "pay_grade": "G5", "currency": "GBP", "fte": "1.0"})
            land("payroll__rows", f"{sha}:{i}", payload, exported, batch,
                 extra={"file_name": name, "file_sha256": sha, "line_number": i, "period_end": period_end,
                        "exported_at": exported})
        con.execute("insert into raw.payroll__files values (?, ?, ?, ?, ?, 0, 'loaded', null, ?, ?)",
                    [sha, name, period_end, exported, len(rows), f"run-{batch}", landed_at])
        return sha

    # the export below re-sent under its own name with other bytes, landed first: the later landed counts
    pay_file("payroll_2026-06-30_20260702T000000.csv", "2026-06-30", "2026-07-02 00:00:00",
             [("1001", "Sr. Software Engineer", "PKG-A", "3.00", "CC10", "active")], 5,
             landed_at=datetime(2026, 7, 1, 23), variant="first bytes")
    # a correction of May that an operator withdrew: May's first export counts again
    withdrawn = pay_file("payroll_2026-05-31_20260605T000000.csv", "2026-05-31", "2026-06-05 00:00:00",
                         [("1001", "Sr. Software Engineer", "PKG-A", "2.00", "CC10", "active")], 5)
    con.execute("insert into raw.payroll__withdrawals values (?, 'payroll_2026-05-31_20260605T000000.csv', "
                "'sent by mistake', 'ops', '2026-07-03 09:00:00')", [withdrawn])

    pay_file("payroll_2026-05-31_20260601T000000.csv", "2026-05-31", "2026-06-01 00:00:00",
             [("1001", "Sr. Software Engineer", "PKG-A", "95000.00", "CC10", "active")], 6)
    pay_file("payroll_2026-06-30_20260701T000000.csv", "2026-06-30", "2026-07-01 00:00:00",
             [("1001", "Sr. Software Engineer", "PKG-A", "1.00", "CC10", "active")], 7)
    pay_file("payroll_2026-06-30_20260702T000000.csv", "2026-06-30", "2026-07-02 00:00:00", [
        ("001001", "Sr. Software Engineer", "PKG-A", "100000.00", "CC10", "active"),
        ("1002", "Software Engineer", "PKG-B", "60000.00", "CC10", "active"),
        ("1003", "Data Analyst", "PKG-C", "50000.00", "CC20", "active"),
        ("1004", "HR Mgr", "PKG-D", "70000.00", "CC20", "active"),
        ("1006", "People Partner", "PKG-D", "52000.00", "CC30", "active"),
        ("9999", "Software Engineer", "PKG-X", "61000.00", "CC30", "active"),
    ], 8)

    # ---- LMS ----------------------------------------------------------------------
    def rest(table, rid, batch=1, deleted=False, **fields):
        payload = {"id": rid, "updated_at": "2026-06-01T00:00:00Z", **fields}
        if deleted:
            payload["deleted"] = True
        land(table, rid, payload, payload["updated_at"], batch, deleted=deleted)

    rest("lms__users", 1, email="alice.a@corp.com", employee_number="0001001", active=True)
    rest("lms__users", 2, email="BOB@corp.com ", employee_number=None, active=True)
    rest("lms__users", 3, email="dan@corp.com", employee_number="1004", active=True)
    rest("lms__users", 4, email="nobody@x.example", employee_number=None, active=True)
    rest("lms__users", 6, email="shared@corp.com", employee_number="1006", active=True)
    rest("lms__users", 7, email="gone@corp.com", employee_number="1007", active=True)
    rest("lms__users", 7, batch=2, deleted=True, email="gone@corp.com", employee_number="1007")

    rest("lms__competency_frameworks", 1, name="Core", version="2026", business_unit=None, scale_max=5)
    rest("lms__competency_frameworks", 2, name="Sales Framework", version="1", business_unit="Sales",
         scale_max=4)
    rest("lms__competencies", 1, framework_id=1, code="PY", name="Python", category="technical")
    rest("lms__competencies", 2, framework_id=1, code="SQL", name="SQL", category="technical")
    rest("lms__competencies", 3, framework_id=2, code="NEG", name="Negotiation", category="commercial")

    rest("lms__job_profiles", 1, job_title="Software Engineer", business_unit=None,
         requirements=[{"competency_id": 1, "required_level": 3}, {"competency_id": 2, "required_level": 2}])
    rest("lms__job_profiles", 2, job_title="Software Engineer", business_unit="Tech",
         requirements=[{"competency_id": 1, "required_level": 4}])
    rest("lms__job_profiles", 3, job_title="Snr. Software Eng", business_unit=None,
         requirements=[{"competency_id": 1, "required_level": 2}])
    rest("lms__job_profiles", 4, job_title="Chief Happiness Officer", business_unit=None, requirements=[])
    rest("lms__job_profiles", 5, job_title="data analyst", business_unit=None,
         requirements=[{"competency_id": 2, "required_level": 3}, {"competency_id": 3, "required_level": 2}])
    rest("lms__job_profiles", 6, job_title="HR Manager", business_unit=None,
         requirements=[{"competency_id": 2, "required_level": 2}])

    rest("lms__courses", 10, title="Python 101", xapi_activity_id=ACT + "py101", duration_minutes=90,
         compliance=False, competencies=[{"competency_id": 1, "target_level": 3}])
    # ids are opaque text: these two tie on target level, and "crs-105" < "crs-99" as text
    rest("lms__courses", "crs-99", title="Python Advanced", xapi_activity_id=ACT + "py201", duration_minutes=240,
         compliance=False, competencies=[{"competency_id": 1, "target_level": 4}])
    rest("lms__courses", "crs-105", title="Python Advanced B", xapi_activity_id=ACT + "py202", duration_minutes=240,
         compliance=False, competencies=[{"competency_id": 1, "target_level": 4}])
    rest("lms__courses", 13, title="Safety", xapi_activity_id=ACT + "safety", duration_minutes=30,
         compliance=True, competencies=[])

    for aid, user, course, assigned, due, reason in [
        (1, 1, 10, "2026-03-01T00:00:00Z", "2026-04-01", "gap"),
        (2, 2, "crs-105", "2026-05-01T00:00:00Z", "2026-12-31", "gap"),
        (3, 3, 13, "2026-03-01T00:00:00Z", "2026-04-30", "compliance"),
        (4, 2, "crs-99", "2026-03-15T00:00:00Z", "2026-09-30", "manager"),
        (5, 4, 13, "2026-03-01T00:00:00Z", "2026-09-30", "compliance"),
    ]:
        rest("lms__assignments", aid, user_id=user, course_id=course, assigned_at=assigned, due_date=due,
             reason=reason)

    for asid, cycle, subj, rater, rtype, comp, rating in [
        (1, "2025-H2", 2, 1, "manager", 1, 2),
        (2, "2026-H1", 2, 2, "self", 1, 5),
        (3, "2026-H1", 2, 3, "peer", 1, 3),
        (4, "2026-H1", 2, 6, "direct_report", 1, 4),
        (5, "2026-H1", 1, 3, "manager", 1, 3),
        (6, "2026-H1", 1, 1, "self", 1, 1),
    ]:
        rest("lms__assessments", asid, cycle=cycle, subject_user_id=subj, rater_user_id=rater, rater_type=rtype,
             competency_id=comp, rating=rating, submitted_at="2026-06-01T10:00:00Z")
    rest("lms__reviews", 1, cycle="2026-H1", user_id=2, reviewer_user_id=1, overall_rating=4, status="submitted",
         meeting_date="2026-06-20")
    rest("lms__observations", 1, subject_user_id=2, author_user_id=1, observed_at="2026-06-02T12:00:00Z",
         kind="recognition", text="great demo")

    # ---- xAPI -----------------------------------------------------------------------
    sha_dan = hashlib.sha1(b"mailto:dan@corp.com").hexdigest()
    statements = [
        (stmt("s-1", {"mbox": "mailto:Alice.A@corp.com"}, V + "completed", ACT + "py101",
              "2026-03-05T10:00:00Z", "2026-03-05T10:01:00Z", result={"duration": "PT1H30M", "success": True}), 1),
        (stmt("s-2", {"account": {"homePage": HOMEPAGE, "name": "01002"}}, V + "attempted", ACT + "py202",
              "2026-05-02T10:00:00Z", "2026-05-02T10:01:00Z"), 1),
        (stmt("s-3", {"mbox_sha1sum": sha_dan}, V + "passed", ACT + "safety", "2026-02-01T10:00:00Z",
              "2026-02-01T10:01:00Z", result={"score": {"scaled": 0.9}, "success": True}), 1),
        (stmt("s-4", {"mbox": "mailto:bob@corp.com"}, V + "completed", ACT + "py201", "2026-04-01T10:00:00Z",
              "2026-04-01T10:01:00Z"), 1),
        (stmt("s-5", {"mbox": "mailto:admin@corp.com"}, V + "voided", "s-4", "2026-04-02T10:00:00Z",
              "2026-04-02T10:01:00Z", obj_type="StatementRef"), 2),
        (stmt("s-6", {"mbox": "mailto:stranger@else.example"}, V + "completed", ACT + "py101",
              "2026-03-06T10:00:00Z", "2026-03-06T10:01:00Z"), 1),
        (stmt("s-7", {"account": {"homePage": "https://other.example", "name": "1001"}}, V + "completed",
              ACT + "py101", "2026-03-07T10:00:00Z", "2026-03-07T10:01:00Z"), 1),
        (stmt("s-8", {"mbox": "mailto:alice.a@corp.com"}, V + "failed", ACT + "py201", "2026-05-10T10:00:00Z",
              "2026-05-10T10:01:00Z", result={"success": False, "score": {"scaled": 0.4}}), 1),
    ]
    for s, batch in statements:
        land("xapi__statements", s["id"], s, s["stored"], batch)

    # ---- check-ins --------------------------------------------------------------------
    def objective(oid, parent, level, due, weight=1, status="in_progress", owner="alice.a@corp.com"):
        rest("checkins__objectives", oid, parent_id=parent, level=level, title=f"Objective {oid}",
             owner_email=owner.upper(), org_unit="Tech", period="FY2027", start_date="2026-01-01",
             due_date=due, weight=weight, status=status)

    objective(1, None, "strategic_objective", "2026-12-31")
    objective(2, 1, "supporting_goal", "2026-09-30", weight=3, owner="bob@corp.com")
    objective(3, 1, "supporting_goal", "2026-09-30", weight=1, status="done")
    objective(4, 1, "supporting_goal", "2026-09-30", weight=2, status="cancelled")
    objective(5, 999, "team_goal", "2026-12-31")
    objective(6, 7, "team_goal", "2026-12-31")
    objective(7, 6, "team_goal", "2026-12-31")
    objective(8, None, "strategic_objective", "2026-05-31")
    objective(9, None, "strategic_objective", "2026-12-31")
    for cid, oid, email, date, pct, conf in [
        (1, 2, "bob@corp.com", "2026-06-01", 20, "on_track"),
        (2, 2, "Bob@Corp.com", "2026-06-21", 40, "on_track"),
        (3, 3, "alice.a@corp.com", "2026-06-10", 80, "on_track"),
        (4, 4, "alice.a@corp.com", "2026-06-10", 50, "on_track"),
        (5, 8, "shared@corp.com", "2026-05-01", 50, "on_track"),
        (6, 8, "shared@corp.com", "2026-05-10", 50, "on_track"),
        (7, 9, "ghost@nowhere.example", "2026-06-01", 10, "at_risk"),
    ]:
        rest("checkins__checkins", f"CHK-{cid:05d}", objective_id=oid, employee_email=email, manager_email="alice.a@corp.com",
             meeting_date=date, progress_pct=pct, confidence=conf,
             impediment="waiting on vendor" if cid == 7 else None, help_requested=cid == 7, note="n")
    con.close()


if __name__ == "__main__":
    import sys

    build(Path(sys.argv[1]))
