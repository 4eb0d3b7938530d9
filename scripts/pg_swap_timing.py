"""Measure how long swap_published holds its locks, and how long readers wait meanwhile.

    .venv/bin/python scripts/pg_swap_timing.py [URL] [--swaps N] [--rows N] [--tables N]

URL defaults to BRIDGE_TEST_PG_URL or the test server (scripts/pg_test_server.sh start).
Works in a scratch database it creates and drops. Prints, per swap, the time the
swap waited for its locks and held them, the slowest statement of each SQL step, and
the reader statement latencies (p50/p99/max) seen by two polling readers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg2
import psycopg2.extensions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.lib.postgres.connection import connect, parse_warehouse_url
from orchestration.lib.postgres.publish import prepare_build_schemas, swap_published
from orchestration.lib.postgres.roles import WRITER_ROLE, ensure_roles

STEP_TIMES: dict[str, list[float]] = defaultdict(list)


class TimedCursor(psycopg2.extensions.cursor):
    def execute(self, query, vars=None):
        t = time.perf_counter()
        try:
            return super().execute(query, vars)
        finally:
            STEP_TIMES[" ".join(str(query).split()[:3])[:40]].append((time.perf_counter() - t) * 1e3)


def build(con, pub: int, tables: int, rows: int) -> None:
    prepare_build_schemas(con)
    with con.cursor() as cur:
        for i in range(tables):
            cur.execute(
                f"create table reporting__build.t{i:02d} as "
                f"select {pub} as pub, g as id, md5(g::text) as filler from generate_series(1, {rows}) g"
            )
        cur.execute(
            f"create table restricted__build.fct_compensation as select {pub} as pub, "
            f"g as id from generate_series(1, {rows}) g"
        )
    con.commit()


def reader(url: str, stop: threading.Event, latencies: list[float], tables: int) -> None:
    con = connect(url, autocommit=True)
    sql = "select " + ", ".join(f"(select max(pub) from reporting.t{i:02d})" for i in (0, tables - 1))
    with con.cursor() as cur:
        while not stop.is_set():
            t = time.perf_counter()
            cur.execute(sql)
            cur.fetchone()
            latencies.append((time.perf_counter() - t) * 1e3)
            time.sleep(0.002)
    con.close()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "url",
        nargs="?",
        default=os.environ.get("BRIDGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:55432/postgres"),
    )
    ap.add_argument("--swaps", type=int, default=20)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--tables", type=int, default=17)  # the contract's reporting tables
    ap.add_argument("--defer-drop", action="store_true", help="swap_published(defer_drop=True)")
    args = ap.parse_args()
    server = parse_warehouse_url(args.url)
    admin = psycopg2.connect(**server.dsn_kwargs())
    admin.autocommit = True
    name = f"bridge_swap_timing_{uuid.uuid4().hex[:8]}"
    admin.cursor().execute(f'create database "{name}"')
    url = args.url.rsplit("/", 1)[0] + f"/{name}"
    try:
        setup = connect(url)
        ensure_roles(setup)
        setup.close()
        writer = connect(url, role=WRITER_ROLE)
        build(writer, 0, args.tables, args.rows)
        swap_published(writer)
        stop, latencies = threading.Event(), [[], []]
        threads = [threading.Thread(target=reader, args=(url, stop, lat, args.tables)) for lat in latencies]
        for t in threads:
            t.start()
        results = []
        for pub in range(1, args.swaps + 1):
            build(writer, pub, args.tables, args.rows)
            STEP_TIMES.clear()
            writer.cursor_factory = TimedCursor
            results.append(swap_published(writer, defer_drop=args.defer_drop))
            writer.cursor_factory = psycopg2.extensions.cursor
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
        writer.close()
        held = [r.locks_held_ms for r in results]
        wait = [r.lock_wait_ms for r in results]
        total = [r.transaction_ms for r in results]
        print(
            f"defer_drop={args.defer_drop}: {args.swaps} swaps of {args.tables}+1 tables x {args.rows} rows; "
            f"tables locked per swap: {results[-1].tables_locked}; attempts: {[r.attempts for r in results]}"
        )
        print(f"lock wait   ms: median {statistics.median(wait):7.2f}  max {max(wait):7.2f}")
        print(f"locks held  ms: median {statistics.median(held):7.2f}  max {max(held):7.2f}")
        print(f"transaction ms: median {statistics.median(total):7.2f}  max {max(total):7.2f}")
        print("last swap, per statement kind (ms):")
        for step, times in sorted(STEP_TIMES.items(), key=lambda kv: -sum(kv[1])):
            print(f"  {step:42s} n={len(times):3d} total {sum(times):7.2f}")
        all_lat = latencies[0] + latencies[1]
        print(
            f"reader statements: {len(all_lat)}; latency ms p50 {pct(all_lat, 0.5):.2f} "
            f"p99 {pct(all_lat, 0.99):.2f} max {max(all_lat):.2f}"
        )
    finally:
        admin.cursor().execute(f'drop database if exists "{name}" with (force)')
        admin.close()


if __name__ == "__main__":
    main()
