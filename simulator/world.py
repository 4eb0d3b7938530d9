"""The whole simulated organisation and its five feeds, on one simulated clock.

`World` is pure state + generation; the HTTP servers only read it (under `lock`) and the admin API
mutates it through `advance`, `inject` and the toggles.
"""
from __future__ import annotations

import random
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from simulator.catalogue import DEPARTMENTS
from simulator.checkins_feed import Strategy
from simulator.clock import (
    DAY_MS,
    END_OF_DAY_MS,
    HOUR_MS,
    START_DATE,
    date_of_day,
    day_number,
    day_str,
    iso_ms,
)
from simulator.dialect import get as get_dialect
from simulator.lms_feed import Lms
from simulator.org import Org
from simulator.payroll_feed import LAST_PERIOD_END, Payroll
from simulator.profiles import PROFILES
from simulator.store import dumps
from simulator.titles import check_catalogue
from simulator.xapi_feed import (
    K_ACCOUNT,
    K_FOREIGN_ACCOUNT,
    K_MBOX,
    K_MBOX_MIXED,
    K_SHA1,
    V_COMPLETED,
    V_FAILED,
    V_PASSED,
    V_SATISFIED,
    Actors,
    StatementLog,
    concat,
    daily_window,
    sessions_to_statements,
    voiding_rows,
)

REL = 1 << 40  # marks a voiding target given as an index within the batch being appended


