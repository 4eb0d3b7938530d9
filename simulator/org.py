"""The people of the synthetic organisation: hierarchy, employment facts and their history.

The HRIS is the system of record: an `Employee` holds the HRIS truth; other feeds derive their
(dirty) views from it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from simulator.catalogue import CEO_TITLE, DEPARTMENTS, DIVISION_HEADS, DIVISIONS, EMAIL_DOMAIN, TITLE_BY_NAME
from simulator.clock import DAY_MS, HOUR_MS, START_DATE, day_number
from simulator.dialect import Reference

FIRST = ["Anna", "Ben", "Carla", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kim", "Lena", "Marco", "Nadia", "Omar", "Petra", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wim", "Xena", "Yusuf", "Zoe", "Aaron", "Bianca", "Chloe", "Daan", "Elif", "Fatima", "Gert", "Hanna", "Ivan", "Julia", "Koen", "Lotte", "Milan", "Noor", "Oscar", "Pia", "Ravi", "Sara", "Tom", "Uma", "Victor", "Wendy", "Yara", "Ali", "Bram", "Cas", "Dina", "Eva", "Finn", "Gijs", "Hiba", "Isa", "Joris"]
LAST = ["Smith", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters", "Hendriks", "Dekker", "Brouwer", "Dijkstra", "Kok", "Jacobs", "Vermeulen", "Schouten", "Willems", "Hoekstra", "Koster", "Prins", "Huisman", "Kuipers", "Wolters", "Postma", "Evers", "Kramer", "Maas", "Verhoeven", "Boer", "Schipper", "Khan", "Patel", "Garcia", "Rossi", "Muller", "Novak", "Silva", "Nguyen", "Kowalski", "Ozturk", "Haddad", "Okafor", "Andersen", "Larsen", "Moreau", "Dubois", "Fischer", "Weber", "Costa", "Ivanova", "Horvat", "Papadopoulos", "Ahmed", "Yilmaz", "Murphy", "Kelly", "Walsh", "Byrne"]

EMP_TYPES = ("full_time", "part_time", "contractor", "casual")
EMP_TYPE_P = (0.80, 0.12, 0.05, 0.03)


@dataclass(slots=True)
class State:
    day: int
    title: str
    dept: int
    manager: int  # employee index, -1 for the CEO
    fte: float
    active: bool


@dataclass(slots=True)
class Employee:
    idx: int
    employee_number: str
    scim_id: str
    given: str
    family: str
    email: str  # canonical, lower-case
    user_name: str
    employment_type: str
    hire_day: int
    term_day: int | None = None
    absent: bool = False  # removed from the HRIS entirely
    created_ms: int = 0
    modified_ms: int = 0
    role: str = "staff"  # ceo, vp, head, lead, staff
    history: list[State] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # injected attribute changes (see inject.py)
    scim_cache: bytes | None = None

    @property
    def state(self) -> State:
        return self.history[-1]

    def state_on(self, day: int) -> State:
        st = self.history[0]
        for h in self.history:
            if h.day <= day:
                st = h
            else:
                break
        return st

    @property
    def active(self) -> bool:
        return self.history[-1].active


class Org:
    """Employees plus the structure (department heads and team leads) new hires slot into."""

    def __init__(self, n: int, seed: int, last_payroll_end: int, dialect: Reference | None = None) -> None:
        self.seed = seed
        self.dialect = dialect or Reference()
        self.scim_ids: set[str] = set()
        self.rng = random.Random(f"org-{seed}")
        self.employees: list[Employee] = []
        self.email_counts: dict[str, int] = {}
        self.used_numbers: set[int] = set()
        self.by_number: dict[str, int] = {}
        self.dept_heads: dict[int, int] = {}
        self.dept_leads: dict[int, list[int]] = {}
        self.vp_of_division: dict[str, int] = {}
        self.ambiguous_pair: tuple[int, int] = (-1, -1)
        self._generate(n, last_payroll_end)

    # -- construction -------------------------------------------------------------------------
    def _new_number(self) -> str:
        while True:
            num = self.rng.randrange(10_000, 10_000 + 10 * max(len(self.employees) + 1, 50_000))
            if num not in self.used_numbers:
                self.used_numbers.add(num)
                return str(num)

    def _new_person(self, hire_day: int, title: str, dept: int, manager: int, role: str) -> Employee:
        rng = self.rng
        given, family = rng.choice(FIRST), rng.choice(LAST)
        base = f"{given}.{family}".lower()
        k = self.email_counts.get(base, 0) + 1
        self.email_counts[base] = k
        idx = len(self.employees)
        email = f"{self.dialect.email_local(base, idx)}{'' if k == 1 else k}@{EMAIL_DOMAIN}"
        given, family = self.dialect.person_name(given, family)
        etype = "full_time" if role != "staff" else rng.choices(EMP_TYPES, EMP_TYPE_P)[0]
        fte = {"full_time": 1.0, "contractor": 1.0, "part_time": rng.choice((0.5, 0.6, 0.8)),
               "casual": rng.choice((0.2, 0.3, 0.4))}[etype]
        en = self._new_number()
        self.by_number[en] = idx
        created = (hire_day - 14) * DAY_MS + 9 * HOUR_MS + rng.randrange(HOUR_MS)
        scim_id = self.dialect.scim_id(self.seed, en, self.scim_ids)
        self.scim_ids.add(scim_id)
        e = Employee(idx, en, scim_id, given, family, email, email, etype,
                     hire_day, created_ms=created, modified_ms=created, role=role)
        e.history.append(State(hire_day, title, dept, manager, fte, True))
        self.employees.append(e)
        return e

    def _hire_day(self, start: int, last_payroll_end: int) -> int:
        r = self.rng.random()
        if r < 0.12:  # hired during the simulated year (never after the last payroll period)
            return self.rng.randrange(start - 365, last_payroll_end + 1)
        years = min(20.0, self.rng.expovariate(1 / 4.0)) + 1
        return start - int(years * 365)

    def _generate(self, n: int, last_payroll_end: int) -> None:
        rng, start = self.rng, day_number(START_DATE)
        exec_dept = 0
        ceo = self._new_person(start - 3650, CEO_TITLE, exec_dept, -1, "ceo")
        for div in DIVISIONS:
            vp = self._new_person(start - rng.randrange(1000, 4000), DIVISION_HEADS[div], exec_dept, ceo.idx, "vp")
            self.vp_of_division[div] = vp.idx
        rest = max(n - len(self.employees), len(DEPARTMENTS) * 2)
        weights = np.array([d.weight for d in DEPARTMENTS])
        counts = np.floor(weights / weights.sum() * rest).astype(int)
        counts[np.argmax(counts)] += rest - counts.sum()
        for di, dept in enumerate(DEPARTMENTS):
            k = int(counts[di])
            head = self._new_person(start - rng.randrange(700, 4000), dept.head, di,
                                    self.vp_of_division[dept.division] if di else ceo.idx, "head")
            self.dept_heads[di] = head.idx
            n_leads = max(0, (k - 1) // 9)
            leads = [self._new_person(self._hire_day(start, last_payroll_end) - 400, dept.lead, di, head.idx, "lead")
                     for _ in range(n_leads)]
            self.dept_leads[di] = [e.idx for e in leads]
            for j in range(k - 1 - n_leads):
                mgr = leads[j % n_leads].idx if leads else head.idx
                self._new_person(self._hire_day(start, last_payroll_end), rng.choice(dept.staff), di, mgr, "staff")
        self._past_year_changes(start, last_payroll_end)
        self._make_ambiguous_pair()

    def _past_year_changes(self, start: int, last_payroll_end: int) -> None:
        rng = self.rng
        for e in self.employees:
            if e.role != "staff":
                continue
            lo = max(e.hire_day + 30, start - 365)
            if lo >= last_payroll_end:
                continue
            r = rng.random()
            if r < 0.08:  # promotion / title change inside the department
                st = e.state
                options = [t for t in DEPARTMENTS[st.dept].staff if t != st.title]
                if options:
                    self.change(e, rng.randrange(lo, start), title=rng.choice(options))
            elif r < 0.11:  # department move
                st = e.state
                nd = rng.randrange(1, len(DEPARTMENTS))
                if nd != st.dept:
                    self.change(e, rng.randrange(lo, start), dept=nd, title=rng.choice(DEPARTMENTS[nd].staff),
                                manager=self.manager_for(nd))
            if rng.random() < 0.07:  # terminations, never after the last payroll period end
                day = rng.randrange(max(lo, e.state.day + 1), last_payroll_end + 1) if max(
                    lo, e.state.day + 1) <= last_payroll_end else None
                if day is not None:
                    self.terminate(e, day)
                    e.absent = day < start - 180 and rng.random() < 0.3

    def _make_ambiguous_pair(self) -> None:
        staff = [e for e in self.employees if e.role == "staff" and e.active]
        a, b = staff[len(staff) // 3], staff[len(staff) // 3 + 1]
        b.email = a.email  # two HRIS users share an email; userName stays unique
        self.ambiguous_pair = (a.idx, b.idx)

    # -- changes ------------------------------------------------------------------------------
    def manager_for(self, dept: int) -> int:
        leads = self.dept_leads.get(dept) or []
        return self.rng.choice(leads) if leads else self.dept_heads[dept]

    def touch(self, e: Employee, ms: int) -> None:
        e.modified_ms = max(ms, e.modified_ms + 1)
        e.scim_cache = None

    def change(self, e: Employee, day: int, **kw) -> None:
        st = e.state
        new = State(day, kw.get("title", st.title), kw.get("dept", st.dept), kw.get("manager", st.manager),
                    kw.get("fte", st.fte), kw.get("active", st.active))
        if st.day == day:
            e.history[-1] = new
        else:
            e.history.append(new)
        self.touch(e, day * DAY_MS + 8 * HOUR_MS + self.rng.randrange(12 * HOUR_MS))

    def terminate(self, e: Employee, day: int) -> None:
        e.term_day = day
        self.change(e, day, active=False)

    def rehire(self, e: Employee, day: int) -> None:
        e.term_day = None
        e.absent = False
        e.hire_day = day
        self.change(e, day, active=True)

    def hire(self, day: int) -> Employee:
        dept = self.rng.randrange(1, len(DEPARTMENTS))
        e = self._new_person(day, self.rng.choice(DEPARTMENTS[dept].staff), dept, self.manager_for(dept), "staff")
        self.touch(e, day * DAY_MS + 7 * HOUR_MS + self.rng.randrange(HOUR_MS))
        return e

    # -- views --------------------------------------------------------------------------------
    def in_hris(self) -> list[Employee]:
        return [e for e in self.employees if not e.absent]

    def title_of(self, e: Employee):
        return TITLE_BY_NAME[e.state.title]
