"""What the four source servers share: JSON responses, request stats and the fault mode."""
from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = ("500", "502", "503", "429", "drop", "stall", "truncate", "duplicate")
STALL_SECONDS = 3.0


class Faults:
    """Per-request fault dice. `duplicate` means: serve this page again next (cursor APIs)."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = float(rate)
        self.rng = random.Random(f"faults-{seed}")
        self.lock = threading.Lock()

    def roll(self) -> str | None:
        if self.rate <= 0:
            return None
        with self.lock:
            if self.rng.random() >= self.rate:
                return None
            return self.rng.choice(FAULT_KINDS)


class Stats:
    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.lock = threading.Lock()

    def hit(self, key: str) -> None:
        with self.lock:
            self.counts[key] += 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(sorted(self.counts.items()))


def encode_token(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(text: str) -> Any:
    pad = "=" * (-len(text) % 4)
    return json.loads(base64.urlsafe_b64decode(text + pad))


class BadRequest(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}


class Handler(BaseHTTPRequestHandler):
    """Keep-alive JSON handler; subclasses implement `route(method, path, query)`."""

    protocol_version = "HTTP/1.1"
    server_name = "base"
    fault_paths: tuple[str, ...] = ()  # path prefixes subject to faults
    app: Any = None  # set on the subclass by the server factory

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing -----------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.body = b""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.body = self.rfile.read(length)
        self.app.stats.hit(f"{self.server_name}:{method} {path}")
        fault = None
        if self.fault_paths and any(path.startswith(p) for p in self.fault_paths):
            fault = self.app.faults.roll()
            if fault:
                self.app.stats.hit(f"fault:{self.server_name}:{fault}")
            if fault == "drop":
                self.close_connection = True
                return
            if fault == "stall":
                time.sleep(STALL_SECONDS)
            if fault in ("500", "502", "503"):
                self.send_json(int(fault), {"error": "simulated server error"}, self.fault_headers())
                return
            if fault == "429":
                self.send_json(429, {"error": "rate limited"}, {"Retry-After": "1", **self.fault_headers()})
                return
        self.fault = fault
        try:
            status, body, headers = self.route(method, path, query)
        except BadRequest as exc:
            status, body, headers = exc.status, exc.body, exc.headers
        except Exception as exc:  # noqa: BLE001 - a bug here must not kill the server thread silently
            status, body, headers = 500, {"error": f"simulator error: {exc!r}"}, {}
        self.send_json(status, body, headers, truncate=fault == "truncate")

    def fault_headers(self) -> dict[str, str]:
        return {}

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None,
                  truncate: bool = False) -> None:
        data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
        if truncate and len(data) > 2:
            data = data[: len(data) // 2]
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def bearer(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None


def serve(handler_cls: type[Handler], app: Any, host: str) -> ThreadingHTTPServer:
    cls = type(handler_cls.__name__, (handler_cls,), {"app": app})
    srv = ThreadingHTTPServer((host, 0), cls)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, name=handler_cls.__name__, daemon=True).start()
    return srv
