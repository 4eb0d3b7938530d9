"""Settings (the environment) -> the connectors' plain configuration objects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml

from connectors.config import (
    BridgeSources,
    CheckinsConfig,
    HttpSettings,
    LmsConfig,
    PayrollConfig,
    ScimConfig,
    XapiConfig,
)
from connectors.landing import RAW_STREAMS
from connectors.scim import AttributeMap
from orchestration.lib.settings import Settings, SettingsError

T = TypeVar("T", int, float)

SOURCES = ("hris", "xapi", "lms", "checkins", "payroll")
STREAMS: dict[str, tuple[str, ...]] = {source: tuple(RAW_STREAMS[source]) for source in SOURCES}


def _setting(settings: Settings, name: str, default: T, parse: Callable[[str], T], valid: Callable[[T], bool],
             expected: str) -> T:
    """An optional numeric setting, or SettingsError in one line naming it and what it must be."""
    raw = settings.extra.get(name)
    if not raw:
        return default
    try:
        value = parse(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be {expected}, got {raw!r}") from None
    if not valid(value):        # also refuses nan
        raise SettingsError(f"{name} must be {expected}, got {raw!r}")
    return value


def _float(settings: Settings, name: str, default: float) -> float:
    return _setting(settings, name, default, float, lambda v: v > 0, "a positive number of seconds")


def _rate(settings: Settings, name: str, default: float) -> float:
    return _setting(settings, name, default, float, lambda v: 0 <= v <= 1, "a share between 0 and 1")


def _seconds(settings: Settings, name: str, default: int) -> int:
    return _setting(settings, name, default, int, lambda v: v >= 0, "a whole number of seconds, 0 or more")


def scim_attributes(settings: Settings) -> dict[str, str]:
    """BRIDGE_SCIM_ATTRIBUTES: a YAML or JSON file mapping fields (employeeNumber, hireDate, ...) to
    attributes by full schema path; unset, the contract's paths."""
    name = "BRIDGE_SCIM_ATTRIBUTES"
    path = settings.extra.get(name)
    if not path:
        return {}
    try:
        mapping = yaml.safe_load(Path(path).read_text(encoding="utf-8"))    # JSON is YAML too
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read {path} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{name}: {path} is not YAML or JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise SettingsError(f"{name}: {path} must map field names to attribute paths, got {json.dumps(mapping)[:80]}")
    mapping = {str(k): v for k, v in mapping.items()}
    try:
        AttributeMap(mapping)
    except ValueError as exc:
        raise SettingsError(f"{name}: {path}: {exc}") from None
    return mapping


def http_settings(settings: Settings) -> HttpSettings:
    return HttpSettings(
        connect_timeout=_float(settings, "BRIDGE_HTTP_CONNECT_TIMEOUT", 5.0),
        read_timeout=_float(settings, "BRIDGE_HTTP_READ_TIMEOUT", 60.0),
        max_attempts=int(_float(settings, "BRIDGE_HTTP_MAX_ATTEMPTS", 6)),
        backoff_initial=_float(settings, "BRIDGE_HTTP_BACKOFF_INITIAL", 0.5),
    )


def bridge_sources(settings: Settings) -> BridgeSources:
    s = settings.sources
    http = http_settings(settings)
    return BridgeSources(
        hris=ScimConfig(
            base_url=s["HRIS_SCIM_URL"], token=s["HRIS_SCIM_TOKEN"],
            full_refresh_days=settings.full_refresh_days, http=http,
            attributes=scim_attributes(settings),
            max_absence_termination_rate=_rate(settings, "BRIDGE_MAX_ABSENCE_TERMINATION_RATE", 0.05),
        ),
        xapi=XapiConfig(
            base_url=s["LRS_URL"], username=s["LRS_USERNAME"], password=s["LRS_PASSWORD"],
            account_homepage=s.get("LRS_ACCOUNT_HOMEPAGE"), http=http,
            settle_seconds=_seconds(settings, "LRS_SETTLE_SECONDS", 300),
            full_refresh_days=settings.full_refresh_days,
        ),
        lms=LmsConfig(
            base_url=s["LMS_URL"], client_id=s["LMS_CLIENT_ID"], client_secret=s["LMS_CLIENT_SECRET"], http=http
        ),
        checkins=CheckinsConfig(base_url=s["CHECKINS_URL"], token=s["CHECKINS_TOKEN"], http=http),
        payroll=PayrollConfig(inbox=s["PAYROLL_INBOX"]),
    )
