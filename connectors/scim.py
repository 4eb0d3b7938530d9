"""HRIS over SCIM 2.0 (RFC 7643/7644; CONTRACT 2.1).

Index paging from startIndex=1; a page may hold fewer than `count` and
`totalResults` may move, so the next index is `start + len(page)` and only an
empty page ends a listing. Incremental pulls filter on meta.lastModified where
the server supports filtering; a full pull runs otherwise, on the first run
and every `full_refresh_days`, and ends by tombstoning users it did not see
(each candidate is first re-read by id, so a user merely shifted between pages
by a concurrent change is not terminated by mistake).

State (bridge_state.cursor hris/users): `last_full_pull` (business date),
`last_modified` (max meta.lastModified seen), `absence_held` (a full pull's held count: the
next run pulls in full), and `in_pull` (mode, filter,
next startIndex, the run whose ids are in scim_seen) while a pull is running.

Servers name attributes differently: an `AttributeMap` (BRIDGE_SCIM_ATTRIBUTES) says which attribute,
by full schema path, gives the employee number and each employment field. The connector normalises
each record into the contract's shape as it lands (the mapped value is written at the contract's
path, a value it displaces is kept under REPLACED, every other attribute stays as served), so the raw
layer, its checks and the dbt models read one shape whatever the server, and a changed map shows as
new versions of the users it changes. The contract's paths are the default: records then land as served.

A full pull that would terminate more than `max_absence_termination_rate` of the active users by
absence terminates no one (a token that sees only part of the HRIS looks like that): the audit
reports the count (`absent_held`), orchestration records the blocking finding, and the next run pulls
in full again and decides again.
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from .batching import batches
from .config import ScimConfig
from .errors import AuthError, SourceError
from .http import BearerAuth, HttpClient, safe_path
from .landing import CursorWrite, DuckDBLander, ExtractAudit, RecordSpec
from .rest import parse_stamp, validate_records

SOURCE, STREAM = "hris", "users"
SCIM_SPEC = RecordSpec(id_path="$.id", updated_path="$.meta.lastModified", deleted_path=None)
REQUIRED = ("id", "userName")

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EMPLOYMENT = "urn:hris-lms-bridge:scim:extension:employment:1.0:User"
REPLACED = "urn:hris-lms-bridge:scim:replaced:1.0"     # {contract path: the value served there} a map displaced
EMPLOYMENT_FIELDS = ("hireDate", "terminationDate", "employmentType", "fte", "location", "frontline", "jobCode")
DEFAULT_ATTRIBUTES: dict[str, str] = {"employeeNumber": f"{ENTERPRISE}:employeeNumber",
                                      **{name: f"{EMPLOYMENT}:{name}" for name in EMPLOYMENT_FIELDS}}
_ATTR_NAME = re.compile(r"\$?[A-Za-z][A-Za-z0-9_-]*")     # RFC 7643 2.1 ATTRNAME (and $ref)


def parse_attribute_path(path: str) -> tuple[str | None, tuple[str, ...]]:
    """RFC 7644 3.10 notation: `<schema URN>:<attr>[.<sub>]`, or `<attr>[.<sub>]` of the core User
    schema (URN None). Raises ValueError naming the path."""
    text = str(path).strip()
    urn: str | None = None
    attr = text
    if text.lower().startswith("urn:"):
        urn, _, attr = text.rpartition(":")     # attribute names hold no ':', so the URN ends at the last one
        if urn.lower() == CORE_USER.lower():
            urn = None
    parts = tuple(attr.split("."))
    if not attr or not all(_ATTR_NAME.fullmatch(p) for p in parts) or len(parts) > 2:
        raise ValueError(f"{text!r} is not a SCIM attribute path (e.g. {ENTERPRISE}:employeeNumber)")
    return urn, parts


def _key(obj: dict[str, Any], name: str) -> str | None:
    """The key of `obj` naming `name`: SCIM attribute names and schema URNs are case-insensitive."""
    if name in obj:
        return name
    return next((k for k in obj if k.lower() == name.lower()), None)


def _value_at(record: dict[str, Any], urn: str | None, parts: tuple[str, ...]) -> Any:
    node: Any = record
    if urn is not None:
        node = record.get(_key(record, urn) or urn)
    for part in parts:
        if isinstance(node, list):      # a multi-valued attribute: its primary value, else the first
            items = [v for v in node if isinstance(v, dict)]
            node = next((v for v in items if v.get("primary") is True), items[0] if items else None)
        if not isinstance(node, dict):
            return None
        node = node.get(_key(node, part) or part)
    return node


class AttributeMap:
    """Which attribute gives the employee number and each employment field (BRIDGE_SCIM_ATTRIBUTES)."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        unknown = sorted(set(overrides or {}) - set(DEFAULT_ATTRIBUTES))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; expected some of "
                             f"{', '.join(DEFAULT_ATTRIBUTES)}")
        self.paths = {**DEFAULT_ATTRIBUTES, **(overrides or {})}
        self._moves = []
        for name, path in self.paths.items():
            source = parse_attribute_path(path)
            target = parse_attribute_path(DEFAULT_ATTRIBUTES[name])
            if (source[0] or "").lower() != (target[0] or "").lower() or \
                    tuple(p.lower() for p in source[1]) != tuple(p.lower() for p in target[1]):
                self._moves.append((DEFAULT_ATTRIBUTES[name], target, source))

    @property
    def is_default(self) -> bool:
        return not self._moves

    def apply(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record in the contract's shape: each mapped value at the contract's path."""
        if not self._moves:
            return record
        out = dict(record)
        replaced: dict[str, Any] = {}
        for default_path, (urn, (attr,)), (src_urn, src_parts) in self._moves:
            value = _value_at(record, src_urn, src_parts)
            ext_key = _key(out, urn) or urn
            ext = dict(out[ext_key]) if isinstance(out.get(ext_key), dict) else {}
            old_key = _key(ext, attr)
            if old_key is not None:
                old = ext.pop(old_key)
                if old is not None and old != value:
                    replaced[default_path] = old
            if value is not None:
                ext[attr] = value
            if ext:
                out[ext_key] = ext
            else:
                out.pop(ext_key, None)
        if replaced:
            out[REPLACED] = replaced
        return out


@dataclass
class ScimPage:
    records: list[dict[str, Any]]
    start_index: int
    next_index: int
    nbytes: int
    raw: bytes


@dataclass(frozen=True)
class ProviderConfig:
    filter_supported: bool
    max_results: int | None


def client(config: ScimConfig) -> HttpClient:
    return HttpClient(SOURCE, config.base_url, BearerAuth(config.token), config.http,
                      headers={"Accept": "application/scim+json, application/json"})


def provider_config(http: HttpClient) -> ProviderConfig:
    body = http.get_json(STREAM, "ServiceProviderConfig").body
    flt = body.get("filter") if isinstance(body, dict) else None
    flt = flt if isinstance(flt, dict) else {}
    max_results = flt.get("maxResults")
    return ProviderConfig(bool(flt.get("supported")), int(max_results) if isinstance(max_results, int) and
                          max_results > 0 else None)


def user_pages(http: HttpClient, *, count: int, start_index: int = 1, filter_expr: str | None = None,
               attributes: AttributeMap | None = None) -> Iterator[ScimPage]:
    """Yield pages of Users until the server returns an empty one."""
    while True:
        params: dict[str, Any] = {"startIndex": start_index, "count": count}
        if filter_expr:
            params["filter"] = filter_expr
        resp = http.get_json(STREAM, "Users", params=params)
        body = resp.body
        if not isinstance(body, dict):
            raise SourceError(SOURCE, STREAM, "ListResponse is not an object; page not landed",
                              path=safe_path(http.url("Users")), status=resp.status)
        records = body.get("Resources") or []
        validate_records(SOURCE, STREAM, records, REQUIRED)
        if not records:
            return
        if attributes is not None:
            records = [attributes.apply(r) for r in records]
        yield ScimPage(records, start_index, start_index + len(records), resp.nbytes, resp.raw)
        start_index += len(records)


def _last_modified(records: list[dict[str, Any]]) -> str | None:
    stamps = [m.get("lastModified") for r in records if isinstance(m := r.get("meta"), dict)]
    stamps = [s for s in stamps if isinstance(s, str)]
    try:
        return max(stamps, key=parse_stamp) if stamps else None
    except ValueError:      # a malformed stamp must not stop the feed: it only steers the next filter
        return max(stamps)


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    try:
        return max(a, b, key=parse_stamp)
    except ValueError:
        return max(a, b)


def extract(lander: DuckDBLander, config: ScimConfig, run_id: str, as_of: date,
            log: logging.Logger) -> list[ExtractAudit]:
    with client(config) as http:
        return [extract_users(lander, http, config, run_id, as_of, log)]


def extract_users(lander: DuckDBLander, http: HttpClient, config: ScimConfig, run_id: str, as_of: date,
                  log: logging.Logger, force_full: bool = False) -> ExtractAudit:
    state = lander.read_cursor(SOURCE, STREAM) or {}
    attributes = AttributeMap(config.attributes)
    spc = provider_config(http)
    count = min(config.page_size, spc.max_results) if spc.max_results else config.page_size
    pull = None if force_full else state.get("in_pull")
    if pull is None:                # a new pull; otherwise resume the interrupted one where it stopped
        last_full = state.get("last_full_pull")
        full = (force_full or not spc.filter_supported or not last_full or not state.get("last_modified")
                or state.get("absence_held")
                or (as_of - date.fromisoformat(last_full)).days >= config.full_refresh_days)
        pull = {"mode": "full" if full else "incremental", "seen_run_id": run_id, "start_index": 1,
                "filter_from": None if full else state["last_modified"], "max_seen": state.get("last_modified")}
    else:
        log.info("hris/users: resuming the %s pull of run %s at startIndex %d", pull["mode"],
                 pull["seen_run_id"], pull["start_index"])
    full = pull["mode"] == "full"
    audit = ExtractAudit(run_id, SOURCE, STREAM, mode=pull["mode"],
                         cursor_from=pull["filter_from"] if not full else state.get("last_full_pull"))
    digest = hashlib.sha256()
    filter_expr = f'meta.lastModified gt "{pull["filter_from"]}"' if pull["filter_from"] else None
    seen_run = pull["seen_run_id"] if full else None

    pages = user_pages(http, count=count, start_index=pull["start_index"], filter_expr=filter_expr,
                       attributes=attributes)
    if filter_expr:
        pages = _filter_refusal_guard(pages)
    try:
        for batch in batches(pages, lambda p: p.records, config.batch_records, digest):
            pull = {**pull, "start_index": batch.last.next_index,
                    "max_seen": _later(pull["max_seen"], _last_modified(batch.records))}
            cursor = CursorWrite({**state, "in_pull": pull}, pull["mode"])
            audit.new_versions += lander.land_batch(SOURCE, STREAM, batch.records, run_id, spec=SCIM_SPEC,
                                                    cursor=cursor, seen_run_id=seen_run)
            audit.records += len(batch.records)
            audit.pages += batch.pages
            audit.bytes += batch.nbytes
    except _FilterRefused as exc:
        # a server that advertises filtering but rejects this filter is still readable: pull everything
        log.warning("hris/users: the server refused the lastModified filter (HTTP %s); running a full pull",
                    exc.status)
        return extract_users(lander, http, config, run_id, as_of, log, force_full=True)

    done = {**state, "in_pull": None, "last_modified": pull["max_seen"]}
    if full:
        pulled_at = datetime.combine(as_of, datetime.now(UTC).time().replace(microsecond=0))
        absent = _confirm_absent(lander, http, run_id, seen_run, audit, digest, attributes)
        done["last_modified"] = pull["max_seen"] = _later(pull["max_seen"], audit.cursor_to)
        audit.active_users, absent_active = _active_counts(lander, absent)
        if absent_active > config.max_absence_termination_rate * audit.active_users:
            # held: no one terminated, and the next run pulls in full again to decide again
            audit.absent_held = done["absence_held"] = absent_active
            log.warning("hris/users: %d of %d active users are absent from this full pull (more than %.1f%%); "
                        "no absence terminations applied", absent_active, audit.active_users,
                        100 * config.max_absence_termination_rate)
            absent = []
        else:
            done["last_full_pull"], done["absence_held"] = as_of.isoformat(), None
        seen, marked = lander.finish_full_pull(run_id, seen_run, pulled_at, absent,
                                               CursorWrite(done, "full"))
        log.info("hris/users: full pull saw %d users, marked %d absent", seen, marked)
    else:
        lander.land_batch(SOURCE, STREAM, [], run_id, spec=SCIM_SPEC, cursor=CursorWrite(done, "incremental"))
    audit.cursor_to = done["last_modified"]
    audit.checksum = digest.hexdigest()
    lander.write_extract(audit)
    log.info("hris/users: %d records in %d pages, %d new versions (%s)", audit.records, audit.pages,
             audit.new_versions, audit.mode)
    return audit


class _FilterRefused(Exception):
    def __init__(self, status: int | None) -> None:
        super().__init__(f"filter refused (HTTP {status})")
        self.status = status


def _filter_refusal_guard(pages: Iterator[ScimPage]) -> Iterator[ScimPage]:
    """Turn a 400/501 on the first filtered request into _FilterRefused; later errors pass through."""
    try:
        first = next(pages)
    except StopIteration:
        return
    except SourceError as exc:
        if exc.status in (400, 403, 501) and not isinstance(exc, AuthError):
            raise _FilterRefused(exc.status) from None
        raise
    yield first
    yield from pages


def _active_counts(lander: DuckDBLander, absent: list[str]) -> tuple[int, int]:
    """(users live and active in raw, how many of them are in `absent`), before any tombstone."""
    row = lander.con.execute("""
        with live as (
            select record_id from raw.hris__users
            qualify row_number() over (partition by record_id order by batch_seq desc) = 1
                and not is_deleted
                and coalesce(lower(json_extract_string(payload, '$.active')), 'true') <> 'false')
        select count(*), count(*) filter (where record_id in (select unnest(?::varchar[]))) from live""",
        [absent]).fetchone()
    return int(row[0]), int(row[1])


def _confirm_absent(lander: DuckDBLander, http: HttpClient, run_id: str, seen_run: str,
                    audit: ExtractAudit, digest: Any, attributes: AttributeMap) -> list[str]:
    """Re-read each unseen user by id: 404 confirms absence, a record found is landed instead."""
    absent: list[str] = []
    for user_id in lander.absent_candidates(seen_run):
        resp = http.get_json(STREAM, f"Users/{quote(user_id, safe='')}", ok_404=True)
        rec = resp.body
        if resp.status == 404 or not isinstance(rec, dict) or rec.get("id") != user_id:
            absent.append(user_id)
            continue
        validate_records(SOURCE, STREAM, [rec], REQUIRED)
        rec = attributes.apply(rec)
        audit.new_versions += lander.land_batch(SOURCE, STREAM, [rec], run_id, spec=SCIM_SPEC,
                                                seen_run_id=seen_run)
        audit.records += 1
        audit.bytes += resp.nbytes
        audit.cursor_to = _later(audit.cursor_to, _last_modified([rec]))
        digest.update(resp.raw)
    return absent
