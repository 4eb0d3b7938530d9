"""The provisioning plan: desired LMS users from the published HRIS data, matched to what the LMS
holds now, and the field-level changes between them (CONTRACT section 5).

Pure computation over two inputs (the published `reporting.dim_employee`, the LMS's users as SCIM
resources): nothing here talks HTTP or writes a table, so the plan is the same whoever asks.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from connectors.scim_provision import Capabilities
from orchestration.lib.provisioning.fields import (
    ACTIVE,
    EXTERNAL_ID,
    FIELDS,
    RATE_FIELDS,
    USER_NAME,
    WORK_EMAIL,
    email_key,
    number_key,
    read_fields,
)

PENDING = "new:"   # a manager's LMS id not known until the manager is created: "new:<employee number>"
ACTIONS = ("create", "update", "reactivate", "deactivate", "skip", "conflict")


@dataclass(slots=True)
class Person:
    employee_number: str
    email: str | None
    full_name: str | None
    title: str | None
    department: str | None
    division: str | None
    cost_center: str | None
    manager: str | None          # the manager's employee number
    active: bool                 # what the LMS should say
    terminated: bool             # positive evidence: HRIS inactive, or a termination date reached
    absent_only: bool            # inactive only because missing from a full pull: not evidence
    in_scope: bool

    def values(self, manager_id: str | None) -> dict[str, Any]:
        return {"userName": self.email, "externalId": self.employee_number, "displayName": self.full_name,
                "name.formatted": self.full_name, "title": self.title, "emails.work": self.email,
                "active": self.active, "employeeNumber": self.employee_number, "department": self.department,
                "division": self.division, "costCenter": self.cost_center, "manager": manager_id}


@dataclass
class UserChange:
    action: str                                   # create | update | reactivate | deactivate
    employee_number: str
    target_id: str | None
    fields: list[tuple[str, Any, Any]]            # (field, before, after); after may be PENDING+number
    depth: int = 0                                # management depth among this plan's creates


@dataclass
class Note:
    """A row of the plan that is never sent: a skipped attribute or a conflict."""
    action: str                                   # skip | conflict
    employee_number: str | None
    target_id: str | None
    field: str | None
    before: Any = None
    after: Any = None


@dataclass
class Plan:
    changes: list[UserChange]
    notes: list[Note]
    people_in_scope: int
    matched_in_scope: int
    unmatched_lms_users: int
    lms_users: int
    deactivations: int
    rate_changes: int
    max_deactivations: int
    max_change_rate: float
    desired: dict[str, dict[str, Any]] = field(default_factory=dict)   # employee number -> values
    lms_id: dict[str, str] = field(default_factory=dict)               # employee number -> LMS id

    @property
    def change_rate(self) -> float:
        return self.rate_changes / self.matched_in_scope if self.matched_in_scope else 0.0

    @property
    def held_by(self) -> list[str]:
        out = []
        if self.deactivations > self.max_deactivations:
            out.append(f"{self.deactivations} deactivations > BRIDGE_PROVISIONING_MAX_DEACTIVATIONS "
                       f"{self.max_deactivations}")
        if self.change_rate > self.max_change_rate:
            out.append(f"{self.rate_changes}/{self.matched_in_scope} users ({self.change_rate:.1%}) change title, "
                       f"department, division or manager > BRIDGE_PROVISIONING_MAX_CHANGE_RATE "
                       f"{self.max_change_rate:.0%}")
        return out

    def counts(self) -> dict[str, int]:
        c = Counter(ch.action for ch in self.changes)
        c.update(n.action for n in self.notes)
        return {a: c.get(a, 0) for a in ACTIONS}


def read_people(con: duckdb.DuckDBPyConnection, as_of: date,
                scope: tuple[tuple[str, frozenset[str]], ...] = ()) -> list[Person]:
    """Everyone in the published `reporting.dim_employee`, with the LMS's desired view of them."""
    rows = con.execute(
        "select employee_number, email, full_name, coalesce(canonical_job_title, source_title), department, "
        "division, cost_center, manager_employee_number, coalesce(is_active, false), termination_date, "
        "termination_reason, division, department from reporting.dim_employee order by employee_number"
    ).fetchall()
    people = []
    for en, email, name, title, dept, div, cc, mgr, is_active, term, reason, sdiv, sdept in rows:
        ended = term is not None and term <= as_of
        absent_only = not is_active and reason == "absent_from_source" and not ended
        in_scope = all((sdiv if key == "division" else sdept) in allowed for key, allowed in scope)
        people.append(Person(str(en), email.strip().lower() if email else None, name, title, dept, div, cc,
                             str(mgr) if mgr is not None else None, bool(is_active) and not ended,
                             (not is_active or ended) and not absent_only, absent_only, in_scope))
    return people


@dataclass(slots=True)
class LmsUser:
    """What a plan keeps of one LMS user: its id, its match keys, and the current value of every
    field (FIELDS order), read once. Not the resource: 100,000 of those held ~400 MB."""
    id: str
    ext_key: str | None
    user_key: str | None
    mail_key: str | None
    current: tuple[Any, ...]


def lms_user(resource: dict[str, Any]) -> LmsUser:
    current = read_fields(resource)
    return LmsUser(str(resource.get("id")), number_key(current[EXTERNAL_ID]), email_key(current[USER_NAME]),
                   email_key(current[WORK_EMAIL]), current)


