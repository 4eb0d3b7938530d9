"""LMS REST resources (CONTRACT 2.3): catalogue, users with dirty identities, and learning records."""
from __future__ import annotations

import random

from simulator.catalogue import DEPARTMENTS, TITLES, UNMAPPABLE
from simulator.clock import DAY_MS, HOUR_MS, START_DATE, day_number, day_str, iso_ms, ms_of_date
from simulator.org import Employee, Org
from simulator.store import VersionLog, dumps
from simulator.titles import spelling_for

RESOURCES = ("users", "competency_frameworks", "competencies", "job_profiles", "courses", "assignments",
             "assessments", "reviews", "observations")
BASE_MS = ms_of_date(START_DATE) - 400 * DAY_MS  # catalogue records were created before the history year
FRAMEWORKS = (  # name, business_unit, scale_max, competency names
    ("Core Competencies", None, 5, ("Communication", "Collaboration", "Customer Focus", "Problem Solving",
                                     "Accountability", "Adaptability", "Data Protection", "Health and Safety")),
    ("Technology Skills", "Technology", 5, ("Software Design", "Testing", "Cloud Operations", "Data Modelling",
                                             "Security Practices", "Incident Management")),
    ("Operations Excellence", "Operations", 4, ("Lean Methods", "Equipment Handling", "Service Recovery",
                                                "Inventory Control", "Quality Checks")),
)
CYCLES = (("2025-H2", day_number(START_DATE) - 200), ("2026-H1", day_number(START_DATE) - 20))
OBS_KINDS = ("idea", "observation", "feedback", "recognition")
OBS_TEXT = ("Ran a great retro", "Helped a new joiner", "Proposed a simpler process", "Handled an escalation well",
            "Could share updates earlier", "Suggested automating the report")


def email_variant(email: str, rng: random.Random) -> str:
    """How another system writes an HRIS email: mixed case and padding, same mailbox."""
    r = rng.random()
    if r < 0.2:
        local, dom = email.split("@")
        return ".".join(p.capitalize() for p in local.split(".")) + "@" + dom.capitalize()
    if r < 0.27:
        return email.upper()
    if r < 0.33:
        return f" {email} "
    return email


