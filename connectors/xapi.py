"""LMS completions from an xAPI 1.0.3 Learning Record Store (CONTRACT 2.2).

A run reads the window since=W (exclusive) until=C (inclusive) in stored
order, C being the X-Experience-API-Consistent-Through the LRS reports when
the run starts (one cheap `limit=1` request), follows `more` to the end and
only then commits W := C. Each landed page commits the `more` IRL of the next
page as an in-window resume point; if the LRS no longer honours it after a
crash, the window is re-read from W and re-delivery is absorbed by the id key.

A statement without an `id` (possible only from a non-conforming LRS; some
spec examples lack one) is keyed by sha256 of its canonical JSON.
"""
from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .batching import batches
from .config import XapiConfig
from .errors import SourceError
from .http import BasicAuth, HttpClient, safe_path
from .landing import CursorWrite, DuckDBLander, ExtractAudit, RecordSpec
from .rest import parse_stamp

SOURCE, STREAM = "xapi", "statements"
XAPI_SPEC = RecordSpec(id_path="$.id", updated_path="$.stored", deleted_path=None, id_from_hash=True)
VERSION_HEADER = {"X-Experience-API-Version": "1.0.3"}
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
_EXPIRED_MORE = (400, 404, 410)
MAX_REPEATS = 5


@dataclass
class XapiPage:
    statements: list[dict[str, Any]]
    more: str | None
    nbytes: int
    raw: bytes


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    try:
        return b if parse_stamp(b) > parse_stamp(a) else a
    except ValueError:
        return b

def client(config: XapiConfig) -> HttpClient:
    return HttpClient(SOURCE, config.base_url, BasicAuth(config.username, config.password), config.http,
                      headers=VERSION_HEADER)


def consistent_through(http: HttpClient) -> str | None:
    """The LRS's consistency point at the start of the run (None if it does not say)."""
    resp = http.get_json(STREAM, "statements", params={"limit": 1})
    return resp.headers.get(CONSISTENT_THROUGH) or None


def statement_pages(http: HttpClient, first: str, params: dict[str, Any] | None) -> Iterator[XapiPage]:
    """Yield StatementResult pages from `first` (a path or a `more` IRL), following `more`."""
    url, seen = first, Counter()
    while True:
        resp = http.get_json(STREAM, url, params=params)
        body = resp.body
        stmts = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(stmts, list) or not all(isinstance(s, dict) for s in stmts):
            raise SourceError(SOURCE, STREAM, "response is not a StatementResult; page not landed",
                              path=safe_path(http.url(url)), status=resp.status)
        more = body.get("more") or None
        if more:
            # an LRS may serve a page again (re-delivery, absorbed by the id key); a link that keeps
            # coming back is a paging loop
            seen[more] += 1
            if seen[more] > MAX_REPEATS:
                raise SourceError(SOURCE, STREAM, f"LRS returned the same 'more' link {seen[more]} times (paging "
                                  "loop); window stopped, committed pages kept, watermark not moved",
                                  path=safe_path(http.url(more)))
        yield XapiPage(stmts, more, resp.nbytes, resp.raw)
        if not more:
            return
        url, params = more, None


def extract(lander: DuckDBLander, config: XapiConfig, run_id: str, log: logging.Logger) -> list[ExtractAudit]:
    with client(config) as http:
        return [extract_statements(lander, http, config, run_id, log)]


def extract_statements(lander: DuckDBLander, http: HttpClient, config: XapiConfig, run_id: str,
                       log: logging.Logger) -> ExtractAudit:
    state = lander.read_cursor(SOURCE, STREAM) or {}
    watermark = state.get("watermark")
    if state.get("in_window"):
        until, resume = state.get("until"), state.get("more")
        max_stored = state.get("max_stored")
        log.info("xapi/statements: resuming the window (%s, %s]", watermark, until)
    else:
        until, resume, max_stored = consistent_through(http), None, None
    audit = ExtractAudit(run_id, SOURCE, STREAM, mode="incremental" if watermark else "full",
                         cursor_from=watermark)
    digest = hashlib.sha256()
    query: dict[str, Any] = {"ascending": "true", "limit": config.page_size}
    if watermark:
        query["since"] = watermark
    if until:
        query["until"] = until

    def pages() -> Iterator[XapiPage]:
        if resume:
            try:
                yield from statement_pages(http, resume, None)
                return
            except SourceError as exc:
                if exc.status not in _EXPIRED_MORE or audit.pages:
                    raise
                log.warning("xapi/statements: resume link refused (HTTP %s); re-reading the window", exc.status)
        yield from statement_pages(http, "statements", query)

    for batch in batches(pages(), lambda p: p.statements, config.batch_records, digest):
        stamps = [s["stored"] for s in batch.records if isinstance(s.get("stored"), str)]
        if stamps:
            top = max(stamps)       # LRS `stored` values share one format; only a fallback watermark
            max_stored = top if max_stored is None or top > max_stored else max_stored
        if batch.last.more:
            cursor = {"watermark": watermark, "in_window": True, "until": until, "more": batch.last.more,
                      "max_stored": max_stored}
        else:   # window read to its end: only now W := C (never backwards, whatever the LRS clock says)
            cursor = {"watermark": _later(watermark, until or max_stored), "in_window": False}
        audit.new_versions += lander.land_batch(SOURCE, STREAM, batch.records, run_id, spec=XAPI_SPEC,
                                                cursor=CursorWrite(cursor, audit.mode))
        audit.records += len(batch.records)
        audit.pages += batch.pages
        audit.bytes += batch.nbytes
    audit.cursor_to = (lander.read_cursor(SOURCE, STREAM) or {}).get("watermark")
    audit.checksum = digest.hexdigest()
    lander.write_extract(audit)
    log.info("xapi/statements: %d statements in %d pages, %d new (window to %s)", audit.records,
             audit.pages, audit.new_versions, audit.cursor_to)
    return audit
