"""The DuckDB lander: raw version logs, connector state and audit rows.

Every page is landed in bulk: a batch of records travels to DuckDB as one
JSON array text (one C-level `json.dumps`), DuckDB splits it, extracts keys
and hashes the records, and appends only new or changed versions. The batch,
the cursor that describes it (and, for SCIM, the ids it saw) commit in one
transaction, so a crash at any instant neither skips nor doubles data.

A feed whose records Python does not hold (xAPI, LMS, check-ins) hands over the
page texts as served instead (`land_pages`): DuckDB picks the records out of each
page, and the payload is the record as served, minified by DuckDB, keys in served
order (SCIM and payroll store Python's canonical sorted-key form). Such a feed can also
stage several groups of pages (`stage_pages`, bounded memory per group) and land
them in one transaction (`land_staged`): a transaction appending at least one
DuckDB row group (122,880 rows) is written straight to the database file at
commit ("optimistic writes"), while smaller ones go through the WAL and are
written again, recompressed, at every checkpoint until their row group fills.

Rows reach DuckDB as a few bulk parameters (a JSON array text, page texts, or
lists), not through Arrow: a DuckDB scan of an Arrow table imports pandas
(seconds of start-up per process), and JSON text is what DuckDB parses fastest.

The public surface (`Lander`) is what a Postgres lander (COPY into a temp
table, same SQL shape) would implement too.
"""
from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from . import progress
from .http import register_secrets
from .suppression import EMPLOYEE_NUMBER, SCIM_ID, STREAM_FIELDS, Suppressor

RAW_STREAMS: dict[str, tuple[str, ...]] = {
    "hris": ("users",),
    "xapi": ("statements",),
    "lms": ("users", "competency_frameworks", "competencies", "job_profiles", "courses",
            "assignments", "assessments", "reviews", "observations"),
    "checkins": ("objectives", "checkins"),
    "payroll": ("rows",),
}

_RAW_COLUMNS = """
    record_id varchar not null,
    payload json,
    record_hash varchar,
    source_updated_at varchar,
    is_deleted boolean,
    run_id varchar,
    batch_seq bigint not null,
    landed_at timestamp"""

_SCHEMA_DDL = [
    "create schema if not exists raw",
    "create schema if not exists bridge_state",
    "create sequence if not exists bridge_state.batch_seq start 1",
    """create table if not exists bridge_state.cursor (
        source varchar not null, stream varchar not null, cursor_value varchar, mode varchar,
        run_id varchar, updated_at timestamp, primary key (source, stream))""",
    """create table if not exists bridge_state.scim_seen (
        run_id varchar not null, id varchar not null, primary key (run_id, id))""",
    # erasure's suppression list (orchestration/lib/erasure.py): salted hashes, never an identifier
    """create table if not exists bridge_state.suppressed_identifier (
        identifier_hash varchar primary key, pseudonym varchar, erasure_id varchar, added_at timestamp)""",
    f"""create table if not exists raw.payroll__rows ({_RAW_COLUMNS},
        file_name varchar, file_sha256 varchar, line_number bigint, period_end date, exported_at timestamp)""",
    """create table if not exists raw.payroll__files (
        file_sha256 varchar primary key, file_name varchar, period_end date, exported_at timestamp,
        rows_loaded bigint, rows_quarantined bigint, status varchar, reason varchar, run_id varchar,
        landed_at timestamp)""",
    # exports an operator withdrew (`bridge payroll withdraw`): dbt staging counts them nowhere
    """create table if not exists raw.payroll__withdrawals (
        file_sha256 varchar, file_name varchar, reason varchar, requested_by varchar, withdrawn_at timestamp)""",
    """create table if not exists raw.hris__full_pulls (
        run_id varchar, pulled_at timestamp, pull_date date, users_seen bigint, users_marked_absent bigint)""",
]

