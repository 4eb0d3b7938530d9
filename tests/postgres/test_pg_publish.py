"""swap_published: all-or-nothing publication that readers never see half of."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg2
import psycopg2.extensions
import pytest

from orchestration.lib.postgres.connection import PgTarget, connect
from orchestration.lib.postgres.publish import (
    PublicationError,
    prepare_build_schemas,
    row_counts,
    swap_published,
)
from orchestration.lib.postgres.roles import WRITER_ROLE, ensure_roles
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture
def writer(
    pg_db: PgTarget, pg_admin: psycopg2.extensions.connection
) -> Iterator[psycopg2.extensions.connection]:
    ensure_roles(pg_admin)
    con = connect(pg_db, role=WRITER_ROLE)
    yield con
    con.close()


def build(con: psycopg2.extensions.connection, pub: int, rows: int = 500) -> None:
    """What dbt does: fill the build schemas. Tables a and b must agree on `pub`."""
    prepare_build_schemas(con)
    with con.cursor() as cur:
        for table in ("a", "b"):
            cur.execute(
                f"create table reporting__build.{table} as "
                f"select {pub} as pub, g as id from generate_series(1, {rows}) g"
            )
        cur.execute(f"create table restricted__build.c as select {pub} as pub, 1 as id")
    con.commit()


def published(con: psycopg2.extensions.connection) -> tuple[int, int, int]:
    with con.cursor() as cur:
        cur.execute(
            "select (select max(pub) from reporting.a), (select max(pub) from reporting.b), "
            "(select max(pub) from restricted.c)"
        )
        row = cur.fetchone()
    con.rollback()
    return row


def test_swap_publishes_both_schemas_and_counts_rows(writer) -> None:
    build(writer, 1, rows=7)
    assert row_counts(writer, "reporting__build", label="reporting") == {"reporting.a": 7, "reporting.b": 7}
    result = swap_published(writer)
    assert result.attempts == 1 and result.tables_locked == 0  # first publication: nothing to lock
    assert published(writer) == (1, 1, 1)
    build(writer, 2, rows=9)
    result = swap_published(writer)
    assert result.tables_locked == 3 and published(writer) == (2, 2, 2)
    assert row_counts(writer, "reporting") == {"reporting.a": 9, "reporting.b": 9}
    with writer.cursor() as cur:
        cur.execute("select nspname from pg_namespace where nspname like '%%\\_\\_%%' order by 1")
        assert cur.fetchall() == []  # no build or old schema left behind
    writer.rollback()


def test_missing_build_schema_publishes_nothing(writer) -> None:
    build(writer, 1)
    swap_published(writer)
    build(writer, 2)
    with writer.cursor() as cur:
        cur.execute("drop schema restricted__build cascade")
    writer.commit()
    with pytest.raises(PublicationError, match="restricted__build missing; nothing was published"):
        swap_published(writer)
    assert published(writer) == (1, 1, 1)
    assert row_counts(writer, "reporting__build") == {"reporting__build.a": 500, "reporting__build.b": 500}


def test_long_reader_delays_publication_instead_of_blocking_others(writer, pg_db: PgTarget) -> None:
    build(writer, 1)
    swap_published(writer)
    build(writer, 2)
    holder = connect(pg_db)
    with holder.cursor() as cur:
        cur.execute("select count(*) from reporting.a")  # transaction stays open: holds its lock
    with pytest.raises(PublicationError, match="nothing was published"):
        swap_published(writer, lock_timeout_ms=50, max_attempts=2, retry_pause_s=0.01)
    other = connect(pg_db)
    assert published(other) == (1, 1, 1)  # readers were not left queued behind the swap
    holder.rollback()
    assert swap_published(writer).attempts == 1 and published(other) == (2, 2, 2)
    holder.close()
    other.close()


class Reader(threading.Thread):
    """Polls the published tables until told to stop; records errors and mixed views."""

    def __init__(self, target: PgTarget, multi_statement: bool) -> None:
        super().__init__(daemon=True)
        self.target, self.multi_statement = target, multi_statement
        self.stop = threading.Event()
        self.seen: set[int] = set()
        self.mixed: list[tuple] = []
        self.errors: list[str] = []
        self.reads = 0

    def run(self) -> None:
        con = connect(self.target, autocommit=not self.multi_statement)
        try:
            with con.cursor() as cur:
                while not self.stop.is_set():
                    try:
                        if self.multi_statement:  # b before a: the opposite of the swap's lock order
                            cur.execute("select min(pub), max(pub) from reporting.b")
                            row = cur.fetchone()
                            cur.execute("select min(pub), max(pub) from reporting.a")
                            row += cur.fetchone()
                            con.commit()
                        else:
                            cur.execute(
                                "select (select min(pub) from reporting.a), (select max(pub) "
                                "from reporting.a), (select min(pub) from reporting.b), "
                                "(select max(pub) from reporting.b)"
                            )
                            row = cur.fetchone()
                    except psycopg2.Error as exc:
                        self.errors.append(f"{type(exc).__name__}: {exc}".strip())
                        con.rollback()
                        continue
                    self.reads += 1
                    if len(set(row)) != 1:
                        self.mixed.append(row)
                    self.seen.update(row)
                    time.sleep(0.001)
        finally:
            con.close()


@pytest.mark.parametrize("defer_drop", [False, True])
def test_readers_never_error_nor_see_two_publications_during_swaps(
    writer, pg_db: PgTarget, defer_drop: bool
) -> None:
    build(writer, 0)
    swap_published(writer)
    readers = [Reader(pg_db, multi_statement=False), Reader(pg_db, multi_statement=True)]

    def read_on() -> None:
        """Each reader reads twice more, so one of its reads is wholly after the last swap."""
        marks = [r.reads for r in readers]
        wait_until(lambda: all(r.reads >= mark + 2 for r, mark in zip(readers, marks, strict=True)),
                   lambda: f"a reader stopped reading: {[r.errors[-1:] for r in readers]}")

    for r in readers:
        r.start()
    results = []
    try:
        read_on()
        for pub in range(1, 13):
            build(writer, pub)
            results.append(swap_published(writer, lock_timeout_ms=100, defer_drop=defer_drop))
            read_on()
    finally:
        for r in readers:
            r.stop.set()
        for r in readers:
            r.join(timeout=30)
    for r in readers:
        assert r.errors == [] and r.mixed == []
        assert r.seen == set(range(13))  # they really read across every publication
    assert published(writer) == (12, 12, 12)
    with writer.cursor() as cur:  # at most the last old schema can be left (a reader held it)
        cur.execute("select count(*) from pg_namespace where nspname like '%%\\_\\_old'")
        assert cur.fetchone()[0] <= (2 if defer_drop else 0)
    writer.rollback()
    held = sorted(x.locks_held_ms for x in results)
    print(
        f"\nswap locks held (ms): median {held[len(held) // 2]:.1f}, max {held[-1]:.1f}; "
        f"attempts {[x.attempts for x in results]}"
    )
