"""Group consecutive pages into landing batches of at most ~N records.

Each landed batch costs one anti-join against the stream's version log and one
commit, so landing a few thousand records at a time instead of every page
cuts that fixed cost while memory stays bounded by the batch size (plus one page).
The batch's cursor is the state after its last page.

`records_of` gives what the lander takes for a page: its records, or (for a
feed landed from page texts) the page itself, with `count_of` counting the
page's records so batches stay bounded by records either way.

`prefetch` fetches the next pages in a thread while a batch lands (DuckDB and
socket reads release the GIL), at most about one batch ahead.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar


class _Page(Protocol):
    nbytes: int
    raw: bytes


P = TypeVar("P", bound=_Page)


@dataclass
class Batch(Generic[P]):
    records: list[Any]  # the records (or page texts) to land
    last: P             # the page whose follow-on state (next cursor, more link, next index) the batch commits
    pages: int
    nbytes: int
    count: int = 0      # records in the batch


def batches(pages: Iterable[P], records_of: Callable[[P], list[Any]], max_records: int,
            digest: Any = None, count_of: Callable[[P], int] | None = None) -> Iterator[Batch[P]]:
    buf: list[Any] = []
    count = nrecords = nbytes = 0
    last: P | None = None
    for page in pages:
        items = records_of(page)
        buf.extend(items)
        nrecords += count_of(page) if count_of is not None else len(items)
        count, nbytes, last = count + 1, nbytes + page.nbytes, page
        if digest is not None:
            digest.update(page.raw)
        if nrecords >= max_records:
            yield Batch(buf, page, count, nbytes, nrecords)
            buf, count, nrecords, nbytes = [], 0, 0, 0
    if count and last is not None:
        yield Batch(buf, last, count, nbytes, nrecords)


T = TypeVar("T")


class _Prefetcher(Generic[T]):
    def __init__(self, items: Iterator[T], max_ahead: int, count_of: Callable[[T], int]) -> None:
        self._items, self._max_ahead, self._count_of = items, max_ahead, count_of
        self._cv = threading.Condition()
        self._queue: deque[tuple[T, int]] = deque()
        self._ahead = 0
        self._done = self._stop = self._complete = False
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                n = self._count_of(item)
                with self._cv:
                    while self._ahead >= self._max_ahead and not self._stop:
                        self._cv.wait()
                    if self._stop:
                        return
                    self._queue.append((item, n))
                    self._ahead += n
                    self._cv.notify_all()
            with self._cv:
                self._complete = True
        except Exception as exc:  # noqa: BLE001 - re-raised in the consumer, where it occurred in the stream
            with self._cv:
                self._error = exc
        finally:
            try:
                close = getattr(self._items, "close", None)
                if close is not None:
                    close()         # runs the generator's own cleanup in this thread
            finally:
                with self._cv:
                    self._done = True
                    self._cv.notify_all()

    def __iter__(self) -> Iterator[T]:
        while True:
            with self._cv:
                while not self._queue and not self._done:
                    self._cv.wait()
                if self._queue:
                    item, n = self._queue.popleft()
                    self._ahead -= n
                    self._cv.notify_all()
                elif self._error is not None:
                    error, self._error = self._error, None
                    raise error
                elif self._complete:
                    return
                else:       # never taken for the end of the stream: the caller would commit it as read
                    raise RuntimeError("the prefetching thread stopped before the end of the stream")
            yield item

    def stop(self, timeout: float) -> None:
        with self._cv:
            self._stop = True
            self._queue.clear()
            self._cv.notify_all()
        self._thread.join(timeout)      # lets an in-flight request finish; a stalled one is left behind


@contextmanager
def prefetch(items: Iterator[T], max_ahead: int, count_of: Callable[[T], int],
             stop_timeout: float = 30.0) -> Iterator[Iterator[T]]:
    """Iterate `items` in a background thread, at most ~`max_ahead` (counted by `count_of`) ahead of
    the consumer. An exception in `items` is raised to the consumer where it occurred in the stream."""
    fetcher = _Prefetcher(items, max_ahead, count_of)
    try:
        yield iter(fetcher)
    finally:
        fetcher.stop(stop_timeout)
