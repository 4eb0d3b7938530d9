"""The feeds extracted at the same time, in one process.

They share nothing until `raw`, and most of a feed's time is spent waiting on its source's
HTTP answers, so no feed need wait for another. `bridge sync` executes the job in process
(`execute_in_process` has only the in-process executor, which runs steps one at a time, and
DuckDB allows one writer process per file), so the feeds run in threads of one step, each
landing through a cursor of its own on the step's connection (DuckDB lets the connections
of one process write at once; each feed commits its batches with its cursor). All share the
work file's one database instance and so its one memory limit (warehouse.MemoryBudget.work),
past which DuckDB spills to disk; no more run at once than the machine has cores.

The threads are daemons: an interrupted step does not wait for them (their running DuckDB
queries are interrupted; what they committed stays, as when a process is stopped).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import duckdb

from connectors.sync import ExtractResult

Extract = Callable[[duckdb.DuckDBPyConnection], list[ExtractResult]]


@dataclass(frozen=True)
class FeedOutcome:
    source: str
    results: list[ExtractResult] | None     # None: the feed failed (its committed batches stay landed)
    error: Exception | None
    seconds: float


def workers(feeds: int) -> int:
    """No more feeds at once than the machine has cores (each lands with DuckDB's CPU work)."""
    return max(1, min(feeds, os.cpu_count() or 1))


def extract_feeds(con: duckdb.DuckDBPyConnection, feeds: Mapping[str, Extract]) -> dict[str, FeedOutcome]:
    """Run every feed's `extract(cursor)` to its end or its error; outcomes in `feeds`' order."""
    slots = threading.BoundedSemaphore(workers(len(feeds)))
    finished: queue.Queue[FeedOutcome] = queue.Queue()
    cursors: list[duckdb.DuckDBPyConnection] = []

    def run(source: str, extract: Extract) -> None:
        with slots:
            started = time.monotonic()
            cursor = con.cursor()
            cursors.append(cursor)
            try:
                outcome = FeedOutcome(source, extract(cursor), None, time.monotonic() - started)
            except Exception as exc:  # noqa: BLE001 - handed to the step, which reports every failure
                outcome = FeedOutcome(source, None, exc, time.monotonic() - started)
            finally:
                cursor.close()
        finished.put(outcome)

    for source, extract in feeds.items():
        threading.Thread(target=run, args=(source, extract), name=f"extract-{source}", daemon=True).start()
    outcomes: dict[str, FeedOutcome] = {}
    try:
        while len(outcomes) < len(feeds):
            try:    # a timeout keeps the wait interruptible (Ctrl-C, SIGTERM)
                outcome = finished.get(timeout=0.5)
            except queue.Empty:
                continue
            outcomes[outcome.source] = outcome
    except BaseException:
        for cursor in cursors:
            try:
                cursor.interrupt()
            except duckdb.Error:
                pass    # closed meanwhile: that feed has ended
        raise
    return {source: outcomes[source] for source in feeds}
