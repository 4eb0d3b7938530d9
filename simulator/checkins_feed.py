"""Strategy execution (CONTRACT 2.4): objectives cascaded over five levels and weekly check-ins."""
from __future__ import annotations

import datetime as dt
import json
import random
from functools import cache

from simulator.catalogue import DEPARTMENTS, DIVISIONS, ORGANIZATION
from simulator.clock import DAY_MS, HOUR_MS, START_DATE, date_of_day, day_number, day_str, iso_ms, parse_iso
from simulator.lms_feed import email_variant
from simulator.org import Employee, Org
from simulator.store import VersionLog, dumps

CONFIDENCE = ("on_track", "at_risk", "off_track", "blocked")
IMPEDIMENTS = ("Waiting on another team", "Unclear requirements", "Short of people this week", "Tooling outage")
NOTES = ("Steady progress", "Finished the first draft", "Reviewed with manager", "Picked up after a slow week",
         "Demoed to stakeholders", "Refined the plan")


def fiscal_quarters(fy: int) -> list[tuple[str, int, int]]:
    """FY<fy> runs July..June: (label, first day, last day) per quarter."""
    out = []
    for q in range(4):
        y, m = fy - 1 + (6 + 3 * q) // 12, (6 + 3 * q) % 12 + 1
        first = dt.date(y, m, 1)
        nxt = dt.date(y + (m + 3 > 12), (m + 2) % 12 + 1, 1)
        out.append((f"FY{fy}-Q{q + 1}", day_number(first), day_number(nxt) - 1))
    return out


@cache
def _js(value: str | None) -> str:
    return "null" if value is None else json.dumps(value)


