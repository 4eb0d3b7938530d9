"""The cursor-list REST protocol shared by the LMS and check-in APIs (CONTRACT 2.3, 2.4).

`GET <path>?updated_since=<ISO>&limit=N&cursor=<opaque>` -> `{"data": [...], "next_cursor": ...}`.
State per stream (bridge_state.cursor, committed with each batch):
`updated_since` (the listing's lower bound), `max_updated_at` (max seen so far)
and `next_cursor` (the page to resume from after a crash; null once the listing ended).
"""
from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .batching import batches
from .errors import SchemaDriftError, SourceError
from .http import HttpClient, safe_path
from .landing import CursorWrite, DuckDBLander, ExtractAudit, RecordSpec

REST_SPEC = RecordSpec(id_path="$.id", updated_path="$.updated_at", deleted_path="$.deleted")
_EXPIRED_CURSOR = (400, 404, 410, 422)
MAX_REPEATS = 5


@dataclass
class RestPage:
    records: list[dict[str, Any]]
    next_cursor: str | None
    nbytes: int
    raw: bytes


def parse_stamp(value: Any) -> datetime:
    """An ISO 8601 stamp as an aware datetime (a stamp without offset is taken as UTC)."""
    dt = datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _max_updated(source: str, stream: str, records: list[dict[str, Any]]) -> str:
    best, best_dt = None, None
    for rec in records:
        try:
            dt = parse_stamp(rec["updated_at"])
        except ValueError:
            raise SourceError(source, stream, f"record id={rec['id']} has an updated_at that is not ISO 8601; "
                              "page not landed") from None
        if best_dt is None or dt > best_dt:
            best, best_dt = rec["updated_at"], dt
    return str(best)


def validate_records(source: str, stream: str, records: Any, required: tuple[str, ...]) -> None:
    """Fail the stream on a record without a required field, naming field and record."""
    if not isinstance(records, list):
        raise SourceError(source, stream, "response 'data' is not a list; page not landed")
    for pos, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise SourceError(source, stream, f"record #{pos} of the page is not an object; page not landed")
        for fld in required:
            if rec.get(fld) is None:
                ref = f"id={rec['id']}" if rec.get("id") is not None else f"#{pos} of the page"
                raise SchemaDriftError(source, stream, fld, ref)


def list_pages(client: HttpClient, stream: str, path: str, *, updated_since: str | None,
               cursor: str | None, limit: int) -> Iterator[RestPage]:
    """Yield pages until `next_cursor` is empty; bounded memory (one page at a time)."""
    seen_cursors: Counter[str] = Counter()
    while True:
        params: dict[str, Any] = {"limit": limit}
        if updated_since:
            params["updated_since"] = updated_since
        if cursor:
            params["cursor"] = cursor
        resp = client.get_json(stream, path, params=params)
        body = resp.body
        if not isinstance(body, dict) or "data" not in body:
            raise SourceError(client.source, stream, "response has no 'data' list; page not landed",
                              path=safe_path(client.url(path)), status=resp.status)
        records = body["data"]
        validate_records(client.source, stream, records, ("id", "updated_at"))
        nxt = body.get("next_cursor") or None
        if nxt is not None:
            nxt = str(nxt)
            # a page served twice is re-delivery (absorbed by the key); a cursor that keeps coming back is a loop
            seen_cursors[nxt] += 1
            if seen_cursors[nxt] > MAX_REPEATS:
                raise SourceError(client.source, stream, f"server returned the same next_cursor "
                                  f"{seen_cursors[nxt]} times (paging loop); listing stopped, committed "
                                  "batches kept", path=safe_path(client.url(path)))
        yield RestPage(records, nxt, resp.nbytes, resp.raw)
        if nxt is None:
            return
        cursor = nxt


def extract_rest_stream(lander: DuckDBLander, client: HttpClient, source: str, stream: str, path: str,
                        run_id: str, limit: int, log: logging.Logger, batch_records: int = 5000) -> ExtractAudit:
    """Read one stream from its committed cursor to the end, landing page by page."""
    state = lander.read_cursor(source, stream) or {}
    resume = state.get("next_cursor")
    since = state.get("updated_since") if resume else state.get("max_updated_at")
    max_seen: str | None = state.get("max_updated_at")
    audit = ExtractAudit(run_id, source, stream, mode="incremental" if since else "full", cursor_from=since)
    digest = hashlib.sha256()

    def pages() -> Iterator[RestPage]:
        if resume:
            try:
                yield from list_pages(client, stream, path, updated_since=since, cursor=resume, limit=limit)
                return
            except SourceError as exc:
                if exc.status not in _EXPIRED_CURSOR or audit.pages:
                    raise
                log.warning("%s/%s: resume cursor refused (HTTP %s); re-reading from updated_since",
                            source, stream, exc.status)
        yield from list_pages(client, stream, path, updated_since=since, cursor=None, limit=limit)

    for batch in batches(pages(), lambda p: p.records, batch_records, digest):
        if batch.records:
            top = _max_updated(source, stream, batch.records)
            if max_seen is None or parse_stamp(top) > parse_stamp(max_seen):
                max_seen = top
        done = batch.last.next_cursor is None
        cursor = CursorWrite({"updated_since": max_seen if done else since, "max_updated_at": max_seen,
                              "next_cursor": batch.last.next_cursor}, audit.mode)
        audit.new_versions += lander.land_batch(source, stream, batch.records, run_id, spec=REST_SPEC,
                                                cursor=cursor)
        audit.records += len(batch.records)
        audit.pages += batch.pages
        audit.bytes += batch.nbytes
    audit.cursor_to = max_seen
    audit.checksum = digest.hexdigest()
    lander.write_extract(audit)
    log.info("%s/%s: %d records in %d pages, %d new versions (%s)", source, stream, audit.records,
             audit.pages, audit.new_versions, audit.mode)
    return audit
