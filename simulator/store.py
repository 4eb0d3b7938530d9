"""Append-only, time-ordered version logs behind the cursor APIs.

A change appends a new version at the end (its `updated_at` is the newest) and retires the previous
one, so a position in the log is a stable keyset cursor: pages already served never shift, and a
record changed mid-pagination is simply met again later.
"""
from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from typing import Any


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class VersionLog:
    """Versions of REST records, pre-encoded as JSON bytes, ordered by updated_at (epoch ms)."""

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.payloads: list[bytes] = []
        self.ids: list[Any] = []
        self.live = bytearray()
        self.latest: dict[Any, int] = {}
        self.deleted: set[Any] = set()

    def __len__(self) -> int:
        return len(self.keys)

    def put(self, rid: Any, updated_ms: int, payload: bytes, deleted: bool = False) -> None:
        if self.keys and updated_ms < self.keys[-1]:
            raise ValueError("versions must be appended in updated_at order")
        old = self.latest.get(rid)
        if old is not None:
            self.live[old] = 0
        self.latest[rid] = len(self.keys)
        self.keys.append(updated_ms)
        self.payloads.append(payload)
        self.ids.append(rid)
        self.live.append(1)
        if deleted:
            self.deleted.add(rid)
        else:
            self.deleted.discard(rid)

    def bulk_load(self, items: list[tuple[int, Any, bytes, bool]]) -> None:
        """Initial history: (updated_ms, id, payload, deleted), any order."""
        items.sort(key=lambda x: (x[0], str(x[1])))
        for ms, rid, payload, deleted in items:
            self.put(rid, ms, payload, deleted)

    def current(self, rid: Any) -> dict | None:
        pos = self.latest.get(rid)
        return None if pos is None else json.loads(self.payloads[pos])

    def current_records(self) -> Iterator[dict]:
        for pos in self.latest.values():
            yield json.loads(self.payloads[pos])

    def current_items(self) -> Iterator[tuple[Any, dict]]:
        """(record id, current record); the id survives an injected record that lost its `id`."""
        for rid, pos in self.latest.items():
            yield rid, json.loads(self.payloads[pos])

    def start_for(self, since_ms: int | None) -> int:
        return 0 if since_ms is None else bisect.bisect_left(self.keys, since_ms)

    def page(self, start: int, limit: int) -> tuple[list[bytes], int, bool]:
        """Live versions from position `start`: (payloads, next position, more remain)."""
        out: list[bytes] = []
        pos, n, live, payloads = start, len(self.keys), self.live, self.payloads
        while len(out) < limit:
            pos = live.find(1, pos)  # memchr: skips retired versions fast
            if pos < 0:
                return out, n, False
            out.append(payloads[pos])
            pos += 1
        return out, pos, live.find(1, pos) >= 0

    def counts(self) -> tuple[int, int]:
        """(records in the current view incl. tombstones, tombstones)."""
        return len(self.latest), len(self.deleted)
