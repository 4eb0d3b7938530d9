"""Mirror the DuckDB work file's `raw` and `audit` schemas into PostgreSQL, in bulk.

The connectors keep landing into DuckDB (raw versions and their cursors commit in one
transaction there); this step copies what Postgres lacks. Rows travel as text files: DuckDB
writes them with `COPY (select ...) TO` (C speed) into a private temp directory, and
Postgres reads them with `COPY ... FROM STDIN`; no row passes through Python. Postgres
tables are created from DuckDB's own column list, so a column added to
`connectors/landing.py` is mirrored without touching this file.

Raw tables travel in chunks of at most CHUNK_ROWS rows (row-id ranges of DuckDB's snapshot),
exported without keeping their order (`preserve_order false`: an ordered export of a
2-million-row table buffers past the work file's memory share): the memory and the disk a
mirror takes stay bounded whatever the history, and DuckDB writes the next chunk while
Postgres parses this one (its jsonb parsing is most of the cost), so the two overlap.

Incremental rules:
- raw version logs (with `batch_seq`): rows with batch_seq above Postgres' max per table.
  This relies on one writer per stream and on mirroring after landing commits (a batch
  committed later with a smaller batch_seq would be missed), which the DAG guarantees.
- `raw.payroll__files`, `raw.payroll__withdrawals`, `raw.hris__full_pulls` (no batch_seq, a few rows): replaced whole.
- `audit.*`: for each run whose row count differs, the rows Postgres lacks (multiset
  difference, so two identical rows stay two); `audit.pipeline_run` is upserted by run_id
  because its finished_at/status are set at the end of a run.
"""

from __future__ import annotations

import queue
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2
import psycopg2.extensions

from orchestration.lib.postgres.connection import quote_ident, transaction

_COPY_BUFFER = 1 << 20
# rows per exported chunk of a raw table: ~150 MB of CSV for xAPI statements
CHUNK_ROWS = 200_000
# pg_advisory_xact_lock keys: two mirrors of the same schema never interleave.
_LOCK_RAW = 0x62726177_0001
_LOCK_AUDIT = 0x62726177_0002

_DUCK_TO_PG = {
    "VARCHAR": "text",
    "JSON": "jsonb",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIME": "time",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "UBIGINT": "numeric(20)",
    "UINTEGER": "bigint",
    "USMALLINT": "integer",
    "UTINYINT": "smallint",
    "HUGEINT": "numeric(39)",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "UUID": "uuid",
    "INTERVAL": "interval",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")


class MirrorError(RuntimeError):
    pass


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    not_null: bool


def pg_type_for(duck_type: str, where: str) -> str:
    if duck_type in _DUCK_TO_PG:
        return _DUCK_TO_PG[duck_type]
    if m := _DECIMAL.fullmatch(duck_type.replace(" ", "")):
        return f"numeric({m[1]},{m[2]})"
    raise MirrorError(f"{where}: DuckDB type {duck_type} has no PostgreSQL mapping; nothing was mirrored")


def _duck_tables(duck: duckdb.DuckDBPyConnection, schema: str) -> dict[str, list[Column]]:
    rows = duck.execute(
        "select c.table_name, c.column_name, c.data_type, c.is_nullable "
        "from information_schema.columns c join information_schema.tables t "
        "  on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema "
        "  and t.table_name = c.table_name "
        "where c.table_catalog = current_database() and c.table_schema = ? and t.table_type = 'BASE TABLE' "
        "order by c.table_name, c.ordinal_position",
        [schema],
    ).fetchall()
    tables: dict[str, list[Column]] = {}
    for table, column, dtype, nullable in rows:
        tables.setdefault(table, []).append(
            Column(column, pg_type_for(dtype, f"{schema}.{table}.{column}"), nullable == "NO")
        )
    return tables


def _ensure_pg_table(cur: psycopg2.extensions.cursor, schema: str, table: str, columns: list[Column]) -> bool:
    """Create the table, or add the columns DuckDB gained since (never drops or retypes).
    Returns whether it was created (in the caller's transaction).

    DDL runs only when something is missing: ALTER TABLE takes ACCESS EXCLUSIVE, held to
    the end of the mirror transaction, which would block every reader of the table."""
    target = f"{quote_ident(schema)}.{quote_ident(table)}"
    cur.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, table),
    )
    have = {r[0] for r in cur.fetchall()}
    if not have:
        cur.execute(f"create schema if not exists {quote_ident(schema)}")
        cols = ", ".join(
            f"{quote_ident(c.name)} {c.pg_type}{' not null' if c.not_null else ''}" for c in columns
        )
        cur.execute(f"create table {target} ({cols})")
        return True
    for c in columns:
        if c.name not in have:
            cur.execute(f"alter table {target} add column {quote_ident(c.name)} {c.pg_type}")
    return False


