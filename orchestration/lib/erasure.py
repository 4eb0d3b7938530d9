"""Erasure of one person on request (GDPR art. 17), and the retention rule that uses it.

`erase` works on the work file in one transaction:
- finds the person's identifiers (employee number, SCIM ids, e-mails, LMS user ids, xAPI
  mbox_sha1sums) in the raw version logs;
- stores their salted hashes (HMAC-SHA256, `BRIDGE_PSEUDONYM_KEY`) as the suppression list,
  then applies it to every raw version log with the same code the lander uses
  (connectors/suppression.py): records about the person are deleted, references to them in
  other people's records become their pseudonym `erased-<hmac>`;
- drops the SCIM ids a full pull in progress cached (`bridge_state.scim_seen`);
- replaces the person's identifiers in the audit trail's text columns by the pseudonym;
- appends one `audit.erasure` row: reason, when, counts per table; no personal data;
- forgets the incremental models' builds, so the next build makes them from raw again
  (orchestration/lib/dbt_incremental.py).

The built and published tables are then rebuilt and republished through the normal gate by
a run without extraction (`bridge erase`), or by the nightly run itself (retention), and the
work file is rewritten (`compact_work_file`) so the deleted rows' bytes are gone from disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from connectors.errors import ConfigError
from connectors.landing import RAW_STREAMS, raw_table
from connectors.suppression import (
    EMAIL,
    EMPLOYEE_NUMBER,
    KEY_VARIABLE,
    LMS_USER_ID,
    MBOX_SHA1,
    NAME,
    SCIM_ID,
    Suppressor,
    identifier_hash,
    key_from,
    normalise,
    pseudonym,
)
from orchestration.lib import dbt_incremental
from orchestration.lib.warehouse import WarehousePaths, connect_scratch

RETENTION_VARIABLE = "BRIDGE_RETENTION_DAYS_AFTER_TERMINATION"
PAYROLL_RETENTION_VARIABLE = "BRIDGE_PAYROLL_RETENTION_DAYS"
_ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
_EMP = "urn:hris-lms-bridge:scim:extension:employment:1.0:User"
# audit tables whose rows are about the erasure machinery itself (no identifiers in them)
_AUDIT_UNTOUCHED = {"erasure", "suppression"}


class ErasureError(ValueError):
    """The erasure was not done; the message says why in one line, naming no personal data."""


def pseudonym_key(settings) -> bytes:
    """The key from the settings, or a one-line error naming the variable (never its value)."""
    try:
        return key_from(settings.extra.get(KEY_VARIABLE), needed_for="to erase people or apply retention")
    except ConfigError as exc:
        raise ErasureError(str(exc)) from None


@dataclass
class Person:
    employee_number: str                # normalised
    scim_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)         # as found (case kept: xAPI sha1 is of the exact mbox)
    user_names: set[str] = field(default_factory=set)
    lms_user_ids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)          # full and display names
    name_parts: set[str] = field(default_factory=set)     # given and family names nobody else has

    def identifiers(self) -> list[tuple[str, str]]:
        ids = [(EMPLOYEE_NUMBER, self.employee_number)]
        ids += [(SCIM_ID, i) for i in self.scim_ids] + [(LMS_USER_ID, i) for i in self.lms_user_ids]
        ids += [(EMAIL, e) for e in self.emails | self.user_names]
        # looked for in other people's free text only (a given name alone too: "thanks Zoë")
        ids += [(NAME, n) for n in self.names | self.name_parts]
        for e in self.emails:
            for form in {e.strip(), e.strip().lower()}:
                ids.append((MBOX_SHA1, hashlib.sha1(f"mailto:{form}".encode()).hexdigest()))
        return ids

    @property
    def found(self) -> bool:
        return bool(self.scim_ids or self.lms_user_ids)


def find_person(con: duckdb.DuckDBPyConnection, employee_number: str) -> Person:
    """Every identifier the raw layer holds for one person (all versions: an old e-mail counts)."""
    number = normalise(EMPLOYEE_NUMBER, employee_number)
    person = Person(number)
    rows = con.execute(f"""
        select record_id, json_extract_string(payload, '$."{_ENT}".employeeNumber'),
               json_extract_string(payload, '$.emails[*].value'), json_extract_string(payload, '$.userName'),
               json_extract_string(payload, ['$.displayName', '$.name.formatted', '$.name.givenName',
                                             '$.name.familyName'])
        from raw.hris__users""").fetchall()
    others: set[str] = set()      # given and family names of everyone else
    for scim_id, emp, emails, user_name, (display, formatted, given, family) in rows:
        if emp is None or normalise(EMPLOYEE_NUMBER, emp) != number:
            others.update(normalise(NAME, n) for n in (given, family) if n)
        else:
            person.scim_ids.add(scim_id)
            person.emails.update(e for e in emails or [] if e)
            if user_name:
                person.user_names.add(user_name)
            full = " ".join(p for p in (given, family) if p)
            person.names.update(n.strip() for n in (display, formatted, full) if n and n.strip())
            person.name_parts.update(n.strip() for n in (given, family) if n and n.strip())
    # a given or family name alone identifies them only where nobody else has it: "thanks James"
    # in a team of five Jameses stays as written
    person.name_parts = {n for n in person.name_parts if normalise(NAME, n) not in others}
    lowered = {normalise(EMAIL, e) for e in person.emails}
    for lms_id, emp, email in con.execute("""
            select record_id, json_extract_string(payload, '$.employee_number'),
                   json_extract_string(payload, '$.email') from raw.lms__users""").fetchall():
        if (emp is not None and normalise(EMPLOYEE_NUMBER, emp) == number) or \
                (email and normalise(EMAIL, email) in lowered):
            person.lms_user_ids.add(lms_id)
            if email:
                person.emails.add(email)
    return person


@dataclass
class ErasureResult:
    erasure_id: str
    pseudonym: str
    removed: dict[str, int]
    pseudonymised: dict[str, int]
    dry_run: bool
    free_text: dict[str, int] = field(default_factory=dict)    # records kept whose free text named them
    audit_pattern: str = field(default="", repr=False)     # names the person: never printed or stored
    person: Person | None = field(default=None, repr=False)

    def lines(self) -> list[str]:
        verb, verb2 = ("would remove", "would pseudonymise") if self.dry_run else ("removed", "pseudonymised")
        out = [f"erasure {self.erasure_id} (pseudonym {self.pseudonym}):"]
        for table in sorted(set(self.removed) | set(self.pseudonymised)):
            r, p = self.removed.get(table, 0), self.pseudonymised.get(table, 0)
            if r or p:
                out.append(f"  {table:<36} {verb} {r:>6} rows, {verb2} {p:>5} rows")
        for table, n in sorted(self.free_text.items()):
            out.append(f"  {table:<36} {verb2} their name in the free text of {n} other people's rows")
        return out


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _audit_pattern(person: Person) -> str:
    """One regular expression matching any identifier of the person as a whole word (the
    employee number with or without leading zeros). Not a given or family name alone: audit
    columns hold keys and reasons, where "Field" or "Day" is no one's name."""
    values = person.scim_ids | person.lms_user_ids | person.emails | person.user_names | person.names
    alternatives = sorted((re.escape(v) for v in values if v), key=len, reverse=True)
    alternatives.append("0*" + re.escape(person.employee_number))
    return r"\b(?:" + "|".join(alternatives) + r")\b"


