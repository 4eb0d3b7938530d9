"""The one HTTP layer every HTTP feed uses.

A requests Session per source; (connect, read) timeouts; retries with
exponential backoff and jitter (tenacity) on connection errors, timeouts,
truncated or invalid JSON, 5xx and 429 (honouring Retry-After, capped);
a caller may bring its own body decoder (xAPI decodes pages in DuckDB, never
in Python), whose ValueError is retried just like invalid JSON;
Bearer, Basic and OAuth2 client-credentials auth with one token refresh and
one retry on a 401. Errors carry the source, stream, URL path (never the
query string) and last status, and never a credential.
"""
from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from .config import HttpSettings
from .errors import AuthError, HttpStatusError, SourceError
from .redaction import RedactingFilter, basic_variants, redact

log = logging.getLogger("connectors.http")
# One filter knows every credential any client of this process was given; add it to a handler
# (or logger) to mask them anywhere, as sync.extract_source does for the caller's logger.
SECRET_FILTER = RedactingFilter([])
log.addFilter(SECRET_FILTER)


def register_secrets(*secrets: str | None) -> None:
    """Mask these values in every connector log line from now on."""
    SECRET_FILTER.add(*secrets)


def safe_path(url: str) -> str:
    """The URL path only: query strings may carry filters or tokens, so they never reach a message."""
    return urlsplit(url).path or "/"


