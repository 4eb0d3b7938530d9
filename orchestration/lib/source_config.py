"""Settings (the environment) -> the connectors' plain configuration objects."""

from __future__ import annotations

import json
from pathlib import Path

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
from orchestration.lib.settings import Settings

SOURCES = ("hris", "xapi", "lms", "checkins", "payroll")
STREAMS: dict[str, tuple[str, ...]] = {source: tuple(RAW_STREAMS[source]) for source in SOURCES}


def load_scim_attributes(path: str | Path) -> dict[str, str]:
    """BRIDGE_SCIM_ATTRIBUTES: a YAML or JSON file mapping fields (employeeNumber, hireDate, ...) to
    attributes by full schema path. Raises ValueError saying what is wrong (checked with the settings)."""
    try:
        mapping = yaml.safe_load(Path(path).read_text(encoding="utf-8"))    # JSON is YAML too
    except OSError as exc:
        raise ValueError(f"cannot read {path} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not YAML or JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise ValueError(f"{path} must map field names to attribute paths, got {json.dumps(mapping)[:80]}")
    mapping = {str(k): v for k, v in mapping.items()}
    try:
        AttributeMap(mapping)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return mapping


def scim_attributes(settings: Settings) -> dict[str, str]:
    """The attribute map BRIDGE_SCIM_ATTRIBUTES names; unset, the contract's paths ({})."""
    path = settings.get("BRIDGE_SCIM_ATTRIBUTES")
    return load_scim_attributes(path) if path else {}


def http_settings(settings: Settings) -> HttpSettings:
    """Validated (and defaulted) by Settings.from_env before anything runs."""
    return HttpSettings(
        connect_timeout=settings.get("BRIDGE_HTTP_CONNECT_TIMEOUT"),
        read_timeout=settings.get("BRIDGE_HTTP_READ_TIMEOUT"),
        max_attempts=settings.get("BRIDGE_HTTP_MAX_ATTEMPTS"),
        backoff_initial=settings.get("BRIDGE_HTTP_BACKOFF_INITIAL"),
    )


def bridge_sources(settings: Settings) -> BridgeSources:
    s = settings.sources
    http = http_settings(settings)
    return BridgeSources(
        hris=ScimConfig(
            base_url=s["HRIS_SCIM_URL"], token=s["HRIS_SCIM_TOKEN"],
            full_refresh_days=settings.full_refresh_days, http=http,
            attributes=scim_attributes(settings),
            max_absence_termination_rate=settings.get("BRIDGE_MAX_ABSENCE_TERMINATION_RATE"),
        ),
        xapi=XapiConfig(
            base_url=s["LRS_URL"], username=s["LRS_USERNAME"], password=s["LRS_PASSWORD"],
            account_homepage=s.get("LRS_ACCOUNT_HOMEPAGE"), http=http,
            settle_seconds=settings.get("LRS_SETTLE_SECONDS"),
            full_refresh_days=settings.full_refresh_days,
            # the work file is opened within its share of BRIDGE_MEMORY_LIMIT, which the feeds
            # landing side by side share: the connector must not set (and reset) it under them
            memory_limit=None,
        ),
        lms=LmsConfig(
            base_url=s["LMS_URL"], client_id=s["LMS_CLIENT_ID"], client_secret=s["LMS_CLIENT_SECRET"], http=http
        ),
        checkins=CheckinsConfig(base_url=s["CHECKINS_URL"], token=s["CHECKINS_TOKEN"], http=http),
        payroll=PayrollConfig(inbox=s["PAYROLL_INBOX"]),
    )
