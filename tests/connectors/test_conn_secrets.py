"""No credential ever reaches a log line, an exception, or a table, even through 401s and 5xx."""
from __future__ import annotations

import base64
import logging
import traceback
from datetime import date

import pytest
from connector_fakes import FakeServer, LrsSource, RestSource, ScimSource

from connectors.config import CheckinsConfig, LmsConfig, ScimConfig, XapiConfig
from connectors.errors import BridgeError
from connectors.sync import extract_source

SCIM_TOKEN = "MARKER-scim-token-7d1e"
LRS_PASSWORD = "MARKER-lrs-password-9a2b"
LMS_SECRET = "MARKER-lms-secret-3c4d"
CHECKINS_TOKEN = "MARKER-checkins-token-5e6f"
DAY = date(2026, 6, 30)


def _all_text(con, caplog, errors: list[BaseException]) -> str:
    parts = [r.getMessage() for r in caplog.records]
    parts += [logging.Formatter().format(r) for r in caplog.records]
    for e in errors:
        parts += [str(e), repr(e), "".join(traceback.format_exception(e))]
    for schema, table in con.execute("select table_schema, table_name from information_schema.tables").fetchall():
        parts += [str(r) for r in con.execute(f'select * from "{schema}"."{table}"').fetchall()]
    return "\n".join(parts)


def test_markers_never_leak_through_retries_and_refusals(con, caplog, fast_http):
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    lms = RestSource({"users": [{"id": 1, "updated_at": "2026-06-01T00:00:00Z"}]},
                     client_id="lms-client", client_secret=LMS_SECRET)
    chk = RestSource({"objectives": [], "checkins": []}, token=CHECKINS_TOKEN)
    scim = ScimSource([], SCIM_TOKEN)
    lrs = LrsSource([], "lrs-user", LRS_PASSWORD, "2026-06-30T00:00:00Z")
    with FakeServer(lms) as s_lms, FakeServer(chk) as s_chk, FakeServer(scim) as s_scim, FakeServer(lrs) as s_lrs:
        configs = {
            "lms": LmsConfig(s_lms.url, "lms-client", LMS_SECRET, http=fast_http),
            "checkins": CheckinsConfig(s_chk.url, CHECKINS_TOKEN, http=fast_http),
            "hris": ScimConfig(f"{s_scim.url}/scim/v2", SCIM_TOKEN, http=fast_http),
            "xapi": XapiConfig(f"{s_lrs.url}/xapi", "lrs-user", LRS_PASSWORD, http=fast_http),
        }
        servers = {"lms": s_lms, "checkins": s_chk, "hris": s_scim, "xapi": s_lrs}
        for source, cfg in configs.items():
            assert "MARKER" not in repr(cfg)
            servers[source].faults = ["500", "502", "429:0"]        # retried, then succeeds
            extract_source(con, source, cfg, f"ok-{source}", DAY, logging.getLogger("t"),
                           streams=("users",) if source == "lms" else None)
            servers[source].faults = ["503"] * 10                   # retries exhausted
            with pytest.raises(BridgeError) as err:
                extract_source(con, source, cfg, f"fail-{source}", DAY, logging.getLogger("t"),
                               streams=("users",) if source == "lms" else None)
            errors.append(err.value)
            servers[source].faults = []
        lms.revoked.update(lms.issued)          # 401 on data, refresh succeeds: one retry
        extract_source(con, "lms", configs["lms"], "refresh", DAY, None, streams=("users",))
        lms.revoked.update(lms.issued)
        lms.client_secret = "rotated-elsewhere"  # 401 and the refresh is refused too
        chk.static_token = "rotated-too"
        scim.token = "rotated-scim"
        lrs.auth = "Basic eHg6eXk="
        for source, cfg in configs.items():
            with pytest.raises(BridgeError) as err:
                extract_source(con, source, cfg, f"denied-{source}", DAY, None,
                               streams=("users",) if source == "lms" else None)
            assert "credentials refused" in str(err.value) or "401" in str(err.value)
            errors.append(err.value)
    text = _all_text(con, caplog, errors)
    basic = base64.b64encode(f"lrs-user:{LRS_PASSWORD}".encode()).decode()
    for marker in [SCIM_TOKEN, LRS_PASSWORD, LMS_SECRET, CHECKINS_TOKEN, basic, *lms.issued]:
        assert marker not in text
    assert "retry" in text and "lms/users" in text        # the logs and errors were really captured


def test_callers_logger_masks_registered_secrets(con, caplog, fast_http):
    log = logging.getLogger("test.caller")
    with FakeServer(ScimSource([], SCIM_TOKEN)) as srv, caplog.at_level(logging.INFO, logger="test.caller"):
        extract_source(con, "hris", ScimConfig(f"{srv.url}/scim/v2", SCIM_TOKEN, http=fast_http), "r1", DAY, log)
        log.info("a careless line with %s inside", SCIM_TOKEN)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "a careless line with *** inside" in text and SCIM_TOKEN not in text
