"""LMS completions from an xAPI 1.0.3 Learning Record Store (CONTRACT 2.2).

A run reads the window since=W (exclusive) until=C (inclusive) in stored
order, C being the X-Experience-API-Consistent-Through the LRS reports when
the run starts (one cheap `limit=1` request), follows `more` to the end and
only then commits W := C. Many LRSs send no Consistent-Through: then C is that
response's `Date` minus `settle_seconds`, and the next window starts that much
before W (the overlap is re-read and absorbed by the id key), so a statement
stored late is still read. Some LRSs compare since/until with `timestamp`
rather than `stored` (ralph does), so a statement stored late with an old
timestamp escapes every incremental query: the whole LRS is re-read (no
`since`) at least every `full_refresh_days`, which lands what was missed.
Nothing assumes the LRS honours `ascending`: W only moves once a window is read
to its end. Each landed batch of pages commits the `more` IRL of
the next page as an in-window resume point; if the LRS no longer honours it
after a crash, the window is re-read from W and re-delivery is absorbed by the id key.

Python never parses a statement: each page is checked in DuckDB as it arrives
(`PageDecoder`: valid JSON, else retried like any truncated body; a
StatementResult whose `statements` are objects; its `more` link), and batches
of page texts are staged in DuckDB as served (`DuckDBLander.stage_pages`, ~20k
statements at a time) and committed with their cursor three DuckDB row groups at a
time (`land_staged`), so DuckDB writes them once, straight to the file. Statements are
immutable and keyed by `id`, so a statement already landed is skipped by its
id alone, and its payload is the statement as served (DuckDB-minified, keys in
served order). The next pages are fetched while a batch lands (`prefetch`).

A statement without an `id` (possible only from a non-conforming LRS; some
spec examples lack one) is keyed by sha256 of its text as landed.
"""
from __future__ import annotations

import codecs
import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, Self

import duckdb

from . import duck
from .batching import batches, prefetch
from .config import XapiConfig
from .errors import SourceError
from .http import BasicAuth, HttpClient, safe_path
from .landing import CursorWrite, DuckDBLander, ExtractAudit, RecordSpec
from .rest import parse_stamp

SOURCE, STREAM = "xapi", "statements"
RECORDS_PATH = "$.statements"
XAPI_SPEC = RecordSpec(id_path="$.id", updated_path="$.stored", deleted_path=None, id_from_hash=True,
                       immutable=True)
VERSION_HEADER = {"X-Experience-API-Version": "1.0.3"}
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
_EXPIRED_MORE = (400, 404, 410)
MAX_REPEATS = 5
# the page decoder's own database parses one page (a few MB of JSON) at a time
DECODER_MEMORY = 64 * duck.MiB


class PageInfo(NamedTuple):
    """What the extract needs to know about a page, read by DuckDB."""
    is_statement_result: bool   # an object whose `statements` is an array of objects
    count: int
    more: str | None
    max_stored: str | None      # latest string `stored` (only when the decoder was asked for it)


class PageDecoder:
    """Decode StatementResult pages in DuckDB, one small query per page (an in-memory database of its own,
    so it can run in the fetching thread while the lander's connection lands).

    Invalid or truncated JSON raises ValueError, which the HTTP layer retries.
    """

    _SQL = """
        select case when len(t) > 0 then list_distinct(t) = ['OBJECT']     -- a non-empty list: an array
                    else json_type(j, '$.statements') = 'ARRAY' end,
               len(t), json_extract_string(j, '$.more'), {stored}
        from (select j, json_type(j, '$.statements[*]') as t from (select decode(?::blob) as j))
    """
    _STORED = """list_max(list_transform(list_filter(json_extract(j, '$.statements[*].stored'),
                                                     lambda s: json_type(s) = 'VARCHAR'), lambda s: s->>'$'))"""

    def __init__(self, max_stored: bool = True) -> None:
        self._sql = self._SQL.format(stored=self._STORED if max_stored else "null")
        self._con = duck.connect(memory_limit=DECODER_MEMORY, threads=1)
        self._lock = threading.Lock()

    def __call__(self, raw: bytes) -> PageInfo:
        # the bytes go over as they are (a Python str of a multi-MB page costs a decode and a copy more);
        # DuckDB checks they are UTF-8
        body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
        try:
            with self._lock:
                ok, count, more, top = self._con.execute(self._sql, [body]).fetchone()
        except (duckdb.InvalidInputException, duckdb.ConversionException):
            # malformed JSON or not UTF-8 (a truncated body, say): retried; its text stays out
            raise ValueError("malformed JSON") from None
        return PageInfo(bool(ok), int(count or 0), more or None, top)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class XapiPage:
    raw: bytes                  # the StatementResult as served; landed as is
    count: int                  # statements in it
    more: str | None
    max_stored: str | None
    nbytes: int

    @property
    def statements(self) -> list[dict[str, Any]]:
        """The statements as Python objects, for tools and tests (the extract never parses them)."""
        return json.loads(self.raw)["statements"]


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