# The audit schema (docs/contract.md): written by the connectors, the checks, dbt's results
# and the publication step alike; every writer creates it through ensure_audit_schema.
_AUDIT_DDL = [
    "create schema if not exists audit",
    """create table if not exists audit.pipeline_run (
        run_id varchar, started_at timestamp, finished_at timestamp, status varchar, code_version varchar,
        trigger varchar)""",
    """create table if not exists audit.source_extract (
        run_id varchar, source varchar, stream varchar, mode varchar, cursor_from varchar, cursor_to varchar,
        records bigint, pages bigint, bytes bigint, checksum varchar, started_at timestamp,
        finished_at timestamp, new_versions bigint, duplicates_absorbed bigint, quarantined bigint)""",
    """create table if not exists audit.dq_result (
        run_id varchar, check_name varchar, target_table varchar, severity varchar, success boolean,
        observed_value varchar, unexpected_count bigint, sample_keys varchar, evaluated_at timestamp,
        engine varchar)""",
    """create table if not exists audit.publication (
        run_id varchar, decided_at timestamp, status varchar, blocked_by varchar, row_counts varchar)""",
    """create table if not exists audit.quarantine (
        run_id varchar, source varchar, stream varchar, record_ref varchar, reason varchar,
        quarantined_at timestamp)""",
    # provisioning the LMS (CONTRACT sections 4 and 5): the plan, then one result per change
    """create table if not exists audit.provisioning_change (
        run_id varchar, target varchar, employee_number varchar, target_id varchar, action varchar,
        field varchar, value_before varchar, value_after varchar, planned_at timestamp)""",
    """create table if not exists audit.provisioning_result (
        run_id varchar, target varchar, employee_number varchar, target_id varchar, action varchar,
        status varchar, http_status integer, error varchar, attempted_at timestamp)""",
    # erasure (orchestration/lib/erasure.py): salted hashes only, never an identifier
    """create table if not exists audit.erasure (
        run_id varchar, erasure_id varchar, erased_at timestamp, trigger varchar, reason varchar,
        pseudonym varchar, removed varchar, pseudonymised varchar)""",
    """create table if not exists audit.suppression (
        run_id varchar, source varchar, stream varchar, records bigint, counted_at timestamp)""",
]


# audit.source_extract's columns after the contract's: of the `records` read, how many landed as
# new versions and how many were absorbed (pages re-read after a fault, overlaps, re-deliveries,
# unchanged records of a full pull); payroll rows quarantined
_EXTRACT_COUNTS = ("new_versions", "duplicates_absorbed", "quarantined")

# xAPI statements are large JSON texts: zstd compresses them ~2.5x better than DuckDB's default
# string compression and costs less time to write (new tables only; existing ones keep theirs)
PAYLOAD_TYPES = {("xapi", "statements"): "json using compression zstd"}

def raw_table(source: str, stream: str) -> str:
    if stream not in RAW_STREAMS.get(source, ()):
        raise ValueError(f"unknown raw stream {source}/{stream}")
    return f"raw.{source}__{stream}"


def utcnow() -> datetime:
    """Naive UTC: the warehouse's `timestamp` columns hold UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_audit_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the audit tables (idempotent)."""
    for ddl in _AUDIT_DDL:
        con.execute(ddl)
    # columns added after the contract's, for warehouses created before them
    for column in _EXTRACT_COUNTS:
        con.execute(f"alter table audit.source_extract add column if not exists {column} bigint")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw, bridge_state and audit table (idempotent)."""
    for ddl in _SCHEMA_DDL:
        con.execute(ddl)
    ensure_audit_schema(con)
    for source, streams in RAW_STREAMS.items():
        for stream in streams:
            if (source, stream) != ("payroll", "rows"):
                columns = _RAW_COLUMNS.replace("payload json,", f"payload {PAYLOAD_TYPES[source, stream]},") \
                    if (source, stream) in PAYLOAD_TYPES else _RAW_COLUMNS
                con.execute(f"create table if not exists {raw_table(source, stream)} ({columns})")
    # Warehouses created before batch_seq was declared not null (every batch sets it; a
    # version without one would sort nowhere in latest_versions): the database enforces it.
    for (table,) in con.execute(
        "select table_name from information_schema.columns where table_schema = 'raw' "
        "and column_name = 'batch_seq' and is_nullable = 'YES'"
    ).fetchall():
        con.execute(f"alter table raw.{table} alter column batch_seq set not null")


@dataclass(frozen=True)
class RecordSpec:
    """Where a stream's key, change stamp and tombstone flag sit in each record (JSON paths)."""
    id_path: str = "$.id"
    updated_path: str | None = "$.updated_at"
    deleted_path: str | None = None
    # a record without an id is keyed by sha256 of its payload text (deterministic across runs)
    id_from_hash: bool = False
    # a record, once landed, never changes (xAPI statements): a key already in the version log is
    # skipped without comparing hashes, an anti-join on record_id alone
    immutable: bool = False


