"""`bridge check`: reach every source as a sync would, read one page of each, write nothing.

One result per source: ok with what was seen, or the cause (source, host and path, HTTP
status and what it means) as the connectors' errors word it, never a secret.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, replace

import fsspec

from connectors import checkins, lms, payroll, scim, xapi
from connectors.errors import BridgeError
from connectors.http import BearerAuth, HttpClient
from orchestration.lib.settings import Settings
from orchestration.lib.source_config import bridge_sources, http_settings


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _hris(config) -> str:
    with scim.client(config) as http:
        spc = scim.provider_config(http)
        page = http.get_json(scim.STREAM, "Users", params={"startIndex": 1, "count": 1}).body
    total = page.get("totalResults") if isinstance(page, dict) else None
    return (f"SCIM filter {'supported' if spc.filter_supported else 'unsupported (full pulls only)'}, "
            f"maxResults {spc.max_results or 'not stated'}; /Users answered (totalResults {total})")


def _xapi(config) -> str:
    with xapi.client(config) as http:
        about = http.get_json(xapi.STREAM, "about", ok_404=True)
        versions = about.body.get("version") if isinstance(about.body, dict) else None
        resp = http.get_json(xapi.STREAM, "statements", params={"limit": 1})
    statements = resp.body.get("statements") if isinstance(resp.body, dict) else None
    consistent = "Consistent-Through given" if resp.headers.get(xapi.CONSISTENT_THROUGH) else \
        "no Consistent-Through (windows bounded by Date minus LRS_SETTLE_SECONDS)"
    return (f"LRS versions {', '.join(versions) if versions else 'not stated (no /about)'}; "
            f"/statements answered ({len(statements or [])} on a page of 1, {consistent})")


def _rest(module, config) -> str:
    with module.client(config) as http:
        for stream in module.STREAMS:
            http.get_json(stream, f"api/v1/{stream}", params={"limit": 1})
    return f"token accepted; one page of each of {len(module.STREAMS)} resources"


def _payroll(inbox: str) -> str:
    files = payroll.list_files(inbox)  # lists (and hashes) every export: the inbox is readable
    fs, _ = fsspec.core.url_to_fs(inbox)
    bad = []
    for f in files:
        with fs.open(f.path, "rb") as fh:
            first = fh.readline().decode("utf-8-sig", errors="replace")
        header = [h.strip().lower() for h in next(csv.reader(io.StringIO(first)), [])]
        missing = [c for c in payroll.REQUIRED_COLUMNS if c not in header]
        if missing:
            bad.append(f"{f.name}:1 lacks {', '.join(missing)}")
    if bad:
        raise ValueError("; ".join(bad))
    return f"{inbox} readable, {len(files)} export(s), every header has the required columns"


def _provisioning(settings: Settings) -> str:
    url, token = settings.get("LMS_SCIM_URL"), settings.get("LMS_SCIM_TOKEN")
    http_cfg = http_settings(settings)
    with HttpClient("lms_scim", url, BearerAuth(token), replace(http_cfg, max_attempts=2),
                    headers={"Accept": "application/scim+json, application/json"}) as http:
        spc = http.get_json("provisioning", "ServiceProviderConfig").body
    patch = (spc.get("patch") or {}).get("supported") if isinstance(spc, dict) else None
    flt = (spc.get("filter") or {}).get("supported") if isinstance(spc, dict) else None
    return f"LMS SCIM: PATCH {'supported' if patch else 'unsupported'}, filter {'supported' if flt else 'unsupported'}"


def check_all(settings: Settings) -> list[CheckResult]:
    # a check is a few requests: fail in seconds rather than back off as a night's run does
    quick = replace(http_settings(settings), max_attempts=2)
    sources = bridge_sources(settings)
    checks: list[tuple[str, Callable[[], str]]] = [
        ("hris", lambda: _hris(replace(sources.hris, http=quick))),
        ("xapi", lambda: _xapi(replace(sources.xapi, http=quick))),
        ("lms", lambda: _rest(lms, replace(sources.lms, http=quick))),
        ("checkins", lambda: _rest(checkins, replace(sources.checkins, http=quick))),
        ("payroll", lambda: _payroll(sources.payroll.inbox)),
    ]
    if settings.get("LMS_SCIM_URL"):
        checks.append(("provisioning", lambda: _provisioning(settings)))
    results = []
    for name, run in checks:
        try:
            results.append(CheckResult(name, True, run()))
        except BridgeError as exc:
            results.append(CheckResult(name, False, str(exc).split("; stream stopped")[0]))
        except (OSError, ValueError) as exc:
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"))
    return results