class Strategy:
    def __init__(self, org: Org, profile, seed: int) -> None:
        self.org, self.profile = org, profile
        self.rng = random.Random(f"strategy-{seed}")
        self.objectives = VersionLog()
        self.checkins = VersionLog()
        self.obj: dict[int, dict] = {}  # current objective records
        self.next_obj = 1
        self.next_checkin = 1
        self.orphans: list[int] = []
        self.emails_written: set[str] = set()  # every email as written in objectives and check-ins
        self._email_variants: dict[int, list[str]] = {}
        self.open_tasks: dict[int, dict] = {}  # task id -> {"emp", "speed", "weekday", "start", "due"}
        self.team_goal_of: dict[tuple[int, str], int] = {}  # (manager idx, quarter label) -> team goal id
        self._goal_plan: dict[tuple[int, str], tuple[int, str, int, int]] = {}

    def sample(self, e: Employee) -> bool:
        return (e.idx * 2654435761 % 1000) < self.profile.detail_share * 1000 and e.idx not in self.org.ambiguous_pair

    def _objective(self, items: list, parent: int | None, level: str, title: str, owner: Employee, org_unit: str,
                   period: str, start: int, due: int, status: str, ms: int) -> dict:
        oid = self.next_obj
        self.next_obj += 1
        owner_email = email_variant(owner.email, self.rng)
        self.emails_written.add(owner_email)
        rec = {"id": oid, "parent_id": parent, "level": level, "title": title,
               "owner_email": owner_email, "org_unit": org_unit, "period": period,
               "start_date": day_str(start), "due_date": day_str(due), "weight": self.rng.choice((1, 1, 1, 2, 3)),
               "status": status, "updated_at": iso_ms(ms)}
        self.obj[oid] = rec
        items.append((ms, oid, dumps(rec), False))
        return rec

    def generate(self) -> None:
        org, rng = self.org, self.rng
        now_day = day_number(START_DATE)
        obj_items: list = []
        ck_items: list = []
        for fy in (2026, 2027):
            quarters = fiscal_quarters(fy)
            fy_start, fy_end = quarters[0][1], quarters[3][2]
            created = (fy_start - 20) * DAY_MS + 10 * HOUR_MS
            ceo = org.employees[0]
            strategic = [self._objective(obj_items, None, "strategic_objective", f"FY{fy} strategic objective {k + 1}",
                                         ceo, ORGANIZATION, f"FY{fy}", fy_start, fy_end,
                                         "in_progress" if fy == 2026 else "not_started", created + k)
                         for k in range(4)]
            for div in DIVISIONS:
                vp = org.employees[org.vp_of_division[div]]
                goals = [self._objective(obj_items, rng.choice(strategic)["id"], "supporting_goal",
                                         f"{div} goal {k + 1} FY{fy}", vp, div, f"FY{fy}", fy_start, fy_end,
                                         "in_progress" if fy == 2026 else "not_started", created + 100 + k)
                         for k in range(2)]
                for di, dept in enumerate(DEPARTMENTS):
                    if dept.division != div or di == 0:
                        continue
                    head = org.employees[org.dept_heads[di]]
                    halves = [(f"FY{fy}-H1", quarters[0][1], quarters[1][2]), (f"FY{fy}-H2", quarters[2][1], quarters[3][2])]
                    if fy == 2027:
                        halves = halves[:1]
                    for hlabel, hs, he in halves:
                        target = self._objective(obj_items, rng.choice(goals)["id"], "department_target",
                                                 f"{dept.name} target {hlabel}", head, dept.name, hlabel, hs, he,
                                                 "done" if he < now_day else "in_progress" if hs <= now_day
                                                 else "not_started", created + 200 + di)
                        for qlabel, qs, qe in quarters:
                            if not (hs <= qs <= he) or qs > now_day + 1:
                                continue
                            for lead_idx in org.dept_leads[di] or [org.dept_heads[di]]:
                                # created when the first task needs it: teams without tasks (large profile
                                # samples staff) get no goal
                                self._goal_plan[(lead_idx, qlabel)] = (target["id"], dept.name, qs, qe)
            for qlabel, qs, qe in quarters:
                if qs > now_day + 1:
                    continue
                for e in org.employees:
                    if e.role != "staff" or e.absent or not self.sample(e):
                        continue
                    st = e.state_on(min(qs, now_day))
                    if e.hire_day > qe or (e.term_day is not None and e.term_day < qs):
                        continue
                    parent = self._team_goal(obj_items, st.manager, qlabel, now_day)
                    if parent is None:
                        continue
                    self._task(obj_items, ck_items, e, parent, qlabel, max(qs, e.hire_day), qe, now_day)
        self._dirt(obj_items)
        self.objectives.bulk_load(obj_items)
        self.checkins.bulk_load(ck_items)

    def _team_goal(self, obj_items: list, lead_idx: int, qlabel: str, now_day: int) -> int | None:
        key = (lead_idx, qlabel)
        if key not in self.team_goal_of:
            plan = self._goal_plan.get(key)
            if plan is None:
                return None
            target_id, unit, qs, qe = plan
            lead = self.org.employees[lead_idx]
            tg = self._objective(obj_items, target_id, "team_goal", f"Team {lead.family} goal {qlabel}", lead, unit,
                                 qlabel, qs, qe, "done" if qe < now_day else "in_progress" if qs <= now_day
                                 else "not_started", (qs - 7) * DAY_MS + 11 * HOUR_MS + lead_idx)
            self.team_goal_of[key] = tg["id"]
        return self.team_goal_of[key]

    def _task(self, obj_items: list, ck_items: list, e: Employee, parent: int, qlabel: str, start: int, due: int,
              now_day: int) -> None:
        rng = self.rng
        speed = rng.uniform(0.6, 1.35)
        weekday = e.idx % 5
        created = (start - 3) * DAY_MS + 9 * HOUR_MS + rng.randrange(HOUR_MS)
        rec = self._objective(obj_items, parent, "individual_task", f"{e.given}'s task {qlabel}", e,
                              DEPARTMENTS[e.state.dept].name, qlabel, start, due, "not_started", created)
        info = {"emp": e.idx, "speed": speed, "weekday": weekday, "start": start, "due": due, "last": 0}
        end = min(due, now_day, e.term_day if e.term_day is not None else due)
        d = start + (weekday - date_of_day(start).weekday()) % 7
        while d <= end:
            self._checkin(ck_items, rec, info, d)
            d += 7
        if info["last"] >= 100:
            rec["status"] = "done"
        elif info["last"] > 0:
            rec["status"] = "in_progress"
        if rec["status"] != "not_started":
            ms = max(created + 1, end * DAY_MS + 18 * HOUR_MS)
            rec["updated_at"] = iso_ms(ms)
            obj_items.append((ms, rec["id"], dumps(rec), False))
        if due >= now_day and rec["status"] != "done" and (e.term_day is None):
            self.open_tasks[rec["id"]] = info

    def _variants(self, idx: int) -> list[str]:
        v = self._email_variants.get(idx)
        if v is None:
            email = self.org.employees[idx].email
            v = self._email_variants[idx] = [email_variant(email, self.rng) for _ in range(10)]
        return v

    def _checkin(self, items: list, task: dict, info: dict, day: int) -> None:
        """One weekly check-in, encoded by template (the bulk of the initial history: keep it cheap)."""
        org = self.org
        e = org.employees[info["emp"]]
        frac = (day - info["start"] + 1) / max(1, info["due"] - info["start"] + 1)
        progress = int(min(100, max(info["last"], round(frac * info["speed"] * 100))))
        info["last"] = progress
        lag = frac - progress / 100
        r, r2 = self.rng.random(), self.rng.random()
        conf = "blocked" if r < 0.02 else "on_track" if lag < 0.1 else "at_risk" if lag < 0.25 else "off_track"
        impediment = IMPEDIMENTS[int(r2 * 4000) % 4] if conf in ("off_track", "blocked") or r > 0.95 else None
        help_requested = impediment is not None and r2 < 0.5
        mgr = e.state.manager
        ms = day * DAY_MS + 9 * HOUR_MS + int(r2 * 8 * HOUR_MS)
        k = int(r * 1_000_003)
        emp_email = self._variants(e.idx)[k % 10]
        mgr_email = self._variants(mgr)[(k // 10) % 10] if mgr >= 0 else None
        self.emails_written.add(emp_email)
        if mgr_email is not None:
            self.emails_written.add(mgr_email)
        cid = self.next_checkin
        self.next_checkin += 1
        payload = (f'{{"id":{cid},"objective_id":{task["id"]},"employee_email":{_js(emp_email)},'
                   f'"manager_email":{_js(mgr_email)},"meeting_date":"{day_str(day)}","progress_pct":{progress},'
                   f'"confidence":"{conf}","impediment":{_js(impediment)},'
                   f'"help_requested":{"true" if help_requested else "false"},"note":{_js(NOTES[k % len(NOTES)])},'
                   f'"updated_at":"{iso_ms(ms)}"}}').encode()
        items.append((ms, cid, payload, False))

    def _dirt(self, obj_items: list) -> None:
        """Orphans (parent that never existed) and a couple of cancelled objectives."""
        tasks = [o for o in self.obj.values() if o["level"] == "individual_task"]
        if not tasks:
            return
        for k in range(min(3, max(1, len(tasks) // 100))):
            o = tasks[(k * 37) % len(tasks)]
            o["parent_id"] = 9_000_000 + k
            self.orphans.append(o["id"])
            ms = self._bump(o)
            obj_items.append((ms, o["id"], dumps(o), False))
        for k in range(2):
            o = tasks[(k * 53 + 11) % len(tasks)]
            if o["id"] in self.orphans:
                continue
            o["status"] = "cancelled"
            self.open_tasks.pop(o["id"], None)
            ms = self._bump(o)
            obj_items.append((ms, o["id"], dumps(o), False))

    def _bump(self, o: dict) -> int:
        ms = parse_iso(o["updated_at"]) + 1
        o["updated_at"] = iso_ms(ms)
        return ms

    # -- daily --------------------------------------------------------------------------------
    def day(self, day: int, pending: list) -> None:
        """Check-ins for the day; objective status changes. Appends (ms, log, id, bytes, deleted) to pending."""
        wd = date_of_day(day).weekday()
        for tid in list(self.open_tasks):
            info = self.open_tasks[tid]
            e = self.org.employees[info["emp"]]
            if not e.active or day > info["due"]:
                self.open_tasks.pop(tid)
                continue
            if info["weekday"] != wd or day < info["start"]:
                continue
            task = self.obj[tid]
            items: list = []
            self._checkin(items, task, info, day)
            for ms, rid, payload, dl in items:
                pending.append((ms, self.checkins, rid, payload, dl))
            status = "done" if info["last"] >= 100 else "in_progress"
            if task["status"] != status:
                task["status"] = status
                ms = items[0][0] + 1
                task["updated_at"] = iso_ms(ms)
                pending.append((ms, self.objectives, tid, dumps(task), False))
                if status == "done":
                    self.open_tasks.pop(tid)

    def put_objective(self, o: dict, ms: int) -> None:
        o["updated_at"] = iso_ms(ms)
        self.obj[o["id"]] = o
        self.objectives.put(o["id"], ms, dumps(o))