def window_end(http: HttpClient, settle_seconds: int) -> tuple[str | None, bool]:
    """(C, whether the LRS said it): its Consistent-Through, else its `Date` minus the settle lag,
    else (None, False): the window is then open-ended and W falls back to the latest `stored` read."""
    resp = http.get_json(STREAM, "statements", params={"limit": 1})
    said = resp.headers.get(CONSISTENT_THROUGH)
    if said:
        return said, True
    try:
        served = parsedate_to_datetime(resp.headers.get("Date") or "")
    except (TypeError, ValueError):
        return None, False
    if served.tzinfo is None:       # RFC 9110 dates are GMT
        served = served.replace(tzinfo=UTC)
    return _stamp(served - timedelta(seconds=settle_seconds)), False


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _minus(stamp: str, seconds: int) -> str:
    """The watermark moved back by the overlap (a stamp that does not parse is left as it is)."""
    if not seconds:
        return stamp
    try:
        return _stamp(parse_stamp(stamp) - timedelta(seconds=seconds))
    except ValueError:
        return stamp


def statement_pages(http: HttpClient, first: str, params: dict[str, Any] | None,
                    decoder: PageDecoder | None = None) -> Iterator[XapiPage]:
    """Yield StatementResult pages from `first` (a path or a `more` IRL), following `more`."""
    own = decoder is None
    decoder = decoder or PageDecoder()
    url, seen = first, Counter()
    try:
        while True:
            resp = http.get_json(STREAM, url, params=params, decode=decoder)
            info: PageInfo = resp.body
            if not info.is_statement_result:
                raise SourceError(SOURCE, STREAM, "response is not a StatementResult; page not landed",
                                  path=safe_path(http.url(url)), status=resp.status)
            more = info.more
            if more:
                # an LRS may serve a page again (re-delivery, absorbed by the id key); a link that keeps
                # coming back is a paging loop
                seen[more] += 1
                if seen[more] > MAX_REPEATS:
                    raise SourceError(SOURCE, STREAM, f"LRS returned the same 'more' link {seen[more]} times "
                                      "(paging loop); window stopped, committed pages kept, watermark not moved",
                                      path=safe_path(http.url(more)))
            yield XapiPage(resp.raw, info.count, more, info.max_stored, resp.nbytes)
            if not more:
                return
            url, params = more, None
    finally:
        if own:
            decoder.close()


def extract(lander: DuckDBLander, config: XapiConfig, run_id: str, log: logging.Logger,
            as_of: date | None = None) -> list[ExtractAudit]:
    with client(config) as http:
        return [extract_statements(lander, http, config, run_id, log, as_of)]