def _index_batch_seq(cur: psycopg2.extensions.cursor, schema: str, table: str) -> None:
    """max(batch_seq) each night must not scan the whole version log. Built once, after the
    table's first load (one sort, not one index insertion per row)."""
    target = f"{quote_ident(schema)}.{quote_ident(table)}"
    cur.execute(f"create index {quote_ident(f'{table}__batch_seq_idx')} on {target} (batch_seq)")


# PostgreSQL's text format, written by DuckDB's CSV writer with nothing quoted: only
# backslash, tab, newline and carriage return are special in a value (escaped here, in
# DuckDB), `\N` is NULL. Postgres reads it about a fifth faster than CSV, whose quoting
# doubles every quote of every JSON payload. Other types never hold those characters.
_TEXT_ESCAPES = (("'\\'", "'\\\\'"), ("chr(9)", "'\\t'"), ("chr(10)", "'\\n'"), ("chr(13)", "'\\r'"))
_TEXT_FORMAT = "format csv, delimiter '\t', quote '', escape '', nullstr '\\N', header false"


def _text_field(column: Column) -> str:
    value = quote_ident(column.name)
    if column.pg_type not in ("text", "jsonb"):
        return value
    value = f"cast({value} as varchar)"
    for char, escaped in _TEXT_ESCAPES:  # the backslash first
        value = f"replace({value}, {char}, {escaped})"
    return value


def _export(duck: duckdb.DuckDBPyConnection, select_sql: str, columns: list[Column], path: Path) -> None:
    """The rows of `select_sql` (which selects `columns`) into `path` in Postgres' text format.
    Unordered: rows need no order in Postgres, and keeping it buffers out-of-order row groups."""
    fields = ", ".join(_text_field(c) for c in columns)
    duck.execute(
        f"copy (select {fields} from ({select_sql}) as q) to '{str(path).replace(chr(39), chr(39) * 2)}' "
        f"({_TEXT_FORMAT}, preserve_order false)"
    )


def _copy_in(
    cur: psycopg2.extensions.cursor, target: str, columns: list[Column], path: Path, *, freeze: bool = False
) -> int:
    cols = ", ".join(quote_ident(c.name) for c in columns)
    # FREEZE (allowed only on a table created in this transaction): the rows are written
    # frozen, so the first reader does not rewrite every page to set hint bits
    options = "format text, freeze" if freeze else "format text"
    with open(path, "rb") as fh:
        cur.copy_expert(f"copy {target} ({cols}) from stdin with ({options})", fh, size=_COPY_BUFFER)
    return cur.rowcount


def _col_list(columns: list[Column]) -> str:
    return ", ".join(quote_ident(c.name) for c in columns)


@dataclass(frozen=True)
class _RawCopy:
    """What one raw table sends: its rows selected by `where`, in row-id ranges."""

    table: str
    columns: list[Column]
    where: str
    created: bool  # in this transaction: COPY FREEZE, and its index after the load


