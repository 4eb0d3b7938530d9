"""Applying a plan to the LMS: managers before their reports, POST and PATCH only, one result per
change, a failing user never stops the others, then every changed user read back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from connectors.errors import HttpStatusError, SourceError
from connectors.scim_provision import Capabilities, ScimTarget, scim_failure
from orchestration.lib.provisioning.audit_rows import TARGET, now
from orchestration.lib.provisioning.fields import BY_NAME, new_resource, number_key
from orchestration.lib.provisioning.plan import PENDING, Note, Plan, UserChange

FLUSH_ROWS = 200
FLUSH_SECONDS = 2.0


@dataclass
class ApplyReport:
    statuses: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    read_back_differences: list[tuple[str, str]] = field(default_factory=list)   # (employee number, field)
    conflicts: list[Note] = field(default_factory=list)                        # 409s on create

    def add(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


class _Targets:
    """One SCIM client per worker thread (a requests Session is not meant to be shared)."""

    def __init__(self, connect: Callable[[], ScimTarget]) -> None:
        self._connect, self._local, self._all = connect, threading.local(), []
        self._lock = threading.Lock()

    def get(self) -> ScimTarget:
        target = getattr(self._local, "target", None)
        if target is None:
            target = self._local.target = self._connect()
            with self._lock:
                self._all.append(target)
        return target

    def close(self) -> None:
        for t in self._all:
            t.close()


def held_results(run_id: str, plan: Plan) -> list[tuple]:
    at = now()
    return [(run_id, TARGET, ch.employee_number, ch.target_id, ch.action, "held", None,
             "plan held by a safeguard: " + "; ".join(plan.held_by), at) for ch in plan.changes]


def apply_plan(plan: Plan, caps: Capabilities, connect: Callable[[], ScimTarget], run_id: str, *,
               workers: int = 4, record: Callable[[list[tuple]], None]) -> ApplyReport:
    """Send the plan. `record` receives result rows as each wave finishes (so a process killed
    mid-apply keeps the rows of what it did; the next plan starts from what the LMS then holds)."""
    report = ApplyReport()
    targets = _Targets(connect)
    lms_id = dict(plan.lms_id)
    applied: list[UserChange] = []

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PENDING):
            return lms_id.get(value[len(PENDING):])     # None if the manager's create failed
        return value

    def one(ch: UserChange) -> tuple:
        target = targets.get()
        status, http_status, error = "applied", None, None
        try:
            if ch.action == "create":
                values = {name: resolve(after) for name, _, after in ch.fields}
                created = target.create(new_resource(values, caps))
                ch.target_id = str((created or {}).get("id") or "") or None
                http_status = 201
            elif not caps.patch_supported:
                status, error = "failed", "the LMS declares PATCH unsupported (ServiceProviderConfig)"
            else:
                ops = [BY_NAME[name].operation(resolve(after)) for name, _, after in ch.fields
                       if resolve(after) is not None]
                if not ops:     # only a manager whose own create failed: nothing to send this time
                    return (run_id, TARGET, ch.employee_number, ch.target_id, ch.action, "failed", None,
                            "its manager's LMS user could not be created", now())
                target.patch(ch.target_id, ops)
                http_status = 200
        except HttpStatusError as exc:
            if ch.action == "create" and exc.status == 409:
                return _conflict_on_create(target, caps, ch, run_id, exc, report)
            status, http_status, error = "failed", exc.status, scim_failure(exc).text()
        except SourceError as exc:
            status, http_status, error = "failed", exc.status, scim_failure(exc).text()
        return (run_id, TARGET, ch.employee_number, ch.target_id, ch.action, status, http_status, error, now())

    def wave(changes: list[UserChange]) -> None:
        """Send a batch concurrently; results are recorded every FLUSH_ROWS rows or FLUSH_SECONDS, so a
        process killed mid-apply keeps the rows of nearly all it did."""
        if not changes:
            return
        pending: list[tuple] = []
        flushed = time.monotonic()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="provision") as pool:
            futures = {pool.submit(one, ch): ch for ch in changes}
            for future in as_completed(futures):
                ch, row = futures[future], future.result()
                report.add(row[5])
                if row[5] in ("applied", "unchanged") and ch.target_id:
                    lms_id[ch.employee_number] = ch.target_id
                    applied.append(ch)
                pending.append(row)
                if len(pending) >= FLUSH_ROWS or time.monotonic() - flushed > FLUSH_SECONDS:
                    record(pending)
                    pending, flushed = [], time.monotonic()
        report.requests += len(changes)
        record(pending)

    try:
        creates = sorted((c for c in plan.changes if c.action == "create"), key=lambda c: c.depth)
        for depth in sorted({c.depth for c in creates}):
            wave([c for c in creates if c.depth == depth])
        wave([c for c in plan.changes if c.action != "create"])
        report.read_back_differences = _read_back(plan, applied, lms_id, targets, workers, resolve, report)
    finally:
        targets.close()
    return report


def _conflict_on_create(target: ScimTarget, caps: Capabilities, ch: UserChange, run_id: str,
                        exc: HttpStatusError, report: ApplyReport) -> tuple:
    """A 409: the userName is taken. If the holder is this very person (our own earlier try whose
    answer was lost), it is done; otherwise it is a conflict for the identity exceptions."""
    user_name = next((after for name, _, after in ch.fields if name == "userName"), None)
    holders: list[dict] = []
    if user_name and caps.filter_supported:
        try:
            holders = target.find("userName", user_name)
        except SourceError:
            holders = []
    mine = [h for h in holders if number_key(h.get("externalId")) == number_key(ch.employee_number)]
    if len(mine) == 1:
        ch.target_id = str(mine[0].get("id"))
        return (run_id, TARGET, ch.employee_number, ch.target_id, ch.action, "unchanged", 409,
                "already created (an earlier attempt)", now())
    holder = str(holders[0].get("id")) if len(holders) == 1 else None
    report.conflicts.append(Note("conflict", ch.employee_number, holder, "userName", None,
                                 "409 on create: the userName is held by another LMS user"))
    return (run_id, TARGET, ch.employee_number, holder, ch.action, "failed", 409,
            "conflict: " + scim_failure(exc).text(), now())


def _read_back(plan: Plan, applied: list[UserChange], lms_id: dict[str, str], targets: _Targets, workers: int,
               resolve: Callable[[Any], Any], report: ApplyReport) -> list[tuple[str, str]]:
    """Read every changed user again and compare with the desired state (a difference is a warn
    finding: the LMS accepted a write but keeps something else, e.g. a read-only attribute)."""
    def check(ch: UserChange) -> list[tuple[str, str]]:
        try:
            current = targets.get().get_user(ch.target_id)
        except SourceError:
            return [(ch.employee_number, "(unreadable)")]
        if current is None:
            return [(ch.employee_number, "(missing)")]
        wanted = plan.desired.get(ch.employee_number, {})
        return [(ch.employee_number, name) for name, value in wanted.items()
                if (v := resolve(value)) is not None and not BY_NAME[name].same(BY_NAME[name].read(current), v)]

    if not applied:
        return []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read-back") as pool:
        found = [d for ds in pool.map(check, applied) for d in ds]
    report.requests += len(applied)
    return found