class _Retryable(Exception):
    def __init__(self, detail: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.detail, self.status, self.retry_after = detail, status, retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --- auth -----------------------------------------------------------------

class Auth:
    """Adds credentials to a request; may refresh them once after a 401."""
    refreshable = False

    def secrets(self) -> list[str]:
        return []

    def headers(self, client: HttpClient, stream: str) -> dict[str, str]:
        return {}

    def refresh(self, client: HttpClient, stream: str) -> None:
        pass


class BearerAuth(Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def secrets(self) -> list[str]:
        return [self._token]

    def headers(self, client: HttpClient, stream: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}


class BasicAuth(Auth):
    def __init__(self, username: str, password: str) -> None:
        self._username, self._password = username, password

    def secrets(self) -> list[str]:
        return basic_variants(self._username, self._password)

    def headers(self, client: HttpClient, stream: str) -> dict[str, str]:
        return {"Authorization": "Basic " + basic_variants(self._username, self._password)[1]}


class OAuth2ClientCredentials(Auth):
    """Client-credentials grant against `POST {base}/oauth/token` (CONTRACT 2.3)."""
    refreshable = True

    def __init__(self, token_path: str, client_id: str, client_secret: str) -> None:
        self._token_path, self._client_id, self._client_secret = token_path, client_id, client_secret
        self._access_token: str | None = None

    def secrets(self) -> list[str]:
        return [s for s in (self._client_secret, self._access_token) if s]

    def headers(self, client: HttpClient, stream: str) -> dict[str, str]:
        if self._access_token is None:
            self.refresh(client, stream)
        return {"Authorization": f"Bearer {self._access_token}"}

    def refresh(self, client: HttpClient, stream: str) -> None:
        form = {"grant_type": "client_credentials", "client_id": self._client_id,
                "client_secret": self._client_secret}
        body = client.request_json("POST", stream, self._token_path, data=form, authenticated=False).body
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(client.source, stream, "token response has no access_token",
                            path=safe_path(client.url(self._token_path)))
        self._access_token = token
        register_secrets(token)


# --- client -----------------------------------------------------------------

@dataclass
class JsonResponse:
    body: Any
    headers: Mapping[str, str]
    nbytes: int
    raw: bytes
    status: int


class HttpClient:
    """JSON over HTTP for one source, with retries, auth and redaction."""

    def __init__(self, source: str, base_url: str, auth: Auth, settings: HttpSettings,
                 headers: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.source, self.base_url, self.auth, self.settings = source, base_url.rstrip("/"), auth, settings
        self.session = requests.Session()
        self.session.trust_env = False          # loopback only: never a proxy from the environment
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self._sleep = sleep
        register_secrets(*auth.secrets())

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path_or_url: str) -> str:
        """Absolute URL. `Users` is relative to the base URL; `/x/y` is relative to the host
        (how xAPI's `more` IRL is given); an absolute URL is used as is."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        if path_or_url.startswith("/"):
            return urljoin(self.base_url, path_or_url)
        return f"{self.base_url}/{path_or_url}"

    def get_json(self, stream: str, path: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, ok_404: bool = False,
                 decode: Callable[[bytes], Any] | None = None) -> JsonResponse:
        return self.request_json("GET", stream, path, params=params, headers=headers, ok_404=ok_404,
                                 decode=decode)

    def request_json(self, method: str, stream: str, path: str, *, params: Mapping[str, Any] | None = None,
                     data: Mapping[str, str] | bytes | None = None, headers: Mapping[str, str] | None = None,
                     authenticated: bool = True, ok_404: bool = False,
                     decode: Callable[[bytes], Any] | None = None) -> JsonResponse:
        """One request with retries. `decode` turns the body bytes into `body` (default `json.loads`);
        a ValueError from it means a truncated or invalid body and is retried. `data` is a form, or
        the request body's bytes (the caller sets its Content-Type). Any other 4xx raises
        HttpStatusError, which keeps the response body for the caller (never in its message)."""
        url = self.url(path)
        state = {"refreshed": False, "status": None}
        decoder = decode or json.loads

        def attempt() -> JsonResponse:
            return self._attempt(method, stream, url, params, data, headers, authenticated, ok_404, state, decoder)

        retrying = Retrying(stop=stop_after_attempt(self.settings.max_attempts), wait=self._wait,
                            retry=retry_if_exception_type(_Retryable), sleep=self._sleep,
                            before_sleep=self._log_retry(stream, url, method), reraise=True)
        try:
            return retrying(attempt)
        except _Retryable as exc:
            raise SourceError(self.source, stream,
                              f"gave up after {self.settings.max_attempts} attempts: {exc.detail}",
                              path=safe_path(url), status=exc.status, method=method) from None

    def _attempt(self, method: str, stream: str, url: str, params: Mapping[str, Any] | None,
                 data: Mapping[str, str] | bytes | None, headers: Mapping[str, str] | None, authenticated: bool,
                 ok_404: bool, state: dict, decode: Callable[[bytes], Any]) -> JsonResponse:
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        state["attempts"] = state.get("attempts", 0) + 1
        while True:
            hdrs = dict(headers or {})
            if authenticated:
                hdrs.update(self.auth.headers(self, stream))
            try:
                resp = self.session.request(method, url, params=params, data=data, headers=hdrs,
                                            timeout=timeout, allow_redirects=False, stream=True)
            except requests.Timeout as exc:
                raise _Retryable(f"timeout ({type(exc).__name__})", state["status"]) from None
            except requests.RequestException as exc:
                raise _Retryable(f"connection failed ({type(exc).__name__})", state["status"]) from None
            try:
                # the body in one read, here, so a truncated body is a retryable failure (urllib3 checks
                # Content-Length; the connection goes back to the pool once the body is read).
                # `resp.content` would read it in 10 kB chunks: 3x the CPU on multi-MB xAPI pages
                raw = resp.raw.read(decode_content=True)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                resp.close()
                kind = "timeout" if isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)) \
                    else "connection failed"
                raise _Retryable(f"{kind} ({type(exc).__name__})", state["status"]) from None
            state["status"] = resp.status_code
            if resp.status_code == 401 and authenticated and self.auth.refreshable and not state["refreshed"]:
                state["refreshed"] = True       # one token refresh, one retry
                self.auth.refresh(self, stream)
                continue
            break
        status = resp.status_code
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}", status, parse_retry_after(resp.headers.get("Retry-After")))
        if status in (401, 403):
            raise AuthError(self.source, stream, f"credentials refused (HTTP {status}); nothing landed from "
                            "this request", path=safe_path(url), status=status, method=method)
        if status == 404 and ok_404:
            return JsonResponse(None, resp.headers, len(raw), raw, status)
        if not 200 <= status < 300:
            raise HttpStatusError(self.source, stream, f"unexpected HTTP {status}", path=safe_path(url),
                                  status=status, method=method, body=raw, attempts=state["attempts"])
        if not raw and status == 204:
            return JsonResponse(None, resp.headers, 0, raw, status)
        try:
            body = decode(raw)
        except ValueError:
            raise _Retryable(f"truncated or invalid JSON body ({len(raw)} bytes)", status) from None
        return JsonResponse(body, resp.headers, len(raw), raw, status)

    def _wait(self, rs: RetryCallState) -> float:
        exc = rs.outcome.exception() if rs.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.settings.retry_after_cap)
        return wait_exponential_jitter(multiplier=self.settings.backoff_initial, max=self.settings.backoff_max,
                                       jitter=self.settings.backoff_initial)(rs)

    def _log_retry(self, stream: str, url: str, method: str = "GET") -> Callable[[RetryCallState], None]:
        def before_sleep(rs: RetryCallState) -> None:
            exc = rs.outcome.exception() if rs.outcome else None
            detail = exc.detail if isinstance(exc, _Retryable) else type(exc).__name__
            log.warning("%s/%s %s %s: %s; retry %d/%d in %.2fs", self.source, stream, method, safe_path(url),
                        redact(detail, self.auth.secrets()), rs.attempt_number, self.settings.max_attempts - 1,
                        rs.next_action.sleep if rs.next_action else 0.0)
        return before_sleep
