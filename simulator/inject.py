"""Test injections (admin `POST /inject`): each makes one named kind of trouble appear in a feed now."""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from simulator.catalogue import DEPARTMENTS
from simulator.clock import day_str, iso_ms
from simulator.payroll_feed import COLUMNS
from simulator.scim_feed import ENTERPRISE
from simulator.store import dumps
from simulator.xapi_feed import sessions_to_statements

KINDS: dict[str, Callable] = {}


def kind(name: str):
    def deco(fn: Callable) -> Callable:
        KINDS[name] = fn
        return fn
    return deco


def inject(app, name: str, params: dict) -> Any:
    fn = KINDS.get(name)
    if fn is None:
        raise ValueError(f"unknown injection kind {name!r}; known: {sorted(KINDS)}")
    return fn(app, app.world, **params)


def _staff(world, skip: int = 0, n: int = 1) -> list:
    pair = world.org.ambiguous_pair
    out = [e for e in world.org.employees if e.role == "staff" and e.active and not e.absent and e.idx not in pair
           and not e.extra]
    return out[len(out) // 2 + skip: len(out) // 2 + skip + n]


# -- HRIS ---------------------------------------------------------------------------------------
@kind("duplicate_employee_number")
def _dup(app, world) -> dict:
    a, b = _staff(world, 0, 2)
    b.extra.setdefault("set", {})[f"{ENTERPRISE}|employeeNumber"] = a.employee_number
    world.org.touch(b, world.tick())
    return {"employee_number": a.employee_number, "scim_ids": [a.scim_id, b.scim_id]}


@kind("missing_employee_number")
def _missing(app, world) -> dict:
    (e,) = _staff(world, 5, 1)
    e.extra.setdefault("drop", []).append(f"{ENTERPRISE}|employeeNumber")
    world.org.touch(e, world.tick())
    return {"scim_id": e.scim_id, "employee_number": e.employee_number}


@contextmanager
def _own_rng(world, name: str) -> Iterator[random.Random]:
    """Org's choices (change timestamps, managers) drawn from the injection's own generator, so an
    injection does not reshuffle the hires and moves of the days after it."""
    org = world.org
    saved = org.rng
    org.rng = random.Random(f"inject-{name}-{world.seed}-{world.today}-{len(world.injected)}")
    try:
        yield org.rng
    finally:
        org.rng = saved


def _by_number(world, employee_number: str):
    idx = world.org.by_number.get(str(employee_number).strip())
    if idx is None:
        raise ValueError(f"no employee with employee_number {employee_number!r}")
    return world.org.employees[idx]


@kind("same_day_changes")
def _same_day(app, world, employee_number: str | None = None) -> dict:
    """Two HRIS changes to one person today, a tick apart: a title change, then a move to another
    department (new title, that department's manager). A pull after both sees only the second; the
    truth keeps one state for the day (`Org.change` replaces a same-day state)."""
    org, day = world.org, world.today
    if employee_number is None:
        (e,) = _staff(world, 20, 1)
    else:
        e = _by_number(world, employee_number)
        if not e.active or e.absent:
            raise ValueError(f"employee {e.employee_number} is not an active HRIS user")
    with _own_rng(world, "same_day_changes") as rng:
        before = e.state
        titles = [t for t in DEPARTMENTS[before.dept].staff if t != before.title]
        if not titles:
            raise ValueError(f"department {DEPARTMENTS[before.dept].name} has no other staff title")
        middle = rng.choice(titles)
        org.change(e, day, title=middle)
        org.touch(e, world.tick())
        depts = [d for d in range(1, len(DEPARTMENTS)) if d != before.dept
                 and any(t not in (middle, before.title) for t in DEPARTMENTS[d].staff)]
        nd = rng.choice(depts)
        final = rng.choice([t for t in DEPARTMENTS[nd].staff if t not in (middle, before.title)])
        org.change(e, day, dept=nd, title=final, manager=org.manager_for(nd))
        org.touch(e, world.tick())  # lastModified: the second change, after everything stored so far
    st = e.state
    return {"employee_number": e.employee_number, "scim_id": e.scim_id, "date": day_str(day),
            "intermediate_title": middle, "title": st.title, "department": DEPARTMENTS[st.dept].name,
            "manager_employee_number": org.employees[st.manager].employee_number}


@kind("rehire")
def _rehire(app, world, employee_number: str | None = None) -> dict:
    """Someone terminated more than a day ago is active again today (default: the most recently
    terminated staff member still in the HRIS); their LMS user is reactivated, as for a natural rehire."""
    org, day = world.org, world.today
    if employee_number is None:
        gone = [e for e in org.employees if not e.active and not e.absent and e.term_day is not None
                and e.term_day < day - 1 and e.role == "staff" and e.idx not in org.ambiguous_pair
                and e.idx not in world.payroll.terminated_but_paid and not e.extra]
        if not gone:
            raise ValueError("nobody was terminated more than a day ago: nobody to rehire")
        e = max(gone, key=lambda x: (x.term_day, -x.idx))
    else:
        e = _by_number(world, employee_number)
        if e.active or e.term_day is None or e.term_day >= day - 1:
            raise ValueError(f"employee {e.employee_number} was not terminated more than a day ago")
    terminated = e.term_day
    with _own_rng(world, "rehire"):
        org.rehire(e, day)
    org.touch(e, world.tick())
    uid = world.lms.user_of.get(e.idx)
    if uid is not None:
        log = world.lms.logs["users"]
        rec = log.current(uid)
        if rec and not rec.get("deleted"):
            rec["active"] = True
            ms = world.tick()
            rec["updated_at"] = iso_ms(ms)
            log.put(uid, ms, dumps(rec))
        else:
            uid = None
    return {"employee_number": e.employee_number, "scim_id": e.scim_id, "date": day_str(day),
            "terminated": day_str(terminated), "lms_user_id": world.dialect.rest_id("users", uid)}


# -- LMS / xAPI -------------------------------------------------------------------------------------
@kind("unknown_lms_users")
def _unknown_lms(app, world, count: int = 5) -> dict:
    ids = []
    for k in range(int(count)):
        rec = world.lms.add_unknown_user(None, 0, k)
        world.lms.put("users", rec, world.tick())
        ids.append(rec["id"])
    return {"user_ids": [world.dialect.rest_id("users", i) for i in ids]}


@kind("unresolved_xapi_actors")
def _unresolved(app, world, count: int = 5) -> dict:
    rng = np.random.default_rng([world.seed, 23, len(world.xapi)])
    guests = [world.add_guest(len(world.actors.emails) + k) for k in range(int(count))]
    act = np.array([g for g, _ in guests for _ in range(2)])
    kind_ = np.array([k for _, k in guests for _ in range(2)])
    batch = sessions_to_statements(rng, act, kind_, np.zeros(len(act), dtype=np.int64),
                                   np.full(len(act), world.now_ms - 3_600_000), world.now_ms, late_share=0.0)
    _restamp(world, batch)
    pos = world.xapi.append(batch)
    return {"actors": [world.actors.ifi(g, k)[0] for g, k in guests], "statements": len(pos)}


def _restamp(world, batch: dict) -> None:
    """Injected statements are stored now (after everything else), in their generated order."""
    n = len(batch["stored"])
    start = world.now_ms + 1
    batch["stored"] = start + np.arange(n, dtype=np.int64) * 10
    batch["ts"] = np.minimum(batch["ts"], batch["stored"])
    world.now_ms = int(batch["stored"][-1]) + 1 if n else world.now_ms


# -- check-ins --------------------------------------------------------------------------------------
@kind("objective_cycle")
def _cycle(app, world) -> dict:
    goals = sorted((o for o in world.strategy.obj.values() if o["level"] == "team_goal"), key=lambda o: o["id"])
    a, b = dict(goals[0]), dict(goals[1])
    a["parent_id"], b["parent_id"] = b["id"], a["id"]
    world.strategy.put_objective(a, world.tick())
    world.strategy.put_objective(b, world.tick())
    return {"objective_ids": [world.dialect.rest_id("objectives", a["id"]), world.dialect.rest_id("objectives", b["id"])]}


@kind("progress_out_of_range")
def _progress(app, world) -> dict:
    s = world.strategy
    task = next(o for o in sorted(s.obj.values(), key=lambda o: -o["id"]) if o["level"] == "individual_task")
    owner = next(e for e in world.org.employees if e.email == task["owner_email"].strip().lower())
    rec = {"id": s.next_checkin, "objective_id": task["id"], "employee_email": owner.email,
           "manager_email": None, "meeting_date": world.as_of, "progress_pct": 150, "confidence": "on_track",
           "impediment": None, "help_requested": False, "note": "typo in progress"}
    s.next_checkin += 1
    ms = world.tick()
    rec["updated_at"] = iso_ms(ms)
    s.checkins.put(rec["id"], ms, dumps(rec))
    s.emails_written.add(owner.email)
    return {"checkin_id": world.dialect.rest_id("checkins", rec["id"])}


# -- schema drift -----------------------------------------------------------------------------------
def _rest_logs(world, feed: str) -> dict:
    f = feed.replace(".", "_").replace(":", "_").replace("/", "_")
    logs = {f"lms_{k}": v for k, v in world.lms.logs.items()}
    logs.update({"checkins_objectives": world.strategy.objectives, "checkins_checkins": world.strategy.checkins})
    if f in ("lms", "checkins"):
        return {k: v for k, v in logs.items() if k.startswith(f)}
    return {f: logs[f]} if f in logs else {}


def _drift(app, world, feed: str, field: str, value: Any, drop: bool, count: int) -> dict:
    touched: dict[str, list] = {}
    f = feed.lower()
    if f in ("scim", "hris", "all"):
        for e in _staff(world, 10, count):
            if drop:
                e.extra.setdefault("drop", []).append(field)
            else:
                e.extra.setdefault("set", {})[field] = value
            world.org.touch(e, world.tick())
            touched.setdefault("scim", []).append(e.scim_id)
    if f in ("xapi", "lrs", "all"):
        rng = np.random.default_rng([world.seed, 29, len(world.xapi)])
        actors = np.array(sorted(world.actor_of.values())[:count])
        batch = sessions_to_statements(rng, actors, np.full(len(actors), 2), np.zeros(len(actors), dtype=np.int64),
                                       np.full(len(actors), world.now_ms - 3_600_000), world.now_ms, late_share=0.0)
        _restamp(world, batch)
        pos = world.xapi.append(batch)
        for p in pos.tolist():
            world.xapi.extra[p] = {"drop": [field]} if drop else {"set": {field: value}}
        touched["xapi"] = world.xapi.ids(pos)
    for name, log in _rest_logs(world, "all" if f == "all" else f).items():
        ids = [rid for rid in list(log.latest)[:count] if rid not in log.deleted]
        for rid in ids:
            rec = log.current(rid)
            if drop:
                rec.pop(field, None)
            else:
                rec[field] = value
            ms = world.tick()
            if field != "updated_at":
                rec["updated_at"] = iso_ms(ms)
            log.put(rid, ms, dumps(rec))
        touched[name] = [world.dialect.rest_id(name.split("_", 1)[1], i) for i in ids]
    if not touched:
        raise ValueError(f"unknown feed {feed!r}: scim, xapi, lms_<resource>, checkins_<stream>, lms, checkins, all")
    return {"touched": touched}


@kind("drop_required_field")
def _drop(app, world, feed: str = "scim", field: str = "userName", count: int = 3) -> dict:
    return _drift(app, world, feed, field, None, True, int(count))


@kind("new_unknown_field")
def _new_field(app, world, feed: str = "all", field: str = "x_unmodelled_attribute", value: Any = "surprise",
               count: int = 3) -> dict:
    return _drift(app, world, feed, field, value, False, int(count))


# -- payroll ----------------------------------------------------------------------------------------
def _latest(world) -> tuple[int, list[dict]]:
    p = world.payroll
    return p.latest_end, [dict(r) for r in p.latest_rows]


@kind("unmapped_titles")
def _unmapped(app, world, share: float = 0.3) -> dict:
    end, rows = _latest(world)
    step = max(1, round(1 / max(0.01, float(share))))
    changed = 0
    for i, r in enumerate(rows):
        if i % step == 0:
            r["job_title"] = f"Unlisted Role {i % 7 + 1}"
            changed += 1
    path = world.payroll.write(rows, end, world.tick(), "injected:unmapped_titles")
    return {"file": path.name, "rows_changed": changed}


@kind("headcount_gap")
def _gap(app, world, cost_center: str | None = None) -> dict:
    end, rows = _latest(world)
    if cost_center is None:
        from collections import Counter
        cost_center = Counter(r["cost_center"] for r in rows).most_common(1)[0][0]
    kept = [r for r in rows if r["cost_center"] != cost_center]
    path = world.payroll.write(kept, end, world.tick(), "injected:headcount_gap")
    world.payroll.latest_rows = kept
    return {"file": path.name, "cost_center": cost_center, "rows_dropped": len(rows) - len(kept)}


@kind("bad_payroll_rows")
def _bad_rows(app, world) -> dict:
    end, rows = _latest(world)
    good = rows[:3]
    bad = [dict(rows[3], annual_base_salary="12,5x0"), dict(rows[4], pay_period_end="2026-13-45"),
           dict(rows[5], employee_number="")]
    mixed = good[:1] + bad[:1] + good[1:2] + bad[1:] + good[2:] + rows[6:]
    path = world.payroll.write(mixed, end, world.tick(), "injected:bad_payroll_rows")
    lines = [world.payroll.last_lines[mixed.index(b)] for b in bad]
    return {"file": path.name, "bad_lines": lines}


@kind("payroll_missing_column")
def _missing_col(app, world, column: str = "annual_base_salary") -> dict:
    end, rows = _latest(world)
    cols = tuple(c for c in COLUMNS if c != column)
    path = world.payroll.write(rows, end, world.tick(), "injected:payroll_missing_column", columns=cols)
    return {"file": path.name, "missing": column}


@kind("resend_payroll_file")
def _resend(app, world) -> dict:
    f = world.payroll.files[-1]
    path = world.payroll.inbox / f["file_name"]
    data = path.read_bytes()
    tmp = path.with_name(f".{path.name}.resend")
    tmp.write_bytes(data)
    tmp.replace(path)  # same name, same bytes: its SHA-256 is already known to the reader
    return {"file": path.name}


@kind("correct_payroll_file")
def _correct(app, world) -> dict:
    end = world.payroll.latest_end
    world.payroll.write_correction(end, world.tick(), n_changes=1)
    return {"file": world.payroll.files[-1]["file_name"]}


# -- toggles ----------------------------------------------------------------------------------------
@kind("expire_tokens")
def _expire(app, world) -> dict:
    n = len(app.tokens)
    app.tokens.clear()
    return {"expired": n}


@kind("lagging_lrs")
def _lagging(app, world, on: bool = True) -> dict:
    world.set_lagging(bool(on))
    return {"lagging": bool(on), "pending": int(world.xapi.pending.sum())}


@kind("no_filter")
def _no_filter(app, world, on: bool = True) -> dict:
    world.filter_supported = not bool(on)
    return {"filter_supported": world.filter_supported}
