"""Group consecutive pages into landing batches of at most ~N records.

Each landed batch costs one anti-join against the stream's version log and one
commit, so landing a few thousand records at a time instead of every page
cuts that fixed cost while memory stays bounded by the batch size (plus one page).
The batch's cursor is the state after its last page.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar


class _Page(Protocol):
    nbytes: int
    raw: bytes


P = TypeVar("P", bound=_Page)


@dataclass
class Batch(Generic[P]):
    records: list[dict[str, Any]]
    last: P             # the page whose follow-on state (next cursor, more link, next index) the batch commits
    pages: int
    nbytes: int


def batches(pages: Iterable[P], records_of: Callable[[P], list[dict[str, Any]]], max_records: int,
            digest: Any = None) -> Iterator[Batch[P]]:
    buf: list[dict[str, Any]] = []
    count = nbytes = 0
    last: P | None = None
    for page in pages:
        buf.extend(records_of(page))
        count, nbytes, last = count + 1, nbytes + page.nbytes, page
        if digest is not None:
            digest.update(page.raw)
        if len(buf) >= max_records:
            yield Batch(buf, page, count, nbytes)
            buf, count, nbytes = [], 0, 0
    if count and last is not None:
        yield Batch(buf, last, count, nbytes)