# the audit columns that carry record keys or values (sample keys of a failed check, quarantined
# records' references and reasons, provisioning's changes); counts and check names are left alone
_AUDIT_KEY_COLUMNS = ("sample_keys", "record_ref", "reason", "employee_number", "value_before", "value_after",
                      "error")


def _audit_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return [(t, c) for t, c in con.execute(
        "select table_name, column_name from information_schema.columns where table_catalog = current_database() "
        "and table_schema = 'audit' and data_type = 'VARCHAR' and column_name in (select unnest(?::varchar[])) "
        "order by 1, 2", [list(_AUDIT_KEY_COLUMNS)]).fetchall()
        if t not in _AUDIT_UNTOUCHED]


def erase(con: duckdb.DuckDBPyConnection, key: bytes, employee_number: str, reason: str, *,
          trigger: str = "request", run_id: str | None = None, dry_run: bool = False) -> ErasureResult:
    """Erase one person from the raw layer, connector state and audit trail (one transaction)."""
    if not reason or not reason.strip():
        raise ErasureError("an erasure needs a reason (--reason)")
    person = find_person(con, employee_number)
    if not person.found:
        raise ErasureError(f"no HRIS or LMS record has employee number {employee_number!r}; nothing was erased")
    alias = pseudonym(key, person.employee_number)
    suppressor = Suppressor(key, {identifier_hash(key, k, v): alias for k, v in person.identifiers()})
    erasure_id = str(uuid.uuid4())
    removed: dict[str, int] = {}
    pseudonymised: dict[str, int] = {}
    con.begin()
    try:
        for source, streams in RAW_STREAMS.items():
            for stream in streams:
                table = raw_table(source, stream)
                dropped, rewritten = suppressor.apply(con, table, source, stream, rehash=True, dry_run=dry_run)
                removed[table], pseudonymised[table] = dropped, rewritten
        ids = sorted(person.scim_ids)
        where = "id in (select unnest(?::varchar[]))"
        verb = "select count(*) from" if dry_run else "delete from"
        removed["bridge_state.scim_seen"] = con.execute(f"{verb} bridge_state.scim_seen where {where}",
                                                        [ids]).fetchall()[0][0]
        pattern = _audit_pattern(person)
        for table, column in _audit_columns(con):
            hit = f"regexp_matches({column}, ?, 'i')"
            n = con.execute(f"select count(*) from audit.{table} where {hit}", [pattern]).fetchall()[0][0]
            if n and not dry_run:
                con.execute(f"update audit.{table} set {column} = regexp_replace({column}, ?, ?, 'gi') "
                            f"where {hit}", [pattern, alias, pattern])
            if n:
                pseudonymised[f"audit.{table}"] = pseudonymised.get(f"audit.{table}", 0) + n
        if not dry_run:
            # the incremental models hold rows built from what was just deleted or rewritten
            dbt_incremental.forget(con)
            con.execute("""insert or ignore into bridge_state.suppressed_identifier
                           select unnest(?::varchar[]), ?, ?, ?""",
                        [sorted(suppressor.hashes), alias, erasure_id, _now()])
            con.execute("insert into audit.erasure values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, erasure_id, _now(), trigger, reason.strip(), alias,
                         json.dumps({k: v for k, v in removed.items() if v}, sort_keys=True),
                         json.dumps({k: v for k, v in pseudonymised.items() if v}
                                    | {f"{t}:free_text": n for t, n in suppressor.free_text.items() if n},
                                    sort_keys=True)])
    except BaseException:
        con.rollback()
        raise
    if dry_run:
        con.rollback()
    else:
        con.commit()
        work = WarehouseFile.of(con)
        mark_for_compaction(work)
        if work is not None:    # past runs' Data Docs pages show failing checks' sample keys
            scrub_files(work.path.parent / "data_docs", pattern, alias)
    free_text = {t: n for t, n in suppressor.free_text.items() if n}
    return ErasureResult(erasure_id, alias, removed, pseudonymised, dry_run, free_text, pattern, person)