class World:
    def __init__(self, profile: str, seed: int, workdir: Path, dialect: str = "reference",
                 history_years: int = 1) -> None:
        check_catalogue()
        self.dialect = get_dialect(dialect)
        # years of history: the LRS's statements and the payroll files go back that far (the
        # HRIS, LMS and check-ins keep their own spans); rates per year stay the profile's
        self.history_years = history_years
        base = PROFILES[profile]
        self.profile = replace(base, payroll_periods=base.payroll_periods * history_years)
        self.seed = seed
        self.workdir = Path(workdir)
        self.inbox = self.workdir / "inbox"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.today = day_number(START_DATE)
        self.now_ms = self.today * DAY_MS + END_OF_DAY_MS
        self.filter_supported = True
        self.lagging = False
        self.injected: list[dict] = []
        self.truth_resolver = None  # simulator.truth.Resolver, kept between truth writes
        self.org = Org(self.profile.employees, seed, LAST_PERIOD_END, self.dialect)
        self.absent_at_start = {e.idx for e in self.org.employees if e.absent}
        self.lms = Lms(self.org, self.profile, seed)
        self.lms.generate()
        self.strategy = Strategy(self.org, self.profile, seed)
        self.strategy.generate()
        self.payroll = Payroll(self.org, self.profile, seed, self.inbox, self.dialect)
        self.payroll.generate(self.profile.payroll_periods)
        self._xapi_initial()

    def hris_known(self, e) -> bool:
        """Shown by the HRIS at some point since start-up (people purged before it never were)."""
        return not e.absent or e.idx not in self.absent_at_start

    # -- clock --------------------------------------------------------------------------------
    @property
    def as_of(self) -> str:
        return date_of_day(self.today).isoformat()

    def tick(self) -> int:
        """A fresh timestamp just after everything stored so far (used by injections)."""
        self.now_ms += 1000
        return self.now_ms

    # -- xAPI ---------------------------------------------------------------------------------
    def _xapi_initial(self) -> None:
        rng = np.random.default_rng([self.seed, 7])
        org, prof = self.org, self.profile
        self.actors = Actors()
        self.actor_of: dict[int, int] = {}
        self.primary_kind: dict[int, int] = {}
        kinds = rng.choice([K_MBOX, K_MBOX_MIXED, K_ACCOUNT, K_SHA1], size=len(org.employees), p=[0.3, 0.2, 0.3, 0.2])
        for e in org.employees:
            if e.absent:
                continue
            self.actor_of[e.idx] = self.actors.add(e.email, e.employee_number, f"{e.given} {e.family}", e.idx)
            self.primary_kind[e.idx] = K_ACCOUNT if e.idx in org.ambiguous_pair else int(kinds[e.idx])
        self.guest_actors = [self.add_guest(k) for k in range(prof.unknown_actors)]
        course_json = [dumps({"objectType": "Activity", "id": c["xapi_activity_id"],
                              "definition": {"name": {"en-US": c["title"]},
                                             "type": "http://adlnet.gov/expapi/activities/course"}}).decode()
                       for c in self.lms.courses]
        self.xapi = StatementLog(self.actors, course_json, self.dialect.xapi_layout)
        self.course_weights = np.array([3.0 if c["compliance"] else 1.0 for c in self.lms.courses])
        self.course_weights /= self.course_weights.sum()
        lo, hi, act, kind = [], [], [], []
        for e in org.employees:
            if e.idx not in self.actor_of:
                continue
            a = max(e.hire_day, self.today - 365 * self.history_years)
            b = e.term_day if e.term_day is not None else self.today + 1
            if b > a:
                lo.append(a), hi.append(b), act.append(self.actor_of[e.idx]), kind.append(self.primary_kind[e.idx])
        for g, k in self.guest_actors:
            lo.append(self.today - 200), hi.append(self.today + 1), act.append(g), kind.append(k)
        lo, hi, act, kind = map(np.array, (lo, hi, act, kind))
        lam = prof.statements_per_employee / 2.45 * (hi - lo) / 365
        lam[len(lam) - len(self.guest_actors):] = 1.0  # guests: a handful of statements each
        counts = rng.poisson(lam)
        s_act = np.repeat(act, counts)
        s_kind = np.repeat(kind, counts)
        span = np.repeat(hi - lo, counts)
        day = np.repeat(lo, counts) + (rng.random(len(s_act)) * span).astype(np.int64)
        self._spread_kinds(rng, s_act, s_kind)
        course = rng.choice(len(self.lms.courses), size=len(s_act), p=self.course_weights)
        batch = sessions_to_statements(rng, s_act, s_kind, course, daily_window(day, rng, len(day)), self.now_ms)
        outcome = np.flatnonzero(np.isin(batch["verb"], [V_COMPLETED, V_PASSED, V_FAILED, V_SATISFIED]))
        targets = rng.choice(outcome, size=max(2, len(outcome) // 160), replace=False) if len(outcome) > 4 else outcome[:0]
        delay = np.where(rng.random(len(targets)) < 0.4, DAY_MS + rng.integers(0, 6 * HOUR_MS, len(targets)),
                         rng.integers(60_000, 6 * HOUR_MS, len(targets)))
        vstored = batch["stored"][targets] + delay
        ok = vstored < self.now_ms - 1000
        targets, vstored = targets[ok], vstored[ok]
        voids = voiding_rows(rng, batch, targets, vstored, REL + targets)
        self.xapi.append(concat([batch, voids]))
        self.xapi_rows_at_start = len(self.xapi)

    def add_guest(self, k: int) -> tuple[int, int]:
        a = self.actors.add(f"guest{k + 1}@partner-academy.org", f"P{k + 1:05d}", f"Guest Learner {k + 1}", -1)
        return a, (K_MBOX if k % 2 == 0 else K_FOREIGN_ACCOUNT)

    def _spread_kinds(self, rng: np.random.Generator, act: np.ndarray, kind: np.ndarray) -> None:
        """Most statements use the actor's usual identifier; some another one (never for the ambiguous pair)."""
        other = rng.random(len(act)) < 0.15
        fixed = np.isin(kind, [K_FOREIGN_ACCOUNT]) | np.isin(act, [self.actor_of.get(i, -1) for i in self.org.ambiguous_pair])
        fixed |= act >= self.actors_employee_limit()
        sel = other & ~fixed
        kind[sel] = rng.choice([K_MBOX, K_MBOX_MIXED, K_ACCOUNT, K_SHA1], size=int(sel.sum()))

    def actors_employee_limit(self) -> int:
        guests = [g for g, _ in getattr(self, "guest_actors", [])]
        return min(guests) if guests else 1 << 30

    def _xapi_day(self, day: int) -> None:
        rng = np.random.default_rng([self.seed, 11, day])
        org = self.org
        eligible = [e.idx for e in org.employees if e.active and not e.absent and e.idx in self.actor_of]
        if not eligible:
            return
        n = rng.poisson(self.profile.statements_per_employee / 2.45 * len(eligible) / 365)
        emp = rng.choice(np.array(eligible), size=n)
        act = np.array([self.actor_of[i] for i in emp], dtype=np.int64)
        kind = np.array([self.primary_kind[i] for i in emp], dtype=np.int64)
        self._spread_kinds(rng, act, kind)
        course = rng.choice(len(self.lms.courses), size=n, p=self.course_weights)
        batch = sessions_to_statements(rng, act, kind, course, daily_window(np.full(n, day), rng, n),
                                       day * DAY_MS + END_OF_DAY_MS, late_share=0.0)
        late = rng.random(len(batch["ts"])) < 0.03  # recorded offline, synced today: timestamp days earlier
        batch["ts"][late] -= rng.integers(1, 4, late.sum()) * DAY_MS
        parts = [batch]
        # void a couple of recent completions (some stored yesterday: the voiding arrives a day later)
        log = self.xapi
        recent = np.flatnonzero((log.cols["stored"] > (day - 2) * DAY_MS) & ~log.hidden &
                                np.isin(log.cols["verb"], [V_COMPLETED, V_PASSED, V_SATISFIED]))
        if len(recent):
            t = rng.choice(recent, size=min(len(recent), int(rng.integers(1, 3))), replace=False)
            parts.append(voiding_rows(rng, log.cols, t, day * DAY_MS + 20 * HOUR_MS + rng.integers(0, HOUR_MS, len(t)), t))
        fresh = np.flatnonzero(np.isin(batch["verb"], [V_COMPLETED, V_PASSED]))
        if len(fresh) and rng.random() < 0.5:
            t = fresh[:1]
            parts.append(voiding_rows(rng, batch, t, batch["stored"][t] + 60_000, REL + t))
        new_pos = log.append(concat(parts))
        if self.lagging:
            self._lag(new_pos, rng)

    def _lag(self, positions: np.ndarray, rng: np.random.Generator) -> None:
        """Hide a random share of recent statements: visible out of stored order until revealed."""
        if len(positions):
            hide = positions[rng.random(len(positions)) < 0.3]
            self.xapi.pending[hide] = True

    def set_lagging(self, on: bool) -> None:
        self.lagging = on
        if on:
            rng = np.random.default_rng([self.seed, 13, self.today])
            self._lag(np.flatnonzero(self.xapi.cols["stored"] > self.now_ms - DAY_MS), rng)
        else:
            self.xapi.pending[:] = False

    def consistent_through(self) -> int:
        pend = np.flatnonzero(self.xapi.pending)
        if len(pend):
            return int(self.xapi.cols["stored"][pend[0]]) - 1
        return self.now_ms

    def reveal_some(self) -> None:
        """Lagging LRS catches up a little on every statements request."""
        pend = np.flatnonzero(self.xapi.pending)
        if len(pend):
            self.xapi.pending[pend[: max(1, len(pend) // 3 + 1)][::-1]] = False

    # -- daily change ---------------------------------------------------------------------------
    def advance(self, days: int) -> None:
        with self.lock:
            for _ in range(int(days)):
                self._day(self.today + 1)

    def _day(self, day: int) -> None:
        rng = random.Random(f"day-{self.seed}-{day}")
        org, lms = self.org, self.lms
        self.today = day
        n_active = sum(1 for e in org.employees if e.active)
        pending: list = []

        def put(log, rec: dict, ms: int) -> None:
            rec["updated_at"] = iso_ms(ms)
            pending.append((ms, log, rec["id"], dumps(rec), bool(rec.get("deleted"))))

        def poisson(lam: float) -> int:
            return int(np.random.default_rng([self.seed, 17, day, int(lam * 1000)]).poisson(lam))

        daytime = lambda: day * DAY_MS + 8 * HOUR_MS + rng.randrange(10 * HOUR_MS)
        staff = [e for e in org.employees if e.role == "staff" and e.active and e.idx not in org.ambiguous_pair]
        for _ in range(poisson(n_active * 0.10 / 365)):
            e = org.hire(day)
            uid = lms.new_id("users", 50_000)
            lms.user_of[e.idx], lms.user_key[uid] = uid, (e.idx, "")
            put(lms.logs["users"], lms.user_record(e, uid), daytime())
            self.actor_of[e.idx] = self.actors.add(e.email, e.employee_number, f"{e.given} {e.family}", e.idx)
            self.primary_kind[e.idx] = rng.choice((K_MBOX, K_ACCOUNT, K_SHA1))
            for c in lms.courses:
                if c["compliance"]:
                    ms = daytime()
                    put(lms.logs["assignments"], {"id": lms.new_id("assignments", 300_000), "user_id": uid,
                                                  "course_id": c["id"], "assigned_at": iso_ms(ms),
                                                  "due_date": day_str(day + 30), "reason": "compliance"}, ms)
        for _ in range(poisson(n_active * 0.08 / 365)):
            e = rng.choice(staff)
            options = [t for t in DEPARTMENTS[e.state.dept].staff if t != e.state.title]
            if options:
                org.change(e, day, title=rng.choice(options))
        for _ in range(poisson(n_active * 0.03 / 365)):
            e = rng.choice(staff)
            nd = rng.randrange(1, len(DEPARTMENTS))
            if nd != e.state.dept:
                org.change(e, day, dept=nd, title=rng.choice(DEPARTMENTS[nd].staff), manager=org.manager_for(nd))
        for _ in range(poisson(n_active * 0.08 / 365)):
            e = rng.choice(staff)
            if e.active:
                org.terminate(e, day)
                self._lms_user_active(e, False, daytime(), put)
        if rng.random() < 0.03:
            gone = [e for e in org.employees if not e.active and e.term_day is not None and e.term_day < day - 30]
            if gone:
                e = rng.choice(gone)
                org.rehire(e, day)
                if e.idx in lms.user_of:
                    self._lms_user_active(e, True, daytime(), put)
        for e in org.employees:  # purge long-gone people from the HRIS
            if not e.absent and e.term_day == day - 180 and e.idx % 10 < 3 and e.idx not in self.payroll.terminated_but_paid:
                e.absent = True
                org.touch(e, daytime())
        # LMS learning records
        sample = [e for e in org.employees if e.active and e.idx in lms.user_of and lms.sample(e)]
        for _ in range(poisson(len(sample) * 2 / 365)):
            e = rng.choice(sample)
            mgr = e.state.manager
            if mgr >= 0 and mgr in lms.user_of:
                rec = lms.observation(None, lms.user_of[e.idx], lms.user_of[mgr], daytime())
                put(lms.logs["observations"], rec, daytime())
        for resource in ("assignments", "observations"):
            log = lms.logs[resource]
            if len(log) and rng.random() < 0.5:
                rid = log.ids[rng.randrange(len(log))]
                if rid not in log.deleted:
                    if resource == "assignments" and rng.random() < 0.6:
                        rec = log.current(rid)
                        rec["due_date"] = day_str(day + 14)
                        put(log, rec, daytime())
                    else:
                        put(log, {"id": rid, "deleted": True}, daytime())
        self.strategy.day(day, pending)
        pending.sort(key=lambda x: x[0])
        for ms, log, rid, payload, deleted in pending:
            log.put(rid, ms, payload, deleted)
        self._xapi_day(day)
        self.payroll.day(day)
        self.now_ms = day * DAY_MS + END_OF_DAY_MS

    def _lms_user_active(self, e, active: bool, ms: int, put) -> None:
        uid = self.lms.user_of.get(e.idx)
        if uid is None:
            return
        rec = self.lms.logs["users"].current(uid)
        if rec and not rec.get("deleted"):
            rec["active"] = active
            put(self.lms.logs["users"], rec, ms)
