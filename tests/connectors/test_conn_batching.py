"""Landing batches and the page prefetcher."""
from __future__ import annotations

import threading
import time

import pytest

from connectors.batching import batches, prefetch


class Page:
    def __init__(self, n: int, count: int = 2) -> None:
        self.n, self.count, self.nbytes, self.raw = n, count, 10, str(n).encode()


def test_batches_are_bounded_by_counted_records():
    got = list(batches((Page(i, count=3) for i in range(5)), lambda p: [p], 7, count_of=lambda p: p.count))
    assert [[p.n for p in b.records] for b in got] == [[0, 1, 2], [3, 4]]
    assert [(b.count, b.pages, b.last.n) for b in got] == [(9, 3, 2), (6, 2, 4)]


def test_prefetch_keeps_order_and_raises_where_the_stream_failed():
    def pages():
        yield from (Page(i) for i in range(3))
        raise ValueError("page 3 failed")

    seen = []

    def consume() -> None:
        with prefetch(pages(), 4, lambda p: p.count) as fetched:
            seen.extend(page.n for page in fetched)

    with pytest.raises(ValueError, match="page 3"):
        consume()
    assert seen == [0, 1, 2]


def test_prefetch_runs_at_most_about_max_ahead_in_front():
    produced = []

    def pages():
        for i in range(20):
            produced.append(i)
            yield Page(i, count=1)

    with prefetch(pages(), 3, lambda p: p.count) as fetched:
        it = iter(fetched)
        assert next(it).n == 0
        time.sleep(0.2)
        assert len(produced) <= 1 + 3 + 1       # the one consumed, 3 queued, one waiting to be queued
        assert [p.n for p in it] == list(range(1, 20))


def test_prefetch_stops_its_thread_when_the_consumer_leaves():
    closed = threading.Event()

    def pages():
        try:
            for i in range(1000):
                yield Page(i, count=1)
        finally:
            closed.set()

    with prefetch(pages(), 2, lambda p: p.count) as fetched:
        for page in fetched:
            if page.n == 1:
                break
    assert closed.wait(2)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_fetcher_thread_that_died_is_never_taken_for_the_end_of_the_stream():
    def pages():
        yield Page(0)
        raise SystemExit("thread killed")

    with prefetch(pages(), 4, lambda p: p.count) as fetched, pytest.raises(RuntimeError, match="stopped"):
        list(fetched)