def deactivate_in_lms(settings, *people: Person, dry_run: bool = False) -> list[int] | None:
    """With provisioning on (CONTRACT section 5), deactivate each person's active LMS accounts
    (found by the enterprise extension's employee number, else the work e-mail); in `plan`
    mode, or with `dry_run`, only count them. Their HRIS record is gone, so provisioning would
    never do it. Returns the accounts (to be) deactivated per person, the LMS's users listed
    once however many people; None when provisioning is off."""
    from connectors.scim_provision import ScimTarget
    from orchestration.lib.provisioning.config import ProvisioningConfig
    from orchestration.lib.provisioning.fields import email_key, number_key, work_email
    from orchestration.lib.provisioning.run import target_config

    cfg = ProvisioningConfig.from_settings(settings)
    if cfg.mode not in ("plan", "apply"):
        return None
    counts = []
    with ScimTarget(target_config(cfg)) as target:
        users = [u for u in target.all_users() if u.get("active", True) is not False]
        for person in people:
            emails = {normalise(EMAIL, e) for e in person.emails}
            active = [u for u in users
                      if number_key((u.get(_ENT) or {}).get("employeeNumber")) == person.employee_number
                      or email_key(work_email(u)) in emails]
            if not dry_run and cfg.mode == "apply":
                for user in active:
                    target.patch(str(user["id"]), [{"op": "replace", "path": "active", "value": False}])
            counts.append(len(active))
    return counts