@dataclass
class CursorWrite:
    value: dict[str, Any]
    mode: str


@dataclass
class ExtractAudit:
    """One audit.source_extract row, filled in as the extract runs."""
    run_id: str
    source: str
    stream: str
    mode: str = "incremental"
    cursor_from: str | None = None
    cursor_to: str | None = None
    records: int = 0
    pages: int = 0
    bytes: int = 0
    checksum: str | None = None
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    new_versions: int = 0
    quarantined: int = 0
    active_users: int = 0       # SCIM full pull: users live and active before it
    absent_held: int = 0        # SCIM full pull: absence terminations not applied (over the rate)

    @property
    def duplicates_absorbed(self) -> int:
        """Records read that landed no new version (the version log absorbed them)."""
        return max(self.records - self.new_versions, 0)


def _key_paths(spec: RecordSpec) -> str:
    """The JSON paths of a record's key and change stamp, as a DuckDB list literal (one parse reads both)."""
    paths = [spec.id_path] + ([spec.updated_path] if spec.updated_path else [])
    return ", ".join(f"'{p}'" for p in paths)


def canonical_json(records: Any) -> str:
    r"""Sorted keys, no spaces, non-ASCII as \u escapes (faster to produce; the same JSON value):
    the serialisation record_hash is taken over."""
    return json.dumps(records, sort_keys=True, separators=(",", ":"))


