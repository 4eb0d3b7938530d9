"""Payroll CSV exports (CONTRACT 2.5) dropped into <workdir>/inbox/."""
from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

from simulator.catalogue import DEPARTMENTS, TITLE_BY_NAME, UNMAPPABLE
from simulator.clock import DAY_MS, HOUR_MS, START_DATE, date_of_day, day_number, day_str, stamp
from simulator.dialect import Reference
from simulator.org import Employee, Org
from simulator.scim_feed import job_code
from simulator.titles import spelling_for

COLUMNS = ("employee_number", "pay_period_start", "pay_period_end", "job_code", "job_title", "pay_grade",
           "remuneration_package", "annual_base_salary", "currency", "fte", "cost_center", "employment_status")
LAST_PERIOD_END = day_number(START_DATE) - 4  # 2026-06-26, a Friday
CURRENCY = {"London": "GBP", "Manchester": "GBP"}


class _Chunks:
    """What a csv.writer wrote, chunk by chunk: the lines of the row just written are counted in its
    own chunks (StringIO.getvalue() per row copies the whole file so far: quadratic, ~15 CPU minutes
    for the large profile's four 100,000-row periods)."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)


def period_ends(n: int) -> list[int]:
    return [LAST_PERIOD_END - 14 * k for k in range(n - 1, -1, -1)]


class Payroll:
    def __init__(self, org: Org, profile, seed: int, inbox: Path, dialect: Reference | None = None) -> None:
        self.org, self.profile, self.inbox = org, profile, inbox
        self.dialect = dialect or Reference()
        self.last_lines: list[int] = []  # physical line where each row of the last file written begins
        self.rng = random.Random(f"payroll-{seed}")
        self.title_spelling: dict[str, str] = {}
        self.person_spelling: dict[int, tuple[str, str]] = {}
        self.unmappable_people: set[int] = set()
        self.written_number: dict[int, str] = {}
        self.salary_factor: dict[int, float] = {}
        self.terminated_but_paid: list[int] = []
        self.files: list[dict] = []  # name, period_end, exported, rows, kind, sha-free bookkeeping
        self.titles_seen: Counter = Counter()
        self.keys_seen: dict[str, int] = {}  # employee_number as written -> employee idx
        self.latest_rows: list[dict] = []
        self.latest_end = 0
        self.periods_written: set[int] = set()

    # -- dirt per person ----------------------------------------------------------------------
    def number_as_written(self, e: Employee) -> str:
        s = self.written_number.get(e.idx)
        if s is None:
            s = f"{int(e.employee_number):08d}" if self.rng.random() < 0.15 else e.employee_number
            self.written_number[e.idx] = s
        return s

    def title_as_written(self, e: Employee, title: str) -> str:
        if e.idx in self.unmappable_people:
            return self.person_spelling.setdefault(e.idx, ("", self.rng.choice(UNMAPPABLE)))[1]
        cur = self.person_spelling.get(e.idx)
        if cur and cur[0] == title:
            return cur[1]
        if title not in self.title_spelling:
            self.title_spelling[title] = spelling_for(title, self.rng, p_exact=0.45, p_synonym=0.2)
        sp = self.title_spelling[title]
        if self.rng.random() < 0.1:
            sp = spelling_for(title, self.rng, p_exact=0.3, p_synonym=0.2)
        sp = self.dialect.title_spelling(sp, e.idx)
        self.person_spelling[e.idx] = (title, sp)
        return sp

    def row_for(self, e: Employee, start: int, end: int, status: str | None = None) -> dict:
        day = min(end, e.term_day) if e.term_day is not None and e.term_day >= start else end
        st = e.state_on(day)
        t = TITLE_BY_NAME[st.title]
        dept = DEPARTMENTS[st.dept]
        factor = self.salary_factor.setdefault(e.idx, self.rng.uniform(0.9, 1.1))
        if status is None:
            if e.term_day is not None and start <= e.term_day <= end:
                status = "terminated"
            elif (e.idx * 7 + end) % 400 == 0:
                status = "on_leave"
            else:
                status = "active"
        return {"employee_number": self.number_as_written(e), "pay_period_start": day_str(start),
                "pay_period_end": day_str(end), "job_code": job_code(t.name),
                "job_title": self.title_as_written(e, t.name), "pay_grade": f"G{t.grade:02d}",
                "remuneration_package": t.package, "annual_base_salary": f"{t.base_salary * factor:.2f}",
                "currency": CURRENCY.get(dept.location, "EUR"), "fte": f"{st.fte:g}",
                "cost_center": dept.cost_center, "employment_status": status}

    def rows_for_period(self, end: int) -> list[dict]:
        start = end - 13
        rows = []
        for e in self.org.employees:
            if e.hire_day > end:
                continue
            if e.term_day is not None and e.term_day < start:
                if e.idx in self.terminated_but_paid:
                    rows.append(self.row_for(e, start, end, status="active"))
                continue
            if e.term_day is None and not e.active:
                continue
            rows.append(self.row_for(e, start, end))
        return rows

    # -- files --------------------------------------------------------------------------------
    def write(self, rows: list[dict], end: int, exported_ms: int, kind: str, columns: tuple = COLUMNS,
              raw_lines: list[str] | None = None, bom: bool | None = None) -> Path:
        name = f"payroll_{day_str(end)}_{stamp(exported_ms)}.csv"
        buf = _Chunks()
        w = csv.writer(buf, lineterminator="\r\n",
                       quoting=csv.QUOTE_ALL if self.dialect.payroll_quote_all else csv.QUOTE_MINIMAL)
        served = self.dialect.payroll_columns(columns)
        w.writerow(served)
        line, self.last_lines = 2, []
        for k, r in enumerate(rows):
            before = len(buf.parts)
            w.writerow([self.dialect.payroll_remarks(k) if c == "remarks" else r.get(c, "") for c in served])
            self.last_lines.append(line)
            line += sum(chunk.count("\n") for chunk in buf.parts[before:])  # a quoted field may hold line breaks
        text = "".join(buf.parts) + "".join(raw_lines or [])
        if bom is None:
            bom = self.dialect.payroll_bom_always or (end // 14) % 3 == 0
        data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
        path = self.inbox / name
        tmp = self.inbox / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a watcher never sees half a file
        self.files.append({"file_name": name, "period_end": day_str(end), "exported": stamp(exported_ms),
                           "rows": len(rows) + len(raw_lines or []), "kind": kind, "bom": bom})
        if "employee_number" in columns:
            for r in rows:
                num = r["employee_number"]
                if num and num not in self.keys_seen:
                    self.keys_seen[num] = self._idx_of(num)
        if "job_title" in columns:
            self.titles_seen.update(r["job_title"] for r in rows)
        if "annual_base_salary" in columns and end >= self.latest_end:  # a file a reader would load
            self.latest_end, self.latest_rows = end, rows
        return path

    def _idx_of(self, written: str) -> int:
        return self.org.by_number.get(written.strip().lstrip("0"), -1)

    def write_period(self, end: int) -> None:
        self.periods_written.add(end)
        self.write(self.rows_for_period(end), end, end * DAY_MS + 18 * HOUR_MS, "period")

    def write_correction(self, end: int, exported_ms: int, n_changes: int = 2) -> None:
        rows = [dict(r) for r in self.rows_for_period(end)]
        for k in range(min(n_changes, len(rows))):
            r = rows[(k * 31 + 7) % len(rows)]
            r["annual_base_salary"] = f"{float(r['annual_base_salary']) * 1.03:.2f}"
        self.write(rows, end, exported_ms, "correction")

    def generate(self, n_periods: int) -> None:
        rng, org = self.rng, self.org
        k_unmapped = max(1, len(org.employees) // 1000)
        staff = [e for e in org.employees if e.role == "staff" and e.active]
        for e in rng.sample(staff, min(k_unmapped, len(staff))):
            self.unmappable_people.add(e.idx)
        ends = period_ends(n_periods)
        last_start = ends[-1] - 13
        # terminated before the latest period yet still paid in it: one per cost center at most
        used_cc: set[str] = set()
        for e in org.employees:
            if len(self.terminated_but_paid) >= self.profile.terminated_but_paid:
                break
            if e.term_day is not None and not e.absent and e.term_day < last_start:
                cc = DEPARTMENTS[e.state.dept].cost_center
                if cc not in used_cc:
                    used_cc.add(cc)
                    self.terminated_but_paid.append(e.idx)
        for i, end in enumerate(ends):
            self.write_period(end)
            if i % 6 == 3 and n_periods > 4:  # now and then a corrected re-export two days later
                self.write_correction(end, (end + 2) * DAY_MS + 10 * HOUR_MS)

    def is_period_end(self, day: int) -> bool:
        return (LAST_PERIOD_END - day) % 14 == 0 and day > LAST_PERIOD_END

    def day(self, day: int) -> None:
        if self.is_period_end(day):
            self.write_period(day)
        elif self.is_period_end(day - 2) and (day // 14) % 3 == 1:
            self.write_correction(day - 2, day * DAY_MS + 10 * HOUR_MS)

    def date_label(self, day: int) -> str:
        return date_of_day(day).isoformat()