@dataclass(frozen=True)
class LmsDeactivation:
    """What an erasure did to the person's LMS accounts."""
    done: bool              # deactivated (apply), not only counted (plan mode, dry run)
    accounts: int | None    # None: the LMS could not be reached or refused

    @property
    def audit_key(self) -> str:
        if self.accounts is None:
            return "lms:accounts_deactivation_failed"
        return "lms:accounts_deactivated" if self.done else "lms:accounts_to_deactivate"

    def line(self) -> str:
        if self.accounts is None:
            return "LMS account: deactivation failed; deactivate it in the LMS"
        return f"LMS accounts {'deactivated' if self.done else 'to deactivate'}: {self.accounts}"


def deactivate_and_record(con: duckdb.DuckDBPyConnection, settings,
                          *results: ErasureResult) -> list[LmsDeactivation] | None:
    """The LMS side of erasures, on request or by retention alike: deactivate each person's
    accounts (or count them in `plan` mode and dry runs) and add the count to the erasure's
    audit row (its `removed` counts). None when provisioning is off. A failure leaves the
    erasures as done and is recorded, naming nothing (its text could quote the LMS's data)."""
    from orchestration.lib.provisioning.config import ProvisioningConfig

    mode = ProvisioningConfig.from_settings(settings).mode
    results = tuple(r for r in results if r.person is not None)
    if mode not in ("plan", "apply") or not results:
        return None
    dry_run = any(r.dry_run for r in results)
    done = mode == "apply" and not dry_run
    try:
        counts = deactivate_in_lms(settings, *(r.person for r in results), dry_run=not done)
    except Exception:   # noqa: BLE001  the erasures stand; the operator finishes this by hand
        counts = [None] * len(results)
    outcomes = [LmsDeactivation(done, n) for n in counts]
    for result, outcome in zip(results, outcomes, strict=True):
        if result.dry_run:
            continue
        [(removed,)] = con.execute("select removed from audit.erasure where erasure_id = ?",
                                   [result.erasure_id]).fetchall()
        recorded = json.loads(removed or "{}") | {
            outcome.audit_key: 1 if outcome.accounts is None else outcome.accounts}
        con.execute("update audit.erasure set removed = ? where erasure_id = ?",
                    [json.dumps(recorded, sort_keys=True), result.erasure_id])
    return outcomes


