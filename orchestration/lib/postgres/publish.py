"""Write-audit-publish for PostgreSQL: swap the checked build schemas into place.

dbt builds the marts into `reporting__build` and `restricted__build`; checks run there.
`swap_published` then, in ONE transaction, renames each published schema to `<s>__old`,
each build schema to `<s>`, drops the old ones and re-grants readers (`defer_drop=True`
moves only the drop to a second transaction). Readers see the
previous publication or the new one, never a mix, because:

- `ALTER SCHEMA ... RENAME` takes no lock on the tables (it updates one pg_namespace row);
  readers keep resolving `reporting.x` to the old tables until the swap commits.
- The swap first takes ACCESS EXCLUSIVE on every old published table, in one fixed order
  (schema, name), and holds them to commit. A statement that locked an old table before
  that finishes on old tables only (the swap cannot commit until it ends); one that comes
  later waits for the commit, then PostgreSQL re-resolves its names after the
  invalidation and every name lands on the new tables. (The drop needs these locks too;
  taking them up front and in order means the wait happens before anything changes.)
- Readers block only while the swap holds those locks (tens of milliseconds: catalog
  updates, no data moves; `scripts/pg_swap_timing.py` measures it) or while its lock
  request waits in the queue; `lock_timeout` bounds that wait, after which the swap rolls
  back and retries, so a long-running reader delays publication instead of queueing every
  other reader behind the swap. Being shorter than deadlock_timeout (1 s), it also makes
  the swap, never the reader, the loser of a lock-order deadlock.
- Caveat: a REPEATABLE READ/SERIALIZABLE reader transaction that began before the swap and
  first touches `reporting` after it resolves to the new tables but with its old snapshot,
  so it sees them empty (PostgreSQL DDL is not MVCC-safe). Statement-level readers (the
  default READ COMMITTED) are unaffected.

A blocked run never calls this: its build schemas stay for inspection (readable by the
writer only, since no reader role has USAGE on them) until the next run's
`prepare_build_schemas` drops them; `drop_build_schemas` drops them explicitly.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg2.errors
import psycopg2.extensions

from orchestration.lib.postgres.connection import quote_ident, transaction
from orchestration.lib.postgres.roles import WRITER_ROLE, grant_readers

PUBLISHED_SCHEMAS = ("reporting", "restricted")
BUILD_SUFFIX = "__build"
OLD_SUFFIX = "__old"
_LOCK_PUBLISH = 0x62726177_0003
# relkinds a reader can select from: table, view, materialized view, partitioned, foreign
_READABLE = ("r", "v", "m", "p", "f")


class PublicationError(RuntimeError):
    """Nothing was published; the message says why. The previous publication is intact."""


@dataclass(frozen=True)
class SwapResult:
    schemas: tuple[str, ...]
    attempts: int
    lock_wait_ms: float  # last attempt: from the LOCK request to holding every lock
    locks_held_ms: float  # from holding the locks to the end of commit (readers wait this long)
    transaction_ms: float  # the whole successful transaction
    tables_locked: int


def build_schema(schema: str) -> str:
    return f"{schema}{BUILD_SUFFIX}"


def _existing_schemas(cur: psycopg2.extensions.cursor, names: Sequence[str]) -> set[str]:
    cur.execute("select nspname from pg_namespace where nspname = any(%s)", (list(names),))
    return {r[0] for r in cur.fetchall()}


def _relations(cur: psycopg2.extensions.cursor, schemas: Sequence[str]) -> list[tuple[str, str]]:
    cur.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = any(%s) and c.relkind = any(%s) order by 1, 2",
        (list(schemas), list(_READABLE)),
    )
    return [(r[0], r[1]) for r in cur.fetchall()]


def swap_published(
    pg_con: psycopg2.extensions.connection,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    *,
    writer_role: str = WRITER_ROLE,
    lock_timeout_ms: int = 200,
    max_attempts: int = 25,
    retry_pause_s: float = 0.2,
    defer_drop: bool = False,
) -> SwapResult:
    """Publish every `<s>__build` as `<s>` together, or nothing (see the module docstring).

    With `defer_drop`, the swap transaction still takes and holds the locks on the old
    tables (that is what keeps readers consistent) but only renames; `<s>__old` is dropped
    by a second transaction right after, or by the next swap if a reader still holds it.
    That shortens the time readers can be blocked (no file unlinks at the swap's commit).

    Raises PublicationError, with the published state unchanged, when a build schema is
    missing or the locks could not be taken in `max_attempts` tries."""
    schemas = tuple(schemas)
    for attempt in range(1, max_attempts + 1):
        try:
            result = _swap_once(pg_con, schemas, writer_role, lock_timeout_ms, attempt, not defer_drop)
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected, _LocksBusy):
            # a reader holds an old table: let it finish rather than queue everyone behind us
            time.sleep(retry_pause_s * (0.5 + random.random()))
            continue
        if defer_drop:
            _drop_old(pg_con, schemas, lock_timeout_ms)
        return result
    raise PublicationError(
        f"could not lock the published tables of {', '.join(schemas)} within {lock_timeout_ms} ms "
        f"in {max_attempts} attempts (long-running readers?); nothing was published"
    )


class _LocksBusy(Exception):
    pass


def _lock_all(
    cur: psycopg2.extensions.cursor, relations: list[tuple[str, str]], lock_timeout_ms: int
) -> None:
    """ACCESS EXCLUSIVE on every relation, in list order. lock_timeout bounds each single
    wait; statement_timeout bounds the sum, so readers never queue behind us for long."""
    cur.execute("select current_setting('statement_timeout')")
    previous = cur.fetchone()[0]
    cur.execute("select set_config('statement_timeout', %s, true)", (f"{2 * int(lock_timeout_ms)}ms",))
    names = ", ".join(f"{quote_ident(s)}.{quote_ident(t)}" for s, t in relations)
    try:
        cur.execute(f"lock table {names} in access exclusive mode")
    except psycopg2.errors.QueryCanceled:
        raise _LocksBusy from None
    cur.execute("select set_config('statement_timeout', %s, true)", (previous,))


def _drop_old(pg_con: psycopg2.extensions.connection, schemas: tuple[str, ...], lock_timeout_ms: int) -> None:
    """Drop `<s>__old` now if no reader holds it; otherwise the next swap drops it."""
    try:
        with transaction(pg_con) as cur:
            cur.execute("select set_config('lock_timeout', %s, true)", (f"{int(lock_timeout_ms)}ms",))
            for schema in schemas:
                cur.execute(f"drop schema if exists {quote_ident(schema + OLD_SUFFIX)} cascade")
    except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected):
        pass


def _swap_once(
    pg_con: psycopg2.extensions.connection,
    schemas: tuple[str, ...],
    writer_role: str,
    lock_timeout_ms: int,
    attempt: int,
    drop_old: bool,
) -> SwapResult:
    t_start = time.perf_counter()
    with transaction(pg_con) as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (_LOCK_PUBLISH,))
        builds = [build_schema(s) for s in schemas]
        olds = [f"{s}{OLD_SUFFIX}" for s in schemas]
        present = _existing_schemas(cur, [*schemas, *builds, *olds])
        missing = [b for b in builds if b not in present]
        if missing:
            raise PublicationError(f"build schema(s) {', '.join(missing)} missing; nothing was published")
        # readers cannot reach build schemas (no USAGE), so table grants can precede the locks
        grant_readers(
            cur, schemas, writer_role=writer_role, schema_level=False, tables_in=dict(zip(schemas, builds))
        )
        # leftovers of an interrupted swap go in the same lock set and the same drop
        doomed = [s for s in (*schemas, *olds) if s in present]
        relations = _relations(cur, doomed)
        cur.execute("select set_config('lock_timeout', %s, true)", (f"{int(lock_timeout_ms)}ms",))
        t_lock = time.perf_counter()
        if relations:
            _lock_all(cur, relations, lock_timeout_ms)
        t_locked = time.perf_counter()
        for schema, old in zip(schemas, olds):
            if old in present:
                cur.execute(f"drop schema {quote_ident(old)} cascade")
            if schema in present:
                cur.execute(f"alter schema {quote_ident(schema)} rename to {quote_ident(old)}")
            cur.execute(f"alter schema {quote_ident(build_schema(schema))} rename to {quote_ident(schema)}")
        for schema, old in zip(schemas, olds):
            if schema in present and drop_old:
                # CASCADE also drops views other schemas built on the old tables: they would
                # otherwise keep pointing at stale data (views bind to table OIDs, not names).
                cur.execute(f"drop schema {quote_ident(old)} cascade")
        grant_readers(cur, schemas, writer_role=writer_role, tables=False)
    t_end = time.perf_counter()
    return SwapResult(
        schemas=schemas,
        attempts=attempt,
        lock_wait_ms=(t_locked - t_lock) * 1e3,
        locks_held_ms=(t_end - t_locked) * 1e3,
        transaction_ms=(t_end - t_start) * 1e3,
        tables_locked=len(relations),
    )


def prepare_build_schemas(
    pg_con: psycopg2.extensions.connection,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    *,
    writer_role: str = WRITER_ROLE,
) -> None:
    """Start a run from empty build schemas owned by the writer (drops a blocked run's leftovers)."""
    with transaction(pg_con) as cur:
        for schema in schemas:
            build = quote_ident(build_schema(schema))
            cur.execute(f"drop schema if exists {build} cascade")
            cur.execute(f"create schema {build} authorization {quote_ident(writer_role)}")


def drop_build_schemas(
    pg_con: psycopg2.extensions.connection, schemas: Sequence[str] = PUBLISHED_SCHEMAS
) -> None:
    with transaction(pg_con) as cur:
        for schema in schemas:
            cur.execute(f"drop schema if exists {quote_ident(build_schema(schema))} cascade")


def row_counts(
    pg_con: psycopg2.extensions.connection, schema: str, *, label: str | None = None
) -> dict[str, int]:
    """Exact row counts of every base table in `schema`, keyed `<label or schema>.<table>`
    (pass label='reporting' to count `reporting__build` under its published names)."""
    with transaction(pg_con) as cur:
        cur.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind in ('r', 'p', 'm') order by 1",
            (schema,),
        )
        tables = [r[0] for r in cur.fetchall()]
        if not tables:
            return {}
        cur.execute(
            " union all ".join(
                f"select {i}, count(*) from {quote_ident(schema)}.{quote_ident(t)}"
                for i, t in enumerate(tables)
            )
        )
        counts = dict(cur.fetchall())
    return {f"{label or schema}.{t}": int(counts[i]) for i, t in enumerate(tables)}
