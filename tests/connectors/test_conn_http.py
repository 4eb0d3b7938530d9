"""The shared HTTP layer: retries, backoff, Retry-After, timeouts, auth refresh, redaction."""
from __future__ import annotations

import logging

import pytest
from connector_fakes import FakeServer, RestSource, jbody

from connectors.config import HttpSettings
from connectors.errors import AuthError, SourceError
from connectors.http import BearerAuth, HttpClient, OAuth2ClientCredentials, parse_retry_after
from connectors.redaction import RedactingFilter, redact


def _ok(req):
    return jbody({"data": [], "next_cursor": None, "q": req.query})


def _client(url: str, settings: HttpSettings, sleeps: list[float] | None = None, token: str = "t0ken-abc"):
    sleep = sleeps.append if sleeps is not None else (lambda s: None)
    return HttpClient("lms", url, BearerAuth(token), settings, sleep=sleep)


@pytest.mark.parametrize("fault", ["500", "503", "429", "drop", "truncate", "badjson", "slow"])
def test_transient_fault_is_retried_then_succeeds(fault, fast_http):
    with FakeServer(_ok) as srv:
        srv.faults = [fault, fault]
        resp = _client(srv.url, fast_http).get_json("users", "api/v1/users", params={"limit": 5})
        assert resp.body["q"] == {"limit": "5"}
        assert srv.counts["/api/v1/users"] == 3


def test_gives_up_after_bounded_attempts_naming_source_stream_path_status(fast_http):
    with FakeServer(_ok) as srv:
        srv.faults = ["503"] * 10
        with pytest.raises(SourceError) as err:
            _client(srv.url, fast_http).get_json("users", "api/v1/users", params={"secret_q": "zzz-query"})
        assert srv.counts["/api/v1/users"] == fast_http.max_attempts
        text = str(err.value)
        assert "lms/users" in text and "/api/v1/users" in text and "503" in text
        assert "zzz-query" not in text and "secret_q" not in text
        assert err.value.status == 503


def test_retry_after_is_honoured_and_capped(fast_http):
    sleeps: list[float] = []
    with FakeServer(_ok) as srv:
        srv.faults = ["429:0.15", "429:3600"]
        _client(srv.url, fast_http, sleeps).get_json("users", "api/v1/users")
    assert sleeps[0] == pytest.approx(0.15)
    assert sleeps[1] == fast_http.retry_after_cap       # 3600 s asked, capped


def test_backoff_grows_exponentially_without_retry_after():
    settings = HttpSettings(max_attempts=5, backoff_initial=1.0, backoff_max=100.0)
    sleeps: list[float] = []
    with FakeServer(_ok) as srv:
        srv.faults = ["500"] * 4
        _client(srv.url, settings, sleeps).get_json("users", "api/v1/users")
    assert len(sleeps) == 4
    for n, s in enumerate(sleeps):      # initial * 2**n plus up to `initial` of jitter
        assert 2 ** n <= s <= 2 ** n + 1.0


def test_parse_retry_after_forms():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert 0 <= parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0     # in the past


def test_caller_decoder_replaces_json_and_its_value_error_is_retried(fast_http):
    calls: list[bytes] = []

    def decode(raw: bytes) -> int:
        calls.append(raw)
        if len(calls) == 1:
            raise ValueError("my decoder found the body invalid")
        return len(raw)

    with FakeServer(_ok) as srv:
        srv.faults = ["badjson"]        # never reaches json.loads: the decoder sees it, and refuses it
        resp = _client(srv.url, fast_http).get_json("users", "api/v1/users", decode=decode)
        assert srv.counts["/api/v1/users"] == 2
    assert calls[0] == b"{not json" and resp.body == len(resp.raw) == len(calls[1])


def test_client_error_is_not_retried(fast_http):
    with FakeServer(lambda req: jbody({"error": "bad"}, 400)) as srv, pytest.raises(SourceError) as err:
        _client(srv.url, fast_http).get_json("users", "api/v1/users")
    assert srv.counts["/api/v1/users"] == 1 and err.value.status == 400


def test_oauth_token_refreshed_once_on_401(fast_http):
    src = RestSource({"users": []}, client_id="cid", client_secret="s3cr3t-value")
    with FakeServer(src) as srv:
        http = HttpClient("lms", srv.url, OAuth2ClientCredentials("oauth/token", "cid", "s3cr3t-value"), fast_http)
        http.get_json("users", "api/v1/users")
        src.revoked.add(src.issued[-1])             # token expires server-side
        http.get_json("users", "api/v1/users")
        assert len(src.issued) == 2 and srv.counts["/oauth/token"] == 2
        src.revoked.update(src.issued)
        src.client_secret = "rotated"               # refresh itself now fails: one refresh, no loop
        with pytest.raises(AuthError):
            http.get_json("users", "api/v1/users")
        assert srv.counts["/oauth/token"] == 3


def test_redact_masks_every_secret_and_basic_encoding():
    assert redact("token=abc123 and abc123", ["abc123"]) == "token=*** and ***"
    assert redact("nothing here", [None, ""]) == "nothing here"


def test_redacting_filter_masks_args_and_tracebacks():
    rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "auth %s failed", ("pa55word-xyz",), None)
    try:
        raise ValueError("pa55word-xyz leaked")
    except ValueError as exc:
        rec.exc_info = (type(exc), exc, exc.__traceback__)
    RedactingFilter(["pa55word-xyz"]).filter(rec)
    assert "pa55word-xyz" not in rec.getMessage() and "pa55word-xyz" not in rec.exc_text
    assert "***" in rec.getMessage()
