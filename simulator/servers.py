"""The four source protocols (CONTRACT 2.1-2.4) and the admin API, over stdlib HTTP servers."""
from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from simulator import scim_feed
from simulator.clock import parse_iso
from simulator.dialect import Reference
from simulator.http_common import BadRequest, Handler, decode_token, encode_token
from simulator.store import VersionLog

TOKEN_TTL = 3600
_FILTER = re.compile(r'^\s*meta\.lastModified\s+(gt|ge)\s+"([^"]+)"\s*$', re.IGNORECASE)


def _int(query: dict[str, str], name: str, default: int, lo: int | None = None) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(400, {"error": f"{name} must be an integer"}) from None
    return value if lo is None else max(lo, value)


# -- SCIM 2.0 ---------------------------------------------------------------------------------
class ScimHandler(Handler):
    server_name = "scim"
    fault_paths = ("/scim/v2/Users",)

    def _error(self, status: int, detail: str, scim_type: str | None = None) -> BadRequest:
        return BadRequest(status, scim_feed.error(status, detail, scim_type),
                          {"Content-Type": "application/scim+json"})

    def route(self, method: str, path: str, query: dict[str, str]):
        app = self.app
        if method != "GET":
            raise self._error(405, "method not allowed")
        if self.bearer() != app.creds["HRIS_SCIM_TOKEN"]:
            raise BadRequest(401, scim_feed.error(401, "Bearer token missing or invalid"),
                             {"WWW-Authenticate": 'Bearer realm="scim"'})
        base = app.env["HRIS_SCIM_URL"]
        world = app.world
        if path == "/scim/v2/ServiceProviderConfig":
            return 200, scim_feed.service_provider_config(base, world.filter_supported,
                                                          world.dialect.scim_max_results), {}
        if path.startswith("/scim/v2/Users/"):
            uid = path.rsplit("/", 1)[1]
            with world.lock:
                for e in world.org.employees:
                    if e.scim_id == uid and not e.absent:
                        return 200, scim_feed.user_bytes(e, world.org, base), {}
            raise self._error(404, f"User {uid} not found")
        if path != "/scim/v2/Users":
            raise self._error(404, f"no resource at {path}")
        start = _int(query, "startIndex", 1, lo=1)
        dialect = world.dialect
        count = min(_int(query, "count", dialect.scim_default_count, lo=0), dialect.scim_max_results,
                    dialect.scim_page_cap)
        flt = query.get("filter")
        since, op = None, "gt"
        if flt:
            if not world.filter_supported:
                raise self._error(400, "filtering is not supported by this server", "invalidFilter")
            m = _FILTER.match(flt)
            if not m:
                raise self._error(400, f"unsupported filter: {flt}", "invalidFilter")
            op = m.group(1).lower()
            try:
                since = parse_iso(m.group(2))
            except ValueError:
                raise self._error(400, f"bad timestamp in filter: {m.group(2)}", "invalidValue") from None
        if self.fault == "duplicate":  # index paging has no cursor: a short page exercises the same care
            count = max(1, count // 2)
        with world.lock:
            matches = app.scim_matches(since, op)
            page = matches[start - 1: start - 1 + count]
            items = [scim_feed.user_bytes(e, world.org, base) for e in page]
            total = len(matches)
        resources = b',"Resources":[' + b",".join(items) + b"]" if items or dialect.empty_resources else b""
        body = (b'{"schemas":["' + scim_feed.LIST_RESPONSE.encode() + b'"],"totalResults":' + str(total).encode()
                + b',"startIndex":' + str(start).encode() + b',"itemsPerPage":' + str(len(items)).encode()
                + resources + b"}")
        return 200, body, {"Content-Type": "application/scim+json"}


# -- xAPI LRS ---------------------------------------------------------------------------------
XAPI_PARAMS = {"since", "until", "ascending", "limit", "more", "format", "attachments"}


class LrsHandler(Handler):
    server_name = "xapi"
    fault_paths = ("/xapi/statements",)

    def fault_headers(self) -> dict[str, str]:
        return self._headers()

    def _headers(self) -> dict[str, str]:
        with self.app.world.lock:
            ct = self.app.world.consistent_through()
        return {"X-Experience-API-Version": "1.0.3",
                "X-Experience-API-Consistent-Through": self.app.world.dialect.stamp(ct)}

    def _fail(self, status: int, message: str, extra: dict | None = None) -> BadRequest:
        return BadRequest(status, {"error": message}, {**self._headers(), **(extra or {})})

    def route(self, method: str, path: str, query: dict[str, str]):
        app = self.app
        auth = self.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(
            f"{app.creds['LRS_USERNAME']}:{app.creds['LRS_PASSWORD']}".encode()).decode()
        if auth != expected:
            raise self._fail(401, "HTTP Basic credentials missing or invalid", {"WWW-Authenticate": 'Basic realm="lrs"'})
        if not (self.headers.get("X-Experience-API-Version") or "").startswith("1.0"):
            raise self._fail(400, "X-Experience-API-Version header is required (1.0.3)")
        if path == "/xapi/about":
            return 200, {"version": ["1.0.3"]}, self._headers()
        if path != "/xapi/statements" or method != "GET":
            raise self._fail(404, f"no resource at {method} {path}")
        world = app.world
        with world.lock:
            ct = world.consistent_through()
            if "more" in query:
                try:
                    tok = decode_token(query["more"])
                    since, until, pos, asc, limit = tok["s"], tok["u"], tok["p"], tok["a"], tok["l"]
                except (ValueError, KeyError, TypeError):
                    raise self._fail(400, "invalid more token") from None
            else:
                unknown = set(query) - XAPI_PARAMS
                if unknown:
                    raise self._fail(400, f"unsupported query parameters: {sorted(unknown)}")
                try:
                    since = parse_iso(query["since"]) if query.get("since") else None
                    until = min(parse_iso(query["until"]), ct) if query.get("until") else ct
                except ValueError as exc:
                    raise self._fail(400, f"bad timestamp: {exc}") from None
                asc = query.get("ascending", "false").lower() == "true"
                limit = _int(query, "limit", 0, lo=0)
                cap = world.dialect.xapi_max_limit
                limit = cap if limit == 0 else min(limit, cap)
                pos = None
            items, count, nxt = world.xapi.query(since, until, pos, limit, asc)
            if self.fault == "duplicate" and count:  # the LRS re-runs the query behind `more`: same page again
                nxt = pos if pos is not None else (0 if asc else None)
                if nxt is None and not asc:
                    nxt = world.xapi.query(since, until, None, 0, asc)[2]
            more = "" if nxt is None else world.dialect.more_prefix + encode_token(
                {"s": since, "u": until, "p": nxt, "a": asc, "l": limit})
            headers = {"X-Experience-API-Version": "1.0.3",
                       "X-Experience-API-Consistent-Through": world.dialect.stamp(ct)}
            if world.lagging:
                world.reveal_some()
        body = b'{"statements":[' + items + b'],"more":"' + more.encode() + b'"}'
        return 200, body, headers


# -- REST lists (LMS, check-ins) --------------------------------------------------------------
def list_page(log: VersionLog, query: dict[str, str], duplicate: bool, dialect: Reference,
              resource: str) -> bytes:
    limit = min(_int(query, "limit", dialect.rest_default_limit, lo=1), dialect.rest_max_limit,
                dialect.rest_page_cap)
    cursor = query.get("cursor")
    if cursor:
        try:
            start = dialect.decode_cursor(cursor)
        except (ValueError, KeyError, TypeError):
            raise BadRequest(400, {"error": "invalid cursor"}) from None
    else:
        try:
            since = parse_iso(query["updated_since"]) if query.get("updated_since") else None
        except ValueError:
            raise BadRequest(400, {"error": f"updated_since is not ISO 8601: {query['updated_since']}"}) from None
        start = log.start_for(since)
    items, nxt, more = log.page(start, limit)
    if duplicate and items:
        nxt, more = start, True
    data = b'{"data":[' + b",".join(dialect.rest_payloads(resource, items)) + b"]"
    if more:
        return data + b',"next_cursor":"' + dialect.encode_cursor(nxt).encode() + b'"}'
    return data + (b',"next_cursor":null}' if dialect.null_end_cursor else b"}")


class LmsHandler(Handler):
    server_name = "lms"
    fault_paths = ("/api/v1/", "/oauth/token")

    def route(self, method: str, path: str, query: dict[str, str]):
        app = self.app
        if path == "/oauth/token" and method == "POST":
            return self._token()
        if not path.startswith("/api/v1/") or method != "GET":
            raise BadRequest(404, {"error": f"no resource at {method} {path}"})
        token = self.bearer()
        if not token or app.tokens.get(token, 0) < time.monotonic():
            raise BadRequest(401, {"error": "invalid_token", "error_description": "token missing or expired"},
                             {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        resource = path[len("/api/v1/"):]
        log = app.world.lms.logs.get(resource)
        if log is None:
            raise BadRequest(404, {"error": f"unknown resource {resource}"})
        with app.world.lock:
            return 200, list_page(log, query, self.fault == "duplicate", app.world.dialect, resource), {}

    def _token(self):
        app = self.app
        form = {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}
        auth = self.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":  # RFC 6749 2.3.1 allows the client to authenticate either way
            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                form.setdefault("client_id", cid)
                form.setdefault("client_secret", secret)
            except ValueError:  # not base64 / not UTF-8: treated as absent credentials
                pass
        if form.get("grant_type") != "client_credentials":
            raise BadRequest(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != app.creds["LMS_CLIENT_ID"] or form.get("client_secret") != app.creds["LMS_CLIENT_SECRET"]:
            raise BadRequest(401, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        app.tokens[token] = time.monotonic() + TOKEN_TTL
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL}, {"Cache-Control": "no-store"}


class TokenBucket:
    def __init__(self, capacity: float, per_second: float) -> None:
        self.capacity, self.rate = capacity, per_second
        self.level, self.at = capacity, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
            self.at = now
            if self.level >= 1:
                self.level -= 1
                return True
            return False


class CheckinsHandler(Handler):
    server_name = "checkins"
    fault_paths = ("/api/v1/",)

    def route(self, method: str, path: str, query: dict[str, str]):
        app = self.app
        if self.bearer() != app.creds["CHECKINS_TOKEN"]:
            raise BadRequest(401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"})
        if not app.bucket.take():
            raise BadRequest(429, {"error": "rate limited"}, {"Retry-After": "1"})
        logs = {"objectives": app.world.strategy.objectives, "checkins": app.world.strategy.checkins}
        resource = path.removeprefix("/api/v1/")
        log = logs.get(resource)
        if log is None or method != "GET":
            raise BadRequest(404, {"error": f"no resource at {method} {path}"})
        with app.world.lock:
            return 200, list_page(log, query, self.fault == "duplicate", app.world.dialect, resource), {}


# -- admin ------------------------------------------------------------------------------------
class AdminHandler(Handler):
    server_name = "admin"

    def route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any, dict]:
        import json
        app = self.app
        try:
            body = json.loads(self.body or b"{}")
        except ValueError:
            raise BadRequest(400, {"error": "body must be JSON"}) from None
        if method == "GET" and path == "/stats":
            return 200, app.stats.snapshot(), {}
        if method == "GET" and path == "/state":
            return 200, app.state(), {}
        if method != "POST":
            raise BadRequest(404, {"error": f"no admin endpoint {method} {path}"})
        try:
            if path == "/advance":
                app.advance(int(body.get("days", 1)))
            elif path == "/inject":
                params = {k: v for k, v in body.items() if k != "kind"}
                return 200, app.inject(body.get("kind", ""), params), {}
            elif path == "/reset-faults":
                app.faults.rate = float(body.get("rate", 0.0))
            elif path == "/lagging":
                app.set_lagging(bool(body.get("on", True)))
            elif path == "/filter":
                app.set_filter(bool(body.get("supported", True)))
            elif path == "/expire-tokens":
                app.tokens.clear()
            elif path == "/shutdown":
                threading.Thread(target=app.shutdown, daemon=True).start()
            else:
                raise BadRequest(404, {"error": f"no admin endpoint {path}"})
        except (KeyError, ValueError) as exc:
            raise BadRequest(400, {"error": str(exc)}) from None
        return 200, app.state(), {}
