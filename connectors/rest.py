"""The cursor-list REST protocol shared by the LMS and check-in APIs (CONTRACT 2.3, 2.4).

`GET <path>?updated_since=<ISO>&limit=N&cursor=<opaque>` -> `{"data": [...], "next_cursor": ...}`.
State per stream (bridge_state.cursor, committed with each batch):
`updated_since` (the listing's lower bound), `max_updated_at` (max seen so far)
and `next_cursor` (the page to resume from after a crash; null once the listing ended).

Each page is parsed once, by orjson (~400k records/s here, DuckDB's speed without a query's
fixed cost), to check it (`data` a list of objects, every record's id and ISO 8601 updated_at)
and read its latest updated_at and `next_cursor`; the page texts are then landed as served
(`DuckDBLander.stage_pages`), committed with their cursor a batch at a time while the next pages
are fetched, never serialised again by Python. A record's version hash is taken over the record
as served: an API serialises the same record the same way, and a server that reorders keys costs
one identical extra version, which staging's latest-version pick absorbs.
"""
from __future__ import annotations

import codecs
import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from .batching import batches, prefetch
from .errors import SchemaDriftError, SourceError
from .http import HttpClient, safe_path
from .landing import CursorWrite, DuckDBLander, ExtractAudit, RecordSpec

REST_SPEC = RecordSpec(id_path="$.id", updated_path="$.updated_at", deleted_path="$.deleted")
RECORDS_PATH = "$.data"
REQUIRED = ("id", "updated_at")
_EXPIRED_CURSOR = (400, 404, 410, 422)
MAX_REPEATS = 5


def _loads(raw: bytes) -> Any:
    """The HTTP layer's decoder for list pages: orjson.JSONDecodeError (a truncated body) is a
    ValueError, which it retries."""
    return orjson.loads(raw.removeprefix(codecs.BOM_UTF8))


@dataclass
class RestPage:
    raw: bytes                  # the page as served; landed as is
    count: int
    next_cursor: str | None
    max_updated: str | None
    nbytes: int


def parse_stamp(value: Any) -> datetime:
    """An ISO 8601 stamp as an aware datetime (a stamp without offset is taken as UTC)."""
    dt = datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _max_updated(source: str, stream: str, records: list[dict[str, Any]]) -> str | None:
    """The page's latest updated_at, as served (each distinct stamp parsed once)."""
    best, best_dt = None, None
    for stamp in {str(r["updated_at"]) for r in records}:
        try:
            dt = parse_stamp(stamp)
        except ValueError:
            rid = next(r["id"] for r in records if str(r["updated_at"]) == stamp)
            raise SourceError(source, stream, f"record id={rid} has an updated_at that is not ISO 8601; "
                              "page not landed") from None
        if best_dt is None or dt > best_dt:
            best, best_dt = stamp, dt
    return best


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
        resp = client.get_json(stream, path, params=params, decode=_loads)
        body = resp.body
        if not isinstance(body, dict) or "data" not in body:
            raise SourceError(client.source, stream, "response has no 'data' list; page not landed",
                              path=safe_path(client.url(path)), status=resp.status)
        records = body["data"]
        validate_records(client.source, stream, records, REQUIRED)
        top = _max_updated(client.source, stream, records)
        nxt = body.get("next_cursor") or None
        if nxt is not None:
            nxt = str(nxt)
            # a page served twice is re-delivery (absorbed by the key); a cursor that keeps coming back
            # is a loop
            seen_cursors[nxt] += 1
            if seen_cursors[nxt] > MAX_REPEATS:
                raise SourceError(client.source, stream, f"server returned the same next_cursor "
                                  f"{seen_cursors[nxt]} times (paging loop); listing stopped, committed "
                                  "batches kept", path=safe_path(client.url(path)))
        yield RestPage(resp.raw, len(records), nxt, top, resp.nbytes)
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
            served = 0
            try:
                for page in list_pages(client, stream, path, updated_since=since, cursor=resume, limit=limit):
                    served += 1
                    yield page
                return
            except SourceError as exc:
                if exc.status not in _EXPIRED_CURSOR or served:
                    raise
                log.warning("%s/%s: resume cursor refused (HTTP %s); re-reading from updated_since",
                            source, stream, exc.status)
        yield from list_pages(client, stream, path, updated_since=since, cursor=None, limit=limit)

    # a batch of page texts lands (one transaction, with its cursor) while the next pages are fetched
    with prefetch(pages(), batch_records, lambda p: p.count) as fetched:
        for batch in batches(fetched, lambda p: [p], batch_records, digest, count_of=lambda p: p.count):
            for page in batch.records:
                if page.max_updated is not None and (max_seen is None or
                                                     parse_stamp(page.max_updated) > parse_stamp(max_seen)):
                    max_seen = page.max_updated
            done = batch.last.next_cursor is None
            cursor = CursorWrite({"updated_since": max_seen if done else since, "max_updated_at": max_seen,
                                  "next_cursor": batch.last.next_cursor}, audit.mode)
            lander.stage_pages([p.raw for p in batch.records], records_path=RECORDS_PATH, spec=REST_SPEC)
            audit.new_versions += lander.land_staged(source, stream, run_id, spec=REST_SPEC, cursor=cursor)
            audit.records += batch.count
            audit.pages += batch.pages
            audit.bytes += batch.nbytes
    audit.cursor_to = max_seen
    audit.checksum = digest.hexdigest()
    lander.write_extract(audit)
    log.info("%s/%s: %d records in %d pages, %d new versions (%s)", source, stream, audit.records,
             audit.pages, audit.new_versions, audit.mode)
    return audit