def mirror_raw(
    duck_con: duckdb.DuckDBPyConnection,
    pg_con: psycopg2.extensions.connection,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> dict[str, int]:
    """Copy the raw rows Postgres does not have yet; one Postgres transaction.

    Returns rows copied per table (`raw.<table>`); whole-replaced tables report their size."""
    duck = duck_con.cursor()  # own transaction: one consistent snapshot of every raw table
    copied: dict[str, int] = {}
    try:
        duck.begin()
        tables = _duck_tables(duck, "raw")
        with tempfile.TemporaryDirectory(prefix="bridge-mirror-") as tmp, transaction(pg_con) as cur:
            cur.execute("select pg_advisory_xact_lock(%s)", (_LOCK_RAW,))
            plans = []
            for table, columns in sorted(tables.items()):
                with _failing_table(f"raw.{table}"):
                    plans.append(_plan_raw_table(cur, table, columns))
            chunks = _chunks(duck, plans, chunk_rows)
            for plan in plans:
                copied[f"raw.{plan.table}"] = 0
            # closing: the export thread stops before the snapshot and the directory go
            with closing(_exported(duck, chunks, Path(tmp))) as exported:
                for plan, path in exported:
                    with _failing_table(f"raw.{plan.table}"):
                        if path is not None:
                            copied[f"raw.{plan.table}"] += _copy_in(
                                cur, f"raw.{quote_ident(plan.table)}", plan.columns, path, freeze=plan.created
                            )
                            path.unlink()
                        else:  # the table's last chunk is in
                            _finish_raw_table(cur, plan, copied[f"raw.{plan.table}"])
        duck.commit()
    finally:
        duck.close()
    return copied


def _plan_raw_table(cur: psycopg2.extensions.cursor, table: str, columns: list[Column]) -> _RawCopy:
    created = _ensure_pg_table(cur, "raw", table, columns)
    target = f"raw.{quote_ident(table)}"
    if any(c.name == "batch_seq" for c in columns):
        cur.execute(f"select coalesce(max(batch_seq), -1) from {target}")
        return _RawCopy(table, columns, f"batch_seq > {int(cur.fetchone()[0])}", created)
    cur.execute(f"delete from {target}")  # not truncate: concurrent readers keep their snapshot
    return _RawCopy(table, columns, "true", created)


def _finish_raw_table(cur: psycopg2.extensions.cursor, plan: _RawCopy, copied: int) -> None:
    if plan.created and any(c.name == "batch_seq" for c in plan.columns):
        _index_batch_seq(cur, "raw", plan.table)
    if copied:
        cur.execute(f"analyze raw.{quote_ident(plan.table)}")  # dbt reads it next; the planner needs fresh statistics


def _chunks(
    duck: duckdb.DuckDBPyConnection, plans: list[_RawCopy], chunk_rows: int
) -> list[tuple[_RawCopy, str | None]]:
    """Per table, the SELECT of each chunk of its rows to send, then (plan, None) for its end."""
    out: list[tuple[_RawCopy, str | None]] = []
    for plan in plans:
        target = f"raw.{quote_ident(plan.table)}"
        first, last = duck.execute(f"select min(rowid), max(rowid) from {target} where {plan.where}").fetchone()
        if first is not None:
            for start in range(first, last + 1, chunk_rows):
                rows = f"rowid >= {start} and rowid < {start + chunk_rows}"
                out.append((plan, f"select {_col_list(plan.columns)} from {target} where {rows} and {plan.where}"))
        out.append((plan, None))
    return out


_DONE = object()


def _exported(
    duck: duckdb.DuckDBPyConnection, chunks: list[tuple[_RawCopy, str | None]], tmp: Path
) -> Iterator[tuple[_RawCopy, Path | None]]:
    """The chunks as CSV files, written by a thread while the caller loads the one before
    (at most three on disk: loading, waiting, being written). DuckDB's COPY and psycopg2's
    COPY both release the GIL. The caller closes the generator, which stops the thread."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for i, (plan, select_sql) in enumerate(chunks):
                if stop.is_set():
                    return
                path = None
                if select_sql is not None:
                    path = tmp / f"{i}.csv"
                    _export(duck, select_sql, plan.columns, path)
                put((plan, path))
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(exc)

    worker = threading.Thread(target=produce, name="bridge-mirror-export", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


@contextmanager
def _failing_table(table: str) -> Iterator[None]:
    """Name the table in the error and say nothing was kept. Only Postgres' primary message
    travels: its CONTEXT/DETAIL can quote row values (salaries, emails)."""
    try:
        yield
    except psycopg2.Error as exc:
        primary = exc.diag.message_primary or type(exc).__name__
        raise MirrorError(
            f"mirroring {table} to PostgreSQL failed ({exc.pgcode}: {primary}); "
            "the mirror transaction was rolled back, nothing was copied"
        ) from None


def mirror_audit(
    duck_con: duckdb.DuckDBPyConnection, pg_con: psycopg2.extensions.connection
) -> dict[str, int]:
    """Append to Postgres `audit.*` the rows it lacks; upsert `audit.pipeline_run` by run_id.

    Returns rows inserted or updated per table (`audit.<table>`); one Postgres transaction."""
    duck = duck_con.cursor()
    changed: dict[str, int] = {}
    try:
        duck.begin()
        tables = _duck_tables(duck, "audit")
        with tempfile.TemporaryDirectory(prefix="bridge-mirror-") as tmp, transaction(pg_con) as cur:
            cur.execute("select pg_advisory_xact_lock(%s)", (_LOCK_AUDIT,))
            for i, (table, columns) in enumerate(sorted(tables.items())):
                path = Path(tmp) / f"{i}.csv"
                with _failing_table(f"audit.{table}"):
                    _ensure_pg_table(cur, "audit", table, columns)
                    if table == "pipeline_run":
                        changed["audit.pipeline_run"] = _upsert_runs(duck, cur, columns, path)
                    else:
                        changed[f"audit.{table}"] = _append_missing(duck, cur, table, columns, path)
        duck.commit()
    finally:
        duck.close()
    return changed


def _stage(cur: psycopg2.extensions.cursor, target: str, columns: list[Column], path: Path) -> str:
    """A temp table shaped like `target`, loaded from the CSV file; dropped at commit."""
    cur.execute("drop table if exists _bridge_stage")
    cur.execute(
        f"create temp table _bridge_stage on commit drop as "
        f"select {_col_list(columns)} from {target} with no data"
    )
    _copy_in(cur, "_bridge_stage", columns, path)
    return "_bridge_stage"


def _append_missing(
    duck: duckdb.DuckDBPyConnection,
    cur: psycopg2.extensions.cursor,
    table: str,
    columns: list[Column],
    path: Path,
) -> int:
    target = f"audit.{quote_ident(table)}"
    if not any(c.name == "run_id" for c in columns):
        raise MirrorError(f"audit.{table} has no run_id column; nothing was mirrored")
    cur.execute(f"select run_id, count(*) from {target} group by run_id")
    pg_counts = cur.fetchall()
    # Only runs whose row count differs travel; null run_id is compared as its own group.
    # (A temp table, not a registered Arrow table: registering imports pandas, ~6 s cold.)
    duck.execute("create or replace temp table _pg_counts (run_id varchar, n bigint)")
    try:
        duck.execute(
            "insert into _pg_counts select unnest(?::varchar[]), unnest(?::bigint[])",
            [[r[0] for r in pg_counts], [r[1] for r in pg_counts]],
        )
        _export(
            duck,
            f"""
            with duck_counts as (select run_id, count(*) as n from {target} group by run_id),
            stale as (
                select d.run_id from duck_counts d
                left join _pg_counts p on p.run_id is not distinct from d.run_id
                where p.n is distinct from d.n)
            select {_col_list(columns)} from {target} a
            where exists (select 1 from stale s where s.run_id is not distinct from a.run_id)""",
            columns,
            path,
        )
    finally:
        duck.execute("drop table if exists _pg_counts")
    if path.stat().st_size == 0:
        return 0
    stage = _stage(cur, target, columns, path)
    cols = _col_list(columns)
    # EXCEPT ALL: a row Postgres already holds n times is skipped n times, no more.
    cur.execute(f"""
        insert into {target} ({cols})
        select {cols} from {stage}
        except all
        select {cols} from {target} t
        where exists (select 1 from {stage} s where s.run_id is not distinct from t.run_id)""")
    return cur.rowcount


def _upsert_runs(
    duck: duckdb.DuckDBPyConnection, cur: psycopg2.extensions.cursor, columns: list[Column], path: Path
) -> int:
    target = "audit.pipeline_run"
    _export(duck, f"select {_col_list(columns)} from {target} where run_id is not null", columns, path)
    if path.stat().st_size == 0:
        return 0
    stage = _stage(cur, target, columns, path)
    others = [c for c in columns if c.name != "run_id"]
    sets = ", ".join(f"{quote_ident(c.name)} = s.{quote_ident(c.name)}" for c in others)
    differs = " or ".join(f"t.{quote_ident(c.name)} is distinct from s.{quote_ident(c.name)}" for c in others)
    cur.execute(f"update {target} t set {sets} from {stage} s where t.run_id = s.run_id and ({differs})")
    updated = cur.rowcount
    cols = _col_list(columns)
    cur.execute(
        f"insert into {target} ({cols}) select {cols} from {stage} s "
        f"where not exists (select 1 from {target} t where t.run_id = s.run_id)"
    )
    return updated + cur.rowcount
