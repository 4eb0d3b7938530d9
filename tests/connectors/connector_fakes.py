"""Small stdlib HTTP servers speaking each protocol, on 127.0.0.1 ephemeral ports.

Independent from connectors/: written from the RFC/xAPI/CONTRACT text. Faults
can be queued per request to exercise retries.
"""
from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from connectors.config import HttpSettings

FIXTURES = Path(__file__).resolve().parent / "fixtures"     # payloads from the RFCs and the xAPI spec

# short timeouts and no real waiting between retries keep the suite fast
FAST = HttpSettings(connect_timeout=1.0, read_timeout=0.5, max_attempts=4, backoff_initial=0.01,
                    backoff_max=0.05, retry_after_cap=0.2)

Route = Callable[["Request"], tuple[int, dict[str, str], bytes]]


class Request:
    def __init__(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> None:
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body


def jbody(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(obj).encode()


class FakeServer:
    """A loopback HTTP server; `faults` is a queue of faults applied to the next requests."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.faults: list[str] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()     # headers and body go out in two writes: without this, Nagle adds ~40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _do(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with outer.lock:
                    outer.requests.append((method, parts.path, query))
                    outer.counts[parts.path] += 1
                    fault = outer.faults.pop(0) if outer.faults else None
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "slow":
                    time.sleep(1.0)
                status, headers, payload = outer.route(Request(method, parts.path, query, self.headers, body))
                if fault and fault.startswith(("5", "4")):
                    code, _, retry_after = fault.partition(":")
                    status, headers, payload = int(code), {"Content-Type": "text/plain"}, b"fault"
                    if retry_after:
                        headers["Retry-After"] = retry_after
                length = len(payload)
                if fault == "truncate":
                    payload = payload[: max(1, len(payload) // 2)]
                if fault == "badjson":
                    payload, length = b"{not json", 9
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(payload)
                if fault == "truncate":
                    self.close_connection = True

            def do_GET(self) -> None:
                self._do("GET")

            def do_POST(self) -> None:
                self._do("POST")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass        # a client that hung up on a faulted response is expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s)


class ScimSource:
    """/scim/v2: ServiceProviderConfig, Users (index paging, optional filter gt), Users/{id}."""

    def __init__(self, users: list[dict], token: str, filter_supported: bool = True,
                 max_results: int | None = None, spc: dict | None = None) -> None:
        self.users, self.token, self.filter_supported, self.max_results = users, token, filter_supported, max_results
        self.spc = spc

    def __call__(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        if req.headers.get("Authorization") != f"Bearer {self.token}":
            return jbody({"status": "401"}, 401)
        if req.path == "/scim/v2/ServiceProviderConfig":
            return jbody(self.spc or {"filter": {"supported": self.filter_supported,
                                                 "maxResults": self.max_results or 1000}})
        if req.path.startswith("/scim/v2/Users/"):
            uid = req.path.rsplit("/", 1)[1]
            hit = [u for u in self.users if u["id"] == uid]
            return jbody(hit[0]) if hit else jbody({"status": "404"}, 404)
        if req.path == "/scim/v2/Users":
            users = self.users
            flt = req.query.get("filter")
            if flt:
                assert self.filter_supported
                value = flt.split('"')[1]
                users = [u for u in users if _ts(u["meta"]["lastModified"]) > _ts(value)]
            start = int(req.query.get("startIndex", 1))
            count = int(req.query.get("count", 100))
            if self.max_results:
                count = min(count, self.max_results)
            page = users[start - 1: start - 1 + count]
            return jbody({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                          "totalResults": len(users), "Resources": page})
        return jbody({}, 404)


class LrsSource:
    """/xapi/statements with since/until/ascending/limit and `more`; Basic auth; consistent-through."""

    def __init__(self, statements: list[dict], username: str, password: str, consistent_through: str,
                 max_limit: int = 100) -> None:
        self.statements, self.consistent_through, self.max_limit = statements, consistent_through, max_limit
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def __call__(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        if req.headers.get("Authorization") != self.auth:
            return jbody({}, 401)
        if req.headers.get("X-Experience-API-Version") != "1.0.3":
            return jbody({"error": "version header"}, 400)
        if req.path != "/xapi/statements":
            return jbody({}, 404)
        q = req.query
        rows = sorted(self.statements, key=lambda s: (s.get("stored", ""), s.get("id", "")))
        if "since" in q:
            rows = [s for s in rows if s.get("stored") and _ts(s["stored"]) > _ts(q["since"])]
        if "until" in q:
            rows = [s for s in rows if not s.get("stored") or _ts(s["stored"]) <= _ts(q["until"])]
        limit = min(int(q.get("limit", self.max_limit)) or self.max_limit, self.max_limit)
        offset = int(q.get("offset", 0))
        page = rows[offset: offset + limit]
        more = ""
        if offset + limit < len(rows):
            keep = {k: v for k, v in q.items() if k != "offset"}
            more = "/xapi/statements?" + "&".join(f"{k}={v}" for k, v in keep.items()) + f"&offset={offset + limit}"
        return jbody({"statements": page, "more": more},
                     headers={"X-Experience-API-Consistent-Through": self.consistent_through})


class RestSource:
    """/api/v1/<resource> cursor lists; Bearer token or OAuth2 client credentials (/oauth/token)."""

    def __init__(self, resources: dict[str, list[dict]], token: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None, max_limit: int = 100) -> None:
        self.resources, self.static_token = resources, token
        self.client_id, self.client_secret, self.max_limit = client_id, client_secret, max_limit
        self.issued: list[str] = []
        self.revoked: set[str] = set()

    def valid_tokens(self) -> set[str]:
        toks = set(self.issued) - self.revoked
        return toks | ({self.static_token} if self.static_token else set())

    def __call__(self, req: Request) -> tuple[int, dict[str, str], bytes]:
        if req.path == "/oauth/token" and req.method == "POST":
            form = {k: v[-1] for k, v in parse_qs(req.body.decode()).items()}
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return jbody({"error": "invalid_client"}, 401)
            tok = f"tok-{len(self.issued)}-{self.client_secret[::-1]}"
            self.issued.append(tok)
            return jbody({"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
        auth = req.headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.valid_tokens():
            return jbody({"error": "unauthorized"}, 401)
        name = req.path.removeprefix("/api/v1/")
        if name not in self.resources:
            return jbody({}, 404)
        stamp = lambda r: _ts(r.get("updated_at") or "1970-01-01T00:00:00Z")
        rows = sorted(self.resources[name], key=lambda r: (stamp(r), str(r["id"])))
        if "updated_since" in req.query:
            rows = [r for r in rows if stamp(r) > _ts(req.query["updated_since"])]
        limit = min(int(req.query.get("limit", self.max_limit)), self.max_limit)
        offset = int(req.query.get("cursor", "0") or 0)
        page = rows[offset: offset + limit]
        nxt = str(offset + limit) if offset + limit < len(rows) else None
        return jbody({"data": page, "next_cursor": nxt})