class DuckDBLander:
    """Lands batches into one DuckDB connection owned by the caller."""

    def __init__(self, con: duckdb.DuckDBPyConnection, pseudonym_key: str | None = None) -> None:
        self.con = con
        self._staged_pages = 0      # pages in this connection's staging table (0: start it afresh)
        self._staged_spec: RecordSpec | None = None     # whose keys the staging table holds (stage_pages)
        con.execute("set enable_progress_bar = false")     # long anti-joins must not draw into run logs
        ensure_schema(con)
        # erased people's records are dropped (and counted) before they land (connectors/suppression.py)
        register_secrets(pseudonym_key)     # the key never shows in a log line
        self.suppressor = Suppressor.load(con, pseudonym_key)

    @contextmanager
    def memory_limit(self, limit: str | None) -> Iterator[None]:
        """Cap DuckDB's memory (a database-wide setting) while a large feed lands, then restore it.

        DuckDB keeps the blocks it has written cached up to its limit (80% of RAM by default): a
        multi-GB feed would grow the process by its whole compressed size. A lower limit already set
        is kept.
        """
        if not limit:
            yield
            return
        # compared by DuckDB, which parses its own size notation ('488.2 MiB', '512MB')
        current, lower = self.con.execute(
            "select current_setting('memory_limit'), "
            "parse_formatted_bytes(current_setting('memory_limit')) <= parse_formatted_bytes(?)", [limit]
        ).fetchall()[0]
        if lower:
            yield
            return
        self.con.execute(f"set memory_limit = '{limit}'")
        try:
            yield
        finally:
            # DuckDB shows the limit rounded: the default comes back exactly by a reset, another one
            # to within that rounding
            self.con.execute("reset memory_limit")
            if self.con.execute("select current_setting('memory_limit')").fetchall()[0][0] != current:
                self.con.execute(f"set memory_limit = '{current}'")

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.con.begin()
        try:
            yield self.con
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()

    # --- state ------------------------------------------------------------

    def read_cursor(self, source: str, stream: str) -> dict[str, Any] | None:
        rows = self.con.execute("select cursor_value from bridge_state.cursor where source = ? and stream = ?",
                               [source, stream]).fetchall()
        return json.loads(rows[0][0]) if rows and rows[0][0] else None

    def _write_cursor(self, source: str, stream: str, cursor: CursorWrite, run_id: str) -> None:
        self.con.execute("insert or replace into bridge_state.cursor values (?, ?, ?, ?, ?, ?)",
                         [source, stream, json.dumps(cursor.value, sort_keys=True), cursor.mode, run_id, utcnow()])

    def _next_batch_seq(self) -> int:
        return self.con.execute("select nextval('bridge_state.batch_seq')").fetchall()[0][0]

    # --- raw --------------------------------------------------------------

    def land_batch(self, source: str, stream: str, records: list[dict[str, Any]], run_id: str, *,
                   spec: RecordSpec, cursor: CursorWrite | None = None,
                   seen_run_id: str | None = None) -> int:
        """Append the new or changed versions of one page and commit its cursor with it.

        Returns the number of versions appended. `seen_run_id` also records the
        page's ids in bridge_state.scim_seen (SCIM full pulls), in the same transaction.
        """
        with self.transaction():
            added = self._append_versions(source, stream, records, run_id, spec) if records else 0
            if seen_run_id is not None and records:
                ids = [str(r["id"]) for r in records]
                if self.suppressor:
                    ids = self.suppressor.keep_ids(SCIM_ID, ids)
                self.con.execute("insert or ignore into bridge_state.scim_seen select ?, unnest(?::varchar[])",
                                 [seen_run_id, ids])
            if cursor is not None:
                self._write_cursor(source, stream, cursor, run_id)
        progress.records_landed(source, stream, len(records))
        return added

    _STAGE_PAGES = """
        select ((? + pno) << 32) + generate_subscripts(r, 1) as pos, unnest(r) as payload
        from (select generate_subscripts(l, 1) as pno, json_extract(decode(unnest(l)), '{records_path}[*]') as r
              from (select ?::blob[] as l))"""

    def land_pages(self, source: str, stream: str, pages: list[str | bytes], run_id: str, *,
                   records_path: str, spec: RecordSpec, cursor: CursorWrite | None = None) -> int:
        """Like `land_batch`, from the page texts as served: the records are the array at
        `records_path` (e.g. `$.statements`) of each page, in page order. Python never parses them.

        Pages must be valid JSON (the caller checked them when it fetched them).
        Returns the number of versions appended.
        """
        self._staged_pages = 0          # whatever was staged and not landed is dropped
        self.stage_pages(pages, records_path=records_path, spec=spec)
        return self.land_staged(source, stream, run_id, spec=spec, cursor=cursor)

    def stage_pages(self, pages: list[str | bytes], *, records_path: str, spec: RecordSpec | None = None) -> None:
        """Add the records of some page texts to the connection's staging table (`land_pages` says
        how). Nothing is landed until `land_staged`; a failure discards everything staged.

        With `spec` (the one `land_staged` is then given), each record's key and change stamp are read
        as it is staged, while its text is at hand: the landing reads them from the staged column instead
        of parsing every record again. Every group of one batch is staged with the same `spec` or none.
        """
        if not pages:
            return
        # bytes go over as they are (DuckDB checks they are UTF-8): no Python str copy of every page
        blobs = [p.encode() if isinstance(p, str) else bytes(p).removeprefix(codecs.BOM_UTF8) for p in pages]
        stage = self._STAGE_PAGES.format(records_path=records_path)
        if self._staged_pages and spec != self._staged_spec:
            raise ValueError("every group of a staged batch needs the same record spec")
        if spec is not None:
            stage = f"select *, json_extract_string(payload, [{_key_paths(spec)}]) as k from ({stage})"
        self._staged_spec = spec
        first, self._staged_pages = self._staged_pages, 0
        # DuckDB plans a query with the bulk parameter as a constant and copies it at every step of
        # planning: this simple query is the only one that sees it
        self.con.execute(f"insert into temp.main._landing_batch {stage}" if first else
                         f"create or replace temp table _landing_batch as {stage}", [first, blobs])
        self._staged_pages = first + len(blobs)

    def land_staged(self, source: str, stream: str, run_id: str, *, spec: RecordSpec,
                    cursor: CursorWrite | None = None) -> int:
        """Append the new versions among the staged records (the last occurrence of a key wins) and
        write `cursor`: one transaction. Returns the number of versions appended."""
        staged, self._staged_pages = self._staged_pages, 0
        if staged and self._staged_spec not in (None, spec):
            raise ValueError("land_staged needs the record spec the pages were staged with")
        with self.transaction():
            added = self._insert_staged(source, stream, spec, run_id, self._staged_spec is not None) if staged else 0
            if staged:
                if progress.wanted():
                    progress.records_landed(source, stream, self.con.execute(
                        "select count(*) from temp.main._landing_batch").fetchall()[0][0])
                self.con.execute("drop table temp.main._landing_batch")
            if cursor is not None:
                self._write_cursor(source, stream, cursor, run_id)
        return added

    def _append_versions(self, source: str, stream: str, records: list[dict[str, Any]], run_id: str,
                         spec: RecordSpec) -> int:
        return self._insert_versions(source, stream, """
            select generate_subscripts(l, 1) as pos, unnest(l) as payload
            from (select json_extract(?::json, '$[*]') as l)""", canonical_json(records), run_id, spec)

    def _insert_versions(self, source: str, stream: str, stage_sql: str, param: Any, run_id: str,
                         spec: RecordSpec) -> int:
        """Append the new or changed versions among the records `stage_sql` makes of `param`
        (columns pos, payload; the highest pos of a key is its last occurrence).

        The records are first staged in a temp table by that one simple query: DuckDB plans a
        query with the bulk parameter as a constant and copies it at every step of planning, which
        in the anti-join below used to cost more than all the JSON work.
        """
        # called inside the batch's transaction: on an error its rollback drops the temp table too
        self._staged_pages = 0
        self.con.execute(f"create or replace temp table _landing_batch as {stage_sql}", [param])
        added = self._insert_staged(source, stream, spec, run_id)
        self.con.execute("drop table temp.main._landing_batch")
        return added

    def _insert_staged(self, source: str, stream: str, spec: RecordSpec, run_id: str,
                       keys_staged: bool = False) -> int:
        """`keys_staged`: the staging table has each record's key and change stamp in `k` (stage_pages)."""
        table = raw_table(source, stream)
        if self.suppressor and (source, stream) in STREAM_FIELDS:
            dropped, changed = self.suppressor.apply(self.con, "temp.main._landing_batch", source, stream)
            self._count_suppressed(run_id, source, stream, dropped)
            keys_staged = keys_staged and not changed      # a rewritten payload is read afresh
        record_id = "k[1]"
        if spec.id_from_hash:
            record_id = f"coalesce({record_id}, sha256(payload::varchar))"
        updated = "k[2]" if spec.updated_path else "null"
        deleted = (f"coalesce(try_cast(json_extract(payload, '{spec.deleted_path}') as boolean), false)"
                   if spec.deleted_path else "false")
        # not materialized: DuckDB would otherwise copy every staged payload into a CTE buffer for the
        # two readers of `keyed` below; parsing the keys twice costs less than that copy (and nothing
        # when they were read as the pages were staged)
        extract = "" if keys_staged else f", json_extract_string(payload, [{_key_paths(spec)}]) as k"
        keyed = f"""
            extracted as not materialized (      -- one parse of each record for its key and change stamp
                select pos, payload{extract}{", k" if keys_staged else ""} from temp.main._landing_batch
            ), keyed as not materialized (
                select *, {record_id} as record_id, {updated} as source_updated_at, {deleted} as is_deleted
                from extracted
            )"""
        record_hash = "sha256(payload::varchar || case when is_deleted then '|1' else '|0' end)"
        if spec.immutable:
            # a key landed once is never landed again: an anti-join on the key alone, then the last
            # occurrence of each new key (found on the narrow key column), hashed only if new
            sql = f"""
                insert into {table}
                with {keyed}, last_new as (
                    select max(pos) as pos from keyed k
                    where not exists (select 1 from {table} t where t.record_id = k.record_id)
                    group by record_id
                )
                select record_id, payload, {record_hash}, source_updated_at, is_deleted, ?, ?, ?
                from keyed semi join last_new using (pos)
            """
        else:
            sql = f"""
                insert into {table}
                with {keyed}, last_in_page as (   -- within one batch the last occurrence wins
                    select record_id, payload, {record_hash} as record_hash, source_updated_at, is_deleted
                    from keyed
                    qualify row_number() over (partition by record_id order by pos desc) = 1
                ), latest as (
                    select record_id, record_hash from {table}
                    where record_id in (select record_id from last_in_page)
                    qualify row_number() over (partition by record_id order by batch_seq desc) = 1
                )
                select p.record_id, p.payload, p.record_hash, p.source_updated_at, p.is_deleted, ?, ?, ?
                from last_in_page p left join latest l using (record_id)
                where l.record_hash is distinct from p.record_hash
            """
        rows = self.con.execute(sql, [run_id, self._next_batch_seq(), utcnow()]).fetchall()
        return int(rows[0][0]) if rows else 0

    # --- SCIM full pulls --------------------------------------------------

    def absent_candidates(self, seen_run_id: str) -> list[str]:
        """Users whose latest version is live but whom this full pull did not see."""
        return [r[0] for r in self.con.execute("""
            select record_id from raw.hris__users
            qualify row_number() over (partition by record_id order by batch_seq desc) = 1
                and not is_deleted
                and record_id not in (select id from bridge_state.scim_seen where run_id = ?)
            order by record_id""", [seen_run_id]).fetchall()]

    def finish_full_pull(self, run_id: str, seen_run_id: str, pulled_at: datetime, absent_ids: list[str],
                         cursor: CursorWrite) -> tuple[int, int]:
        """Tombstone the absent users, record the pull and its cursor: one transaction."""
        stamp = pulled_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.transaction():
            marked = 0
            if absent_ids:
                marked = self.con.execute("""
                    insert into raw.hris__users
                    select record_id, payload, sha256(payload::varchar || '|1'), ?, true, ?, ?, ?
                    from raw.hris__users
                    where record_id in (select unnest(?::varchar[]))
                    qualify row_number() over (partition by record_id order by batch_seq desc) = 1
                        and not is_deleted""",
                    [stamp, run_id, self._next_batch_seq(), utcnow(), absent_ids]).fetchall()[0][0]
            seen = self.con.execute("select count(*) from bridge_state.scim_seen where run_id = ?",
                                    [seen_run_id]).fetchall()[0][0]
            self.con.execute("insert into raw.hris__full_pulls values (?, ?, ?, ?, ?)",
                             [run_id, pulled_at, pulled_at.date(), seen, marked])
            self.con.execute("delete from bridge_state.scim_seen where run_id = ?", [seen_run_id])
            self._write_cursor("hris", "users", cursor, run_id)
        return seen, marked

    # --- payroll ----------------------------------------------------------

    def loaded_payroll_checksums(self) -> set[str]:
        return {r[0] for r in self.con.execute("select file_sha256 from raw.payroll__files").fetchall()}

    def land_payroll_file(self, run_id: str, *, file_name: str, file_sha256: str, period_end: date,
                          exported_at: datetime, batches: Iterable[tuple[list[int], list[str]]],
                          quarantine: list[tuple[str, str]], status: str, reason: str | None) -> int:
        """Rows (batches of line numbers + payload JSON texts), bad rows and the file row: one transaction."""
        loaded = 0
        stamp = exported_at.strftime("%Y-%m-%dT%H:%M:%S")
        with self.transaction():
            if self.con.execute("select 1 from raw.payroll__files where file_sha256 = ?",
                                [file_sha256]).fetchall():
                return 0        # loaded meanwhile by another run: skipping keeps it exactly-once
            for lines, payloads in batches:
                if self.suppressor:
                    kept = [(n, p) for n, p in zip(lines, payloads, strict=True)
                            if not self.suppressor.match(EMPLOYEE_NUMBER, json.loads(p).get("employee_number"))]
                    self._count_suppressed(run_id, "payroll", "rows", len(lines) - len(kept))
                    lines, payloads = [n for n, _ in kept], [p for _, p in kept]
                if not lines:
                    continue
                loaded += self.con.execute("""
                    insert into raw.payroll__rows
                    select ? || ':' || line_number, payload::json, sha256(payload || '|0'), ?, false, ?, ?, ?,
                           ?, ?, line_number, ?, ?
                    from (select unnest(?::bigint[]) as line_number, unnest(?::varchar[]) as payload)""",
                    [file_sha256, stamp, run_id, self._next_batch_seq(), utcnow(), file_name, file_sha256,
                     period_end, exported_at, lines, payloads]).fetchall()[0][0]
            self._quarantine(run_id, "payroll", "rows", quarantine)
            if status == "loaded":
                self._quarantine(run_id, "payroll", "files",
                                 self._same_stamp_exports(file_name, file_sha256, period_end, exported_at))
            self.con.execute("insert into raw.payroll__files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [file_sha256, file_name, period_end, exported_at, loaded, len(quarantine), status,
                              reason, run_id, utcnow()])
        return loaded

    def _same_stamp_exports(self, file_name: str, file_sha256: str, period_end: date,
                            exported_at: datetime) -> list[tuple[str, str]]:
        """Loaded exports of the same period with the same export stamp and other bytes (a file re-sent
        under its own name): the one landing now supersedes them (dbt staging), listed in the audit."""
        rows = self.con.execute("""
            select file_name, file_sha256 from raw.payroll__files
            where status = 'loaded' and period_end = ? and exported_at = ? and file_sha256 <> ?
            order by landed_at""", [period_end, exported_at, file_sha256]).fetchall()
        why = (f"superseded: {file_name} (sha256 {file_sha256[:12]}) has the same period end and export "
               "stamp and landed later; only the later landed export counts")
        return [(f"{name} (sha256 {sha[:12]})", why) for name, sha in rows]

    def payroll_files(self) -> list[dict[str, Any]]:
        """Every payroll file landed or rejected, oldest landing first, with its withdrawal if any."""
        cur = self.con.execute("""
            select f.file_sha256, f.file_name, f.period_end, f.exported_at, f.status, f.rows_loaded,
                   f.landed_at, w.withdrawn_at
            from raw.payroll__files f
            left join (select file_sha256, min(withdrawn_at) as withdrawn_at from raw.payroll__withdrawals
                       group by 1) w using (file_sha256)
            order by f.landed_at, f.file_sha256""")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def withdraw_payroll_file(self, file_sha256: str, file_name: str, *, reason: str, requested_by: str,
                              action_id: str) -> None:
        """Exclude a landed export from every build from now on, and say who asked and why in the audit
        trail (audit.quarantine, under `action_id`): one transaction. The file itself is untouched."""
        now = utcnow()
        with self.transaction():
            self.con.execute("insert into raw.payroll__withdrawals values (?, ?, ?, ?, ?)",
                             [file_sha256, file_name, reason, requested_by, now])
            self._quarantine(action_id, "payroll", "files",
                             [(f"{file_name} (sha256 {file_sha256[:12]})",
                               f"withdrawn by {requested_by}: {reason}")])

    # --- audit ------------------------------------------------------------

    def _count_suppressed(self, run_id: str, source: str, stream: str, records: int) -> None:
        """Count, never store, the records of erased people a source still served."""
        if records:
            self.con.execute("insert into audit.suppression values (?, ?, ?, ?, ?)",
                             [run_id, source, stream, records, utcnow()])

    def _quarantine(self, run_id: str, source: str, stream: str, items: list[tuple[str, str]]) -> None:
        if items:
            self.con.execute("""insert into audit.quarantine
                                select ?, ?, ?, unnest(?::varchar[]), unnest(?::varchar[]), ?""",
                             [run_id, source, stream, [i[0] for i in items], [i[1] for i in items], utcnow()])

    def quarantine(self, run_id: str, source: str, stream: str, items: list[tuple[str, str]]) -> None:
        """Record rejected records: keys and file:line only, never values."""
        with self.transaction():
            self._quarantine(run_id, source, stream, items)

    def write_extract(self, audit: ExtractAudit) -> None:
        audit.finished_at = audit.finished_at or utcnow()
        self.con.execute("""insert into audit.source_extract (run_id, source, stream, mode, cursor_from, cursor_to,
                                records, pages, bytes, checksum, started_at, finished_at, new_versions,
                                duplicates_absorbed, quarantined)
                            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                         [audit.run_id, audit.source, audit.stream, audit.mode, audit.cursor_from,
                          audit.cursor_to, audit.records, audit.pages, audit.bytes, audit.checksum,
                          audit.started_at, audit.finished_at, audit.new_versions, audit.duplicates_absorbed,
                          audit.quarantined])


Lander = DuckDBLander