class Lms:
    def __init__(self, org: Org, profile, seed: int) -> None:
        self.org, self.profile = org, profile
        self.rng = random.Random(f"lms-{seed}")
        self.logs: dict[str, VersionLog] = {r: VersionLog() for r in RESOURCES}
        self.user_of: dict[int, int] = {}  # employee idx -> LMS user id
        self.user_key: dict[int, tuple[int, str]] = {}  # user id -> (employee idx or -1, reason)
        self.courses: list[dict] = []
        self.profile_for: dict[tuple[str, str | None], dict] = {}
        self.competencies: list[dict] = []
        self.next_id = dict.fromkeys(RESOURCES, 1)
        self.profile_titles: list[tuple[str, str]] = []  # (LMS title, canonical or "")

    def new_id(self, resource: str, base: int) -> int:
        i = self.next_id[resource]
        self.next_id[resource] = i + 1
        return base + i

    # -- initial history ----------------------------------------------------------------------
    def generate(self) -> None:
        items: dict[str, list] = {r: [] for r in RESOURCES}
        self._catalogue(items)
        self._users(items)
        self._records(items)
        for r in RESOURCES:
            self.logs[r].bulk_load(items[r])

    def _add(self, items: dict, resource: str, rec: dict, ms: int) -> None:
        rec["updated_at"] = iso_ms(ms)
        items[resource].append((ms, rec["id"], dumps(rec), bool(rec.get("deleted"))))

    def _catalogue(self, items: dict) -> None:
        rng = self.rng
        ms = BASE_MS
        for fi, (name, bu, scale, comps) in enumerate(FRAMEWORKS):
            fid = fi + 1
            self._add(items, "competency_frameworks", {"id": fid, "name": name, "version": "2025.1",
                                                       "business_unit": bu, "scale_max": scale}, ms + fi)
            for ci, cname in enumerate(comps):
                cid = 100 + fid * 20 + ci
                comp = {"id": cid, "framework_id": fid, "code": f"{name.split()[0][:4].upper()}-{ci + 1:02d}",
                        "name": cname, "category": "behavioural" if fid == 1 else "technical",
                        "description": f"{cname} as defined in the {name} framework"}
                self.competencies.append({**comp, "scale_max": scale, "bu": bu})
                self._add(items, "competencies", comp, ms + 10 + cid)
        cid_course = 1000
        for comp in self.competencies:
            for target in (2, comp["scale_max"] - 1, comp["scale_max"]):
                cid_course += 1
                compliance = comp["name"] in ("Data Protection", "Health and Safety") and target == 2
                course = {"id": cid_course, "title": f"{comp['name']} level {target}",
                          "xapi_activity_id": f"https://lms.example-corp.com/xapi/activities/course-{cid_course}",
                          "duration_minutes": rng.choice((30, 45, 60, 90, 120, 240)), "compliance": compliance,
                          "competencies": [{"competency_id": comp["id"], "target_level": target}]}
                self.courses.append(course)
                self._add(items, "courses", course, ms + 500 + cid_course)
        core = [c for c in self.competencies if c["bu"] is None]
        pid = 200
        for t in TITLES:
            pid += 1
            level = min(5, 2 + t.grade // 5)
            reqs = [{"competency_id": c["id"], "required_level": min(c["scale_max"], max(1, level - k % 2))}
                    for k, c in enumerate(rng.sample(core, 3))]
            title = spelling_for(t.name, rng, p_exact=0.5, p_synonym=0.15)
            prof = {"id": pid, "job_title": title, "business_unit": None, "requirements": reqs}
            self.profile_for[(t.name, None)] = prof
            self.profile_titles.append((title, t.name))
            self._add(items, "job_profiles", prof, ms + 3000 + pid)
        for dept in DEPARTMENTS:  # business-unit profiles for staff titles in Technology and Operations
            bu_comps = [c for c in self.competencies if c["bu"] == dept.division]
            if not bu_comps:
                continue
            for tname in dept.staff:
                if (tname, dept.division) in self.profile_for:
                    continue
                pid += 1
                reqs = [{"competency_id": c["id"], "required_level": min(c["scale_max"], 2 + k)}
                        for k, c in enumerate(rng.sample(bu_comps, 2))]
                reqs.append({"competency_id": core[0]["id"], "required_level": 3})
                title = spelling_for(tname, rng, p_exact=0.4, p_synonym=0.2)
                prof = {"id": pid, "job_title": title, "business_unit": dept.division, "requirements": reqs}
                self.profile_for[(tname, dept.division)] = prof
                self.profile_titles.append((title, tname))
                self._add(items, "job_profiles", prof, ms + 3000 + pid)
        pid += 1  # one profile nobody can map
        prof = {"id": pid, "job_title": UNMAPPABLE[0], "business_unit": None,
                "requirements": [{"competency_id": core[1]["id"], "required_level": 2}]}
        self.profile_titles.append((UNMAPPABLE[0], ""))
        self._add(items, "job_profiles", prof, ms + 3000 + pid)

    def user_record(self, e: Employee, uid: int) -> dict:
        rng = self.rng
        r = rng.random()
        en = None if r < 0.05 else (f"{int(e.employee_number):07d}" if r < 0.75 else e.employee_number)
        if e.idx in self.org.ambiguous_pair:
            en = e.employee_number  # the pair resolve by number; only the extra user below is ambiguous
        return {"id": uid, "email": email_variant(e.email, rng), "employee_number": en, "active": e.active}

    def _users(self, items: dict) -> None:
        rng = self.rng
        for e in self.org.employees:
            if e.absent:
                continue
            uid = self.new_id("users", 50_000)
            self.user_of[e.idx] = uid
            self.user_key[uid] = (e.idx, "")
            ms = max(e.created_ms + DAY_MS, BASE_MS + 1)
            if not e.active:
                ms = e.term_day * DAY_MS + 15 * HOUR_MS
            self._add(items, "users", self.user_record(e, uid), ms)
        for k in range(self.profile.unknown_lms_users):
            self.add_unknown_user(items, BASE_MS + rng.randrange(350) * DAY_MS + 12 * HOUR_MS, k)
        a = self.org.employees[self.org.ambiguous_pair[0]]
        uid = self.new_id("users", 50_000)
        self.user_key[uid] = (-1, "ambiguous")
        self._add(items, "users", {"id": uid, "email": a.email.upper(), "employee_number": None, "active": True},
                  BASE_MS + 100 * DAY_MS)

    def add_unknown_user(self, items: dict | None, ms: int, k: int) -> dict:
        uid = self.new_id("users", 50_000)
        self.user_key[uid] = (-1, "no_match")
        rec = {"id": uid, "email": f"external.trainer{uid}@partner-academy.org", "employee_number": None,
               "active": True}
        if items is not None:
            self._add(items, "users", rec, ms)
        return rec

    def sample(self, e: Employee) -> bool:
        """Employees with detailed learning records (all of them except in the large profile)."""
        return (e.idx * 2654435761 % 1000) < self.profile.detail_share * 1000

    def applicable_profile(self, e: Employee) -> dict | None:
        st = e.state
        div = DEPARTMENTS[st.dept].division
        return self.profile_for.get((st.title, div)) or self.profile_for.get((st.title, None))

    def _records(self, items: dict) -> None:
        rng, org = self.rng, self.org
        start = day_number(START_DATE)
        compliance = [c for c in self.courses if c["compliance"]]
        reports: dict[int, list[int]] = {}
        for e in org.employees:
            if e.active and e.state.manager >= 0 and e.idx in self.user_of:
                reports.setdefault(e.state.manager, []).append(e.idx)
        for e in org.employees:
            if e.absent or e.idx not in self.user_of:
                continue
            uid = self.user_of[e.idx]
            lo = max(e.hire_day, start - 365)
            hi = e.term_day or start
            if hi <= lo:
                continue
            for c in compliance:  # every employee gets the compliance courses
                day = rng.randrange(lo, hi)
                self._assignment(items, uid, c["id"], day, "compliance")
            if not self.sample(e):
                continue
            if rng.random() < 0.5:
                day = rng.randrange(lo, hi)
                self._assignment(items, uid, rng.choice(self.courses)["id"], day,
                                 rng.choice(("gap", "manager", "self")))
            prof = self.applicable_profile(e)
            mgr = e.state.manager
            for cycle, cday in CYCLES:
                if not (lo <= cday < hi) or prof is None or rng.random() > 0.85:
                    continue
                for req in prof["requirements"]:
                    self._assessment(items, cycle, e, e, "self", req["competency_id"], cday)
                    if mgr >= 0 and mgr in self.user_of and rng.random() < 0.85:
                        self._assessment(items, cycle, e, org.employees[mgr], "manager", req["competency_id"],
                                         cday + 3)
                    if rng.random() < 0.3:
                        peer = org.employees[rng.randrange(len(org.employees))]
                        if peer.idx in self.user_of and peer.idx != e.idx:
                            self._assessment(items, cycle, e, peer, "peer", req["competency_id"], cday + 2)
                    if reports.get(e.idx) and rng.random() < 0.5:
                        report = org.employees[rng.choice(reports[e.idx])]
                        self._assessment(items, cycle, e, report, "direct_report", req["competency_id"], cday + 4)
                if mgr >= 0 and mgr in self.user_of:
                    status = "signed_off" if cycle == "2025-H2" else rng.choice(("draft", "submitted", "signed_off"))
                    rid = self.new_id("reviews", 700_000)
                    ms = (cday + 10) * DAY_MS + 14 * HOUR_MS + rng.randrange(HOUR_MS)
                    self._add(items, "reviews", {"id": rid, "cycle": cycle, "user_id": uid,
                                                 "reviewer_user_id": self.user_of[mgr],
                                                 "overall_rating": rng.choice((2, 3, 3, 4, 4, 5)), "status": status,
                                                 "meeting_date": day_str(cday + 10)}, ms)
            for _ in range(rng.choice((0, 1, 2, 3))):
                author = org.employees[mgr] if mgr >= 0 and rng.random() < 0.6 else org.employees[
                    rng.randrange(len(org.employees))]
                if author.idx in self.user_of and author.idx != e.idx:
                    # a third of them name a colleague (erasure must scrub them from text it keeps)
                    colleague = org.employees[(e.idx * 7 + author.idx) % len(org.employees)]
                    named = colleague if (e.idx + author.idx) % 3 == 0 and colleague.idx not in (e.idx, author.idx) \
                        else None
                    self.observation(items, uid, self.user_of[author.idx],
                                     rng.randrange(lo, hi) * DAY_MS + 10 * HOUR_MS + rng.randrange(6 * HOUR_MS),
                                     named=named)
        # a few deletions in the history
        for resource in ("observations", "assignments"):
            recs = items[resource]
            for k in range(min(3, len(recs) // 50)):
                ms, rid, _, _ = recs[(k * 7919) % len(recs)]
                self._add(items, resource, {"id": rid, "deleted": True}, ms + DAY_MS)

    def _assignment(self, items: dict, uid: int, course_id: int, day: int, reason: str) -> dict:
        rng = self.rng
        aid = self.new_id("assignments", 300_000)
        ms = day * DAY_MS + 9 * HOUR_MS + rng.randrange(8 * HOUR_MS)
        rec = {"id": aid, "user_id": uid, "course_id": course_id, "assigned_at": iso_ms(ms),
               "due_date": day_str(day + rng.choice((14, 30, 60))), "reason": reason}
        self._add(items, "assignments", rec, ms)
        return rec

    def _assessment(self, items: dict, cycle: str, subject: Employee, rater: Employee, rater_type: str,
                    competency_id: int, day: int) -> None:
        rng = self.rng
        scale = next(c["scale_max"] for c in self.competencies if c["id"] == competency_id)
        ms = day * DAY_MS + 9 * HOUR_MS + rng.randrange(9 * HOUR_MS)
        rec = {"id": self.new_id("assessments", 400_000), "cycle": cycle,
               "subject_user_id": self.user_of[subject.idx], "rater_user_id": self.user_of[rater.idx],
               "rater_type": rater_type, "competency_id": competency_id,
               "rating": rng.randint(max(1, scale - 3), scale), "submitted_at": iso_ms(ms)}
        self._add(items, "assessments", rec, ms)

    def observation(self, items: dict | None, uid: int, author_uid: int, ms: int, named: Employee | None = None) -> dict:
        rng = self.rng
        rec = {"id": self.new_id("observations", 900_000), "subject_user_id": uid, "author_user_id": author_uid,
               "observed_at": iso_ms(ms), "kind": rng.choice(OBS_KINDS), "text": rng.choice(OBS_TEXT)}
        if named is not None:   # after the draws above, so every other record stays as it was
            rec["text"] = f"Paired with {named.given} {named.family} on a handover; {named.email} has the notes"
        if items is not None:
            self._add(items, "observations", rec, ms)
        return rec

    # -- daily changes ------------------------------------------------------------------------
    def put(self, resource: str, rec: dict, ms: int) -> None:
        rec["updated_at"] = iso_ms(ms)
        self.logs[resource].put(rec["id"], ms, dumps(rec), bool(rec.get("deleted")))