def erase_postgres(con: duckdb.DuckDBPyConnection, url: str, *results: ErasureResult,
                   tables: tuple[str, ...] = ()) -> None:
    """The same erasures in a PostgreSQL warehouse: each raw table an erasure changed (and
    `tables`, raw tables changed otherwise, e.g. by payroll retention) is copied again from the
    work file, the audit trail's key columns are pseudonymised there too, and the tables are
    vacuumed (FULL: rewritten, so the deleted tuples' bytes are gone). The rebuild's schema
    swap then drops the previously published tables."""
    from orchestration.lib import pg_warehouse
    from orchestration.lib.postgres.connection import connect, parse_warehouse_url

    changed = sorted({t for r in results for t in set(r.removed) | set(r.pseudonymised)
                      if t.startswith("raw.") and (r.removed.get(t) or r.pseudonymised.get(t))} | set(tables))
    audit_changed = sorted({t for r in results for t in r.pseudonymised if t.startswith("audit.")})
    if not changed and not audit_changed:
        return
    pg_warehouse.ensure_ready(url)
    pg = connect(parse_warehouse_url(url), role=pg_warehouse.WRITER)
    try:
        with pg.cursor() as cur:
            for table in changed:
                cur.execute(f"delete from {table}")  # copied again whole by the mirror below
            for table in audit_changed:
                cur.execute("select column_name from information_schema.columns where table_schema = 'audit' "
                            "and table_name = %s and column_name = any(%s)", (table[6:], list(_AUDIT_KEY_COLUMNS)))
                columns = [c for (c,) in cur.fetchall()]
                for r in results:
                    pattern = r.audit_pattern.replace(r"\b", r"\y")     # PostgreSQL's word boundary
                    for column in columns:
                        cur.execute(f"update {table} set {column} = regexp_replace({column}, %s, %s, 'gi') "
                                    f"where {column} ~* %s", (pattern, r.pseudonym, pattern))
        pg.commit()
        pg_warehouse.mirror_raw(con, url)
        pg.autocommit = True        # VACUUM runs outside a transaction
        with pg.cursor() as cur:
            for table in changed + audit_changed:
                cur.execute(f"vacuum full {table}")
    finally:
        pg.close()


# The run that rebuilds and republishes after an erasure: the nightly job, every check and the
# publication gate included, with extraction skipped (Dagster cannot run the job without its
# extract steps: the quality checks are one step over raw feeds and models alike).
REBUILD_TAGS = {"bridge/extract": "skip"}


# --- retention -----------------------------------------------------------


def terminated_before(con: duckdb.DuckDBPyConnection, cutoff: date) -> list[str]:
    """Employee numbers (as the HRIS holds them) of people whose latest SCIM version shows a
    termination (a terminationDate, or absence from a full pull) before `cutoff`."""
    rows = con.execute(f"""
        select json_extract_string(payload, '$."{_ENT}".employeeNumber') as emp,
               try_cast(json_extract_string(payload, '$."{_EMP}".terminationDate') as date) as terminated,
               is_deleted, try_cast(left(source_updated_at, 10) as date) as stamp
        from raw.hris__users
        qualify row_number() over (partition by record_id order by batch_seq desc) = 1""").fetchall()
    due = set()
    for emp, terminated, is_deleted, stamp in rows:
        ended = terminated or (stamp if is_deleted else None)
        if emp and ended is not None and ended < cutoff:
            due.add(emp)
    return sorted(due)


def retention_days(settings, variable: str) -> int | None:
    """Days from the settings (checked, a whole number >= 0, by `Settings.from_env`); None when off."""
    return settings.get(variable)