def _candidates(people: list[Person], users: list[LmsUser]) -> dict[str, list[int]]:
    """For each person, the LMS users found at the first tier that finds any: externalId, then
    userName, then work e-mail."""
    by_ext: dict[str, list[int]] = defaultdict(list)
    by_user: dict[str, list[int]] = defaultdict(list)
    by_mail: dict[str, list[int]] = defaultdict(list)
    for i, u in enumerate(users):
        if u.ext_key is not None:
            by_ext[u.ext_key].append(i)
        if u.user_key is not None:
            by_user[u.user_key].append(i)
        if u.mail_key is not None:
            by_mail[u.mail_key].append(i)
    found = {}
    for p in people:
        found[p.employee_number] = (by_ext.get(number_key(p.employee_number) or "")
                                    or (by_user.get(p.email) if p.email else None)
                                    or (by_mail.get(p.email) if p.email else None) or [])
    return found


def build_plan(people: list[Person], resources: Iterable[dict[str, Any]], caps: Capabilities, *,
               max_deactivations: int = 25, max_change_rate: float = 0.10) -> Plan:
    """`resources` may be a generator over the LMS's pages: each resource is reduced to an
    `LmsUser` as it arrives, so the whole listing is never held as JSON."""
    users = [lms_user(r) for r in resources]
    supported_at = [i for i, f in enumerate(FIELDS) if f.supported(caps)]
    supported = [FIELDS[i] for i in supported_at]
    notes: list[Note] = [Note("skip", None, None, f.name, None, "not declared by the LMS")
                         for f in FIELDS if not f.supported(caps)]
    found = _candidates(people, users)

    # who claims which LMS user; two candidates, or a user claimed twice, is a conflict
    claims: dict[int, list[str]] = defaultdict(list)
    conflicted: set[str] = set()
    for p in people:
        cands = found[p.employee_number]
        if len(cands) > 1:
            conflicted.add(p.employee_number)
            for i in cands:
                notes.append(Note("conflict", p.employee_number, users[i].id, "candidates",
                                  None, f"{len(cands)} LMS users match"))
        elif cands:
            claims[cands[0]].append(p.employee_number)
    match: dict[str, int] = {}
    for i, ens in claims.items():
        if len(ens) > 1:
            for en in ens:
                conflicted.add(en)
                notes.append(Note("conflict", en, users[i].id, "candidates", None,
                                  f"the LMS user matches {len(ens)} employees"))
        else:
            match[ens[0]] = i
    lms_id = {en: users[i].id for en, i in match.items()}

    by_number = {p.employee_number: p for p in people}
    creating = {p.employee_number for p in people
                if p.in_scope and p.active and p.email and p.employee_number not in match
                and p.employee_number not in conflicted}

    def manager_value(p: Person) -> str | None:
        if p.manager is None:
            return None
        if p.manager in lms_id:
            return lms_id[p.manager]
        if p.manager in creating:
            return PENDING + p.manager
        return None

    def depth(en: str) -> int:
        d, seen = 0, {en}
        m = by_number[en].manager
        while m in creating and m not in seen:      # managers created before their reports
            seen.add(m)
            d += 1
            m = by_number[m].manager
        return d

    changes: list[UserChange] = []
    desired: dict[str, dict[str, Any]] = {}
    matched_in_scope = rate_changes = deactivations = 0
    for p in people:
        if not p.in_scope or p.employee_number in conflicted:
            continue
        values = p.values(manager_value(p))
        wanted = {f.name: values[f.name] for f in supported}
        if p.employee_number in creating:
            desired[p.employee_number] = wanted
            changes.append(UserChange("create", p.employee_number, None,
                                      [(n, None, v) for n, v in wanted.items() if v is not None],
                                      depth(p.employee_number)))
            continue
        i = match.get(p.employee_number)
        if i is None:
            continue
        matched_in_scope += 1
        current = users[i].current
        uid = lms_id[p.employee_number]
        lms_active = bool(current[ACTIVE])
        if p.absent_only:
            if lms_active:
                notes.append(Note("skip", p.employee_number, uid, "active", "true",
                                  "absent_from_source: not evidence of a termination"))
            continue
        if not p.active:
            if lms_active and p.terminated and "active" in wanted:
                deactivations += 1
                desired[p.employee_number] = {"active": False}
                changes.append(UserChange("deactivate", p.employee_number, uid, [("active", True, False)]))
            continue
        # most users are unchanged on most nights: equal values are the same values (the desired
        # ones are text, None or, for `active`, a bool, as the current `active` is)
        if all(current[k] == values[f.name] for k, f in zip(supported_at, supported, strict=True)):
            continue
        # a field the LMS does not hold (None; `active` is always a bool) differs from any wanted value
        diffs = [(f.name, now, want) for k, f in zip(supported_at, supported, strict=True)
                 if (want := wanted[f.name]) is not None and (now := current[k]) != want
                 and (now is None or not f.same(now, want))]
        if not diffs:
            continue
        desired[p.employee_number] = wanted
        action = "reactivate" if not lms_active and "active" in wanted else "update"
        if any(name in RATE_FIELDS for name, _, _ in diffs):
            rate_changes += 1
        changes.append(UserChange(action, p.employee_number, uid, diffs))

    claimed = set(match.values())
    return Plan(changes=changes, notes=notes, people_in_scope=sum(p.in_scope for p in people),
                matched_in_scope=matched_in_scope, unmatched_lms_users=len(users) - len(claimed),
                lms_users=len(users), deactivations=deactivations, rate_changes=rate_changes,
                max_deactivations=max_deactivations, max_change_rate=max_change_rate,
                desired=desired, lms_id=lms_id)

