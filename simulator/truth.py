"""Ground truth written to <workdir>/truth/ after start-up and after every advance/inject.

Files are documented in simulator/README.md. They are written to a temporary name and renamed, so a
reader never sees half a file.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np

from simulator.catalogue import DEPARTMENTS, TITLE_BY_NAME
from simulator.clock import day_str, iso_ms
from simulator.titles import classify
from simulator.xapi_feed import (
    K_ACCOUNT,
    K_FOREIGN_ACCOUNT,
    K_MBOX,
    K_MBOX_MIXED,
    V_VOIDED,
    sha1_mbox,
)


def _write(path: Path, header: list[str], rows) -> None:
    tmp = path.with_suffix(".csv.part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)


class Resolver:
    """The contract's identity rules applied to what the HRIS has shown since start-up.

    Kept on the world between truth writes and grown incrementally (large profile: 100k people):
    new hires never change an existing resolution (emails and numbers are unique by construction),
    only the return of someone purged before start-up does, and that rebuilds everything.
    """

    def __init__(self, world) -> None:
        self.world = world
        self.epoch = self.current_epoch()
        self.seen = 0
        self.by_number: dict[str, object] = {}
        self.by_email: dict[str, list] = {}
        self.by_sha1: dict[str, object] = {}
        self.memo: dict[tuple, tuple[str, str]] = {}

    def current_epoch(self) -> int:
        w = self.world
        return sum(1 for i in w.absent_at_start if w.hris_known(w.org.employees[i]))

    @classmethod
    def for_world(cls, world) -> Resolver:
        res = world.truth_resolver
        if res is None or res.epoch != res.current_epoch():
            res = world.truth_resolver = cls(world)
        emps = world.org.employees
        for e in emps[res.seen:]:
            if world.hris_known(e):
                res.by_number[e.employee_number] = e
                res.by_email.setdefault(e.email.strip().lower(), []).append(e)
                res.by_sha1[sha1_mbox(e.email)] = e
        res.seen = len(emps)
        return res

    def number(self, raw: str | None) -> tuple[str, str]:
        key = (raw or "").strip().lstrip("0")
        e = self.by_number.get(key)
        return (e.employee_number, "") if e else ("", "no_match")

    def email(self, raw: str | None) -> tuple[str, str]:
        hits = self.by_email.get((raw or "").strip().lower(), [])
        if len(hits) == 1:
            return hits[0].employee_number, ""
        return ("", "ambiguous") if hits else ("", "no_match")

    def cached(self, key: tuple, fn) -> tuple[str, str]:
        hit = self.memo.get(key)
        if hit is None:
            hit = self.memo[key] = fn()
        return hit


def write_truth(world) -> Path:
    out = world.workdir / "truth"
    out.mkdir(parents=True, exist_ok=True)
    org, res = world.org, Resolver.for_world(world)
    emps = org.employees

    def en(i: int) -> str:
        return emps[i].employee_number if i >= 0 else ""

    shown = [e for e in emps if world.hris_known(e)]  # people purged before start-up were never shown
    rows = []
    for e in shown:
        st, t = e.state, TITLE_BY_NAME[e.state.title]
        d = DEPARTMENTS[st.dept]
        rows.append([e.employee_number, e.scim_id, e.email, st.title, t.family, t.level, d.division, d.name,
                     d.cost_center, en(st.manager), str(st.active).lower(), day_str(e.hire_day),
                     day_str(e.term_day) if e.term_day is not None else "", str(e.absent).lower(),
                     e.employment_type, st.fte, e.user_name])
    _write(out / "employees.csv", ["employee_number", "scim_id", "email", "canonical_job_title", "job_family",
                                   "job_level", "division", "department", "cost_center",
                                   "manager_employee_number", "active", "hire_date", "termination_date",
                                   "absent_from_hris", "employment_type", "fte", "user_name"], rows)

    hist = []
    for e in shown:
        for h in e.history:
            d = DEPARTMENTS[h.dept]
            hist.append([e.employee_number, day_str(h.day), h.title, d.name, d.cost_center, en(h.manager), h.fte,
                         str(h.active).lower()])
    _write(out / "employee_history.csv", ["employee_number", "date", "canonical_job_title", "department",
                                          "cost_center", "manager_employee_number", "fte", "is_active"], hist)

    links = [["hris", e.scim_id, e.employee_number, ""] for e in emps if not e.absent]
    for written in sorted(world.payroll.keys_seen):
        links.append(["payroll", written, *res.cached(("payroll", written), lambda w=written: res.number(w))])
    users = world.lms.logs["users"]
    for rid, pos in users.latest.items():
        def lms_link(pos: int = pos) -> tuple[str, str]:
            rec = json.loads(users.payloads[pos])
            if rec.get("deleted"):
                return ("-", "-")
            if rec.get("employee_number"):
                return res.number(rec["employee_number"])
            return res.email(rec.get("email"))
        num, reason = res.cached(("lms", rid, pos), lms_link)
        if num != "-":
            links.append(["lms", str(rid), num, reason])
    log = world.xapi
    visible = log.visible() | (log.cols["verb"] == V_VOIDED)  # a hidden target's actor is on its voider too
    codes = np.unique(log.cols["actor"][visible].astype(np.int64) * 8 + log.cols["kind"][visible])
    for a, k in zip((codes // 8).tolist(), (codes % 8).tolist()):
        def xapi_link(a: int = a, k: int = k) -> tuple[str, str]:
            email = world.actors.emails[a]
            if k in (K_MBOX, K_MBOX_MIXED):
                return res.email(email)
            if k == K_ACCOUNT:
                return res.number(world.actors.numbers[a])
            if k == K_FOREIGN_ACCOUNT:
                return "", "no_match"
            e = res.by_sha1.get(sha1_mbox(email))
            return (e.employee_number, "") if e else ("", "no_match")
        key = res.cached(("xapi-key", a, k), lambda a=a, k=k: (world.actors.ifi(a, k)[0], ""))[0]
        links.append(["xapi", key, *res.cached(("xapi", a, k), xapi_link)])
    emails = world.strategy.emails_written
    for em in sorted(emails):
        links.append(["checkins", em, *res.cached(("checkins", em), lambda em=em: res.email(em))])
    _write(out / "identity_links.csv", ["source_system", "source_key", "employee_number", "reason"], links)

    aliases = []
    hris_titles = Counter(e.state.title for e in emps if not e.absent)
    for title, n in sorted(hris_titles.items()):
        aliases.append(["hris", title, title, "exact", n])
    for title, n in sorted(world.payroll.titles_seen.items()):
        aliases.append(["payroll", title, *classify(title), n])
    lms_titles = Counter(r["job_title"] for r in world.lms.logs["job_profiles"].current_records()
                         if not r.get("deleted") and "job_title" in r)
    for title, n in sorted(lms_titles.items()):
        aliases.append(["lms", title, *classify(title), n])
    _write(out / "title_aliases.csv", ["source_system", "source_title", "canonical_job_title", "kind", "occurrences"],
           aliases)

    voiders = np.flatnonzero(log.cols["verb"] == V_VOIDED)
    targets = log.cols["target"][voiders]
    stored = log.cols["stored"]
    _write(out / "voided_statements.csv",
           ["statement_id", "voiding_statement_id", "target_stored", "voiding_stored", "voided_after_start"],
           zip(log.ids(targets), log.ids(voiders), [iso_ms(x) for x in stored[targets].tolist()],
               [iso_ms(x) for x in stored[voiders].tolist()],
               ["true" if v >= world.xapi_rows_at_start else "false" for v in voiders.tolist()]))
    # by the rule: inactive (or gone) in the HRIS, paid as active/on_leave in the latest export of the
    # latest period; `planted` marks the ghosts generated on purpose, the others were terminated after it
    ghosts = set(world.payroll.terminated_but_paid)
    paid = []
    for r in world.payroll.latest_rows:
        e = res.by_number.get(str(r.get("employee_number", "")).strip().lstrip("0"))
        if e is not None and r.get("employment_status") in ("active", "on_leave") and not (e.active and not e.absent):
            paid.append([e.employee_number, r["cost_center"], day_str(e.term_day) if e.term_day is not None else "",
                         str(e.idx in ghosts).lower()])
    _write(out / "terminated_but_paid.csv", ["employee_number", "cost_center", "termination_date", "planted"],
           sorted(paid))
    _write(out / "orphan_objectives.csv", ["objective_id", "missing_parent_id"],
           [[o, world.strategy.obj[o]["parent_id"]] for o in world.strategy.orphans])
    _write(out / "payroll_files.csv", ["file_name", "period_end", "exported", "rows", "kind", "bom"],
           [[f["file_name"], f["period_end"], f["exported"], f["rows"], f["kind"], str(f["bom"]).lower()]
            for f in world.payroll.files])

    counts = [["hris", "users", sum(1 for e in emps if not e.absent), 0],
              ["hris", "users_active", sum(1 for e in emps if not e.absent and e.active), 0],
              ["xapi", "statements", int(log.visible().sum()), 0],
              ["xapi", "statements_stored", len(log), 0],
              ["xapi", "voided", len(voiders), 0]]
    for name, lg in world.lms.logs.items():
        n, dl = lg.counts()
        counts.append(["lms", name, n, dl])
    for name, lg in (("objectives", world.strategy.objectives), ("checkins", world.strategy.checkins)):
        n, dl = lg.counts()
        counts.append(["checkins", name, n, dl])
    counts.append(["payroll", "files", len(world.payroll.files), 0])
    counts.append(["payroll", "rows", sum(f["rows"] for f in world.payroll.files), 0])
    _write(out / "counts.csv", ["feed", "stream", "records", "deleted"], counts)
    _write(out / "injected.csv", ["kind", "params", "detail"],
           [[i["kind"], json.dumps(i["params"], sort_keys=True), json.dumps(i["detail"], sort_keys=True)]
            for i in world.injected])
    (out / "clock.json").write_text(json.dumps({"as_of": world.as_of, "now": iso_ms(world.now_ms)}))
    return out