def extract_statements(lander: DuckDBLander, http: HttpClient, config: XapiConfig, run_id: str,
                       log: logging.Logger, as_of: date | None = None) -> ExtractAudit:
    """Read one window to its end. State (bridge_state.cursor xapi/statements): `watermark` (W),
    `overlap` (seconds the next window starts before W: the settle lag when C came from `Date`),
    `last_full_read` (business date of the last read of the whole LRS) and, while a window is being
    read, `in_window` with its `since`, `until`, `full` and the `more` link to resume from."""
    as_of = as_of or datetime.now(UTC).date()
    state = lander.read_cursor(SOURCE, STREAM) or {}
    watermark, last_full = state.get("watermark"), state.get("last_full_read")
    if state.get("in_window"):
        until, resume = state.get("until"), state.get("more")
        max_stored, overlap = state.get("max_stored"), state.get("overlap", 0)
        full = bool(state.get("full", not watermark))
        since = None if full else state.get("since", watermark)
        log.info("xapi/statements: resuming the window (%s, %s]", since, until)
    else:
        until, said = window_end(http, config.settle_seconds)
        resume, max_stored, overlap = None, None, 0 if said else config.settle_seconds
        full = (not watermark or not last_full
                or (as_of - date.fromisoformat(last_full)).days >= config.full_refresh_days)
        # the previous window's own overlap applies: it was the one whose C was not the LRS's word
        since = None if full else _minus(watermark, int(state.get("overlap", 0)))
    audit = ExtractAudit(run_id, SOURCE, STREAM, mode="full" if full else "incremental", cursor_from=since)
    digest = hashlib.sha256()
    query: dict[str, Any] = {"ascending": "true", "limit": config.page_size}
    if since:
        query["since"] = since
    if until:
        query["until"] = until

    def pages(decoder: PageDecoder) -> Iterator[XapiPage]:
        if resume:
            served = 0
            try:
                for page in statement_pages(http, resume, None, decoder):
                    served += 1
                    yield page
                return
            except SourceError as exc:
                if exc.status not in _EXPIRED_MORE or served:
                    raise
                log.warning("xapi/statements: resume link refused (HTTP %s); re-reading the window", exc.status)
        yield from statement_pages(http, "statements", query, decoder)

    def cursor_after(last: XapiPage) -> CursorWrite:
        if last.more:
            cursor = {"watermark": watermark, "in_window": True, "since": since, "until": until, "full": full,
                      "more": last.more, "max_stored": max_stored, "overlap": overlap,
                      "last_full_read": last_full}
        else:   # window read to its end: only now W := C (never backwards, whatever the LRS clock says)
            cursor = {"watermark": _later(watermark, until or max_stored), "in_window": False,
                      "overlap": overlap, "last_full_read": as_of.isoformat() if full else last_full}
        return CursorWrite(cursor, audit.mode)

    # pages are staged in DuckDB a group at a time (bounded memory) and committed with their cursor
    # every `batch_records` statements (three DuckDB row groups: written once, straight to the file)
    staged, last = 0, None
    stage_records = max(1, min(config.stage_records, config.batch_records))
    # `stored` is only needed as the watermark when the LRS gives no consistency point
    with PageDecoder(max_stored=until is None) as decoder, lander.memory_limit(config.memory_limit), \
            prefetch(pages(decoder), max(stage_records, config.prefetch_records), lambda p: p.count) as fetched:
        for group in batches(fetched, lambda p: [p], stage_records, digest, count_of=lambda p: p.count):
            stamps = [p.max_stored for p in group.records if p.max_stored is not None]
            if stamps:
                top = max(stamps)       # LRS `stored` values share one format; only a fallback watermark
                max_stored = top if max_stored is None or top > max_stored else max_stored
            lander.stage_pages([p.raw for p in group.records], records_path=RECORDS_PATH, spec=XAPI_SPEC)
            staged, last = staged + group.count, group.last
            audit.pages += group.pages
            audit.bytes += group.nbytes
            if staged >= config.batch_records or not last.more:
                audit.new_versions += lander.land_staged(SOURCE, STREAM, run_id, spec=XAPI_SPEC,
                                                         cursor=cursor_after(last))
                audit.records += staged
                staged = 0
        if staged and last is not None:
            audit.new_versions += lander.land_staged(SOURCE, STREAM, run_id, spec=XAPI_SPEC,
                                                     cursor=cursor_after(last))
            audit.records += staged
    audit.cursor_to = (lander.read_cursor(SOURCE, STREAM) or {}).get("watermark")
    audit.checksum = digest.hexdigest()
    lander.write_extract(audit)
    log.info("xapi/statements: %d statements in %d pages, %d new (window to %s)", audit.records,
             audit.pages, audit.new_versions, audit.cursor_to)
    return audit