def apply_retention(con: duckdb.DuckDBPyConnection, settings, run_id: str, as_of: date,
                    pg_url: str | None = None) -> dict[str, int]:
    """The nightly retention rules (both off by default); returns what they did. Each person
    is erased as `bridge erase` erases (their LMS accounts deactivated with provisioning on,
    counted in `plan` mode); with a PostgreSQL warehouse its raw and audit tables follow."""
    done = {"people_erased": 0, "payroll_rows_removed": 0, "lms_accounts": 0}
    days = retention_days(settings, RETENTION_VARIABLE)
    payroll_days = retention_days(settings, PAYROLL_RETENTION_VARIABLE)
    if days is None and payroll_days is None:
        return done
    key = pseudonym_key(settings)
    results = []
    if days is not None:
        for number in terminated_before(con, as_of - timedelta(days=days)):
            result = erase(con, key, number, f"retention: terminated more than {days} days before {as_of}",
                           trigger="retention", run_id=run_id)
            results.append(result)
            done["people_erased"] += 1
        lms = deactivate_and_record(con, settings, *results) or []
        done["lms_accounts"] = sum(o.accounts or 0 for o in lms)
    if payroll_days is not None:
        cutoff = as_of - timedelta(days=payroll_days)
        con.begin()
        n = con.execute("delete from raw.payroll__rows where period_end < ?", [cutoff]).fetchall()[0][0]
        if n:
            dbt_incremental.forget(con)
            con.execute("insert into audit.erasure values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, str(uuid.uuid4()), _now(), "payroll_retention",
                         f"payroll rows with period_end before {cutoff} ({payroll_days} days)", None,
                         json.dumps({"raw.payroll__rows": n}), "{}"])
        con.commit()
        done["payroll_rows_removed"] = int(n)
    if pg_url and (results or done["payroll_rows_removed"]):
        erase_postgres(con, pg_url, *results, tables=("raw.payroll__rows",) if done["payroll_rows_removed"] else ())
    if done["people_erased"] or done["payroll_rows_removed"]:
        mark_for_compaction(WarehouseFile.of(con))
    return done


# --- the work file's bytes -------------------------------------------------


@dataclass(frozen=True)
class WarehouseFile:
    path: Path

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection) -> WarehouseFile | None:
        """The connection's database file (None in memory)."""
        path = con.execute("select path from duckdb_databases() where database_name = current_database()"
                           ).fetchall()[0][0]
        return cls(Path(path)) if path else None

    @property
    def marker(self) -> Path:
        return self.path.with_name(self.path.name + ".erased")


def mark_for_compaction(work: WarehouseFile | None) -> None:
    """Deleted rows stay in DuckDB's blocks until reused: the file must be rewritten once no
    process holds it (`compact_work_file`, after the run)."""
    if work is not None:
        work.marker.touch()


def scrub_files(root: Path, pattern: str, alias: str) -> int:
    """Replace the person's identifiers by the pseudonym in the text files under `root`."""
    rx = re.compile(pattern, re.IGNORECASE)
    changed = 0
    for path in root.rglob("*") if root.is_dir() else []:
        if path.is_file() and path.suffix in (".html", ".json", ".csv", ".txt", ".md"):
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            new = rx.sub(alias, text)
            if new != text:
                path.write_text(new, encoding="utf-8", errors="surrogateescape")
                changed += 1
    return changed


def _drop_stale_reports(report: Path) -> None:
    """The report site keeps its previous version beside the current one for readers mid-read;
    after an erasure only the current one (built from the republished tables) may stay."""
    if not report.is_symlink():
        return
    current = os.readlink(report)
    for old in report.parent.glob(f".{report.name}.*"):
        if old.is_dir() and not old.is_symlink() and old.name != current:
            shutil.rmtree(old, ignore_errors=True)


def compact_work_file(paths: WarehousePaths, *, force: bool = False) -> bool:
    """Rewrite the work file into a new one (only live rows travel) and rename it into place,
    when an erasure asked for it. The caller holds no connection to it. Returns True if done."""
    work = WarehouseFile(paths.work)
    if not (force or work.marker.exists()) or not paths.work.exists():
        return False
    tmp = paths.work.with_name(f".{paths.work.name}.compact.tmp")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    con = connect_scratch(paths)
    try:
        con.execute(f"attach '{paths.work}' as old_work (read_only)")
        con.execute(f"attach '{tmp}' as new_work")
        con.execute("copy from database old_work to new_work")
        con.execute("detach old_work")
        con.execute("checkpoint new_work")
        con.execute("detach new_work")
    finally:
        con.close()
    os.chmod(tmp, 0o600)
    os.replace(tmp, paths.work)
    Path(f"{paths.work}.wal").unlink(missing_ok=True)
    _drop_stale_reports(paths.report)
    work.marker.unlink(missing_ok=True)
    return True
