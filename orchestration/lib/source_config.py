"""Settings (the environment) -> the connectors' plain configuration objects."""

from __future__ import annotations

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
from orchestration.lib.settings import Settings

SOURCES = ("hris", "xapi", "lms", "checkins", "payroll")
STREAMS: dict[str, tuple[str, ...]] = {source: tuple(RAW_STREAMS[source]) for source in SOURCES}


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
        ),
        xapi=XapiConfig(
            base_url=s["LRS_URL"], username=s["LRS_USERNAME"], password=s["LRS_PASSWORD"],
            account_homepage=s.get("LRS_ACCOUNT_HOMEPAGE"), http=http,
        ),
        lms=LmsConfig(
            base_url=s["LMS_URL"], client_id=s["LMS_CLIENT_ID"], client_secret=s["LMS_CLIENT_SECRET"], http=http
        ),
        checkins=CheckinsConfig(base_url=s["CHECKINS_URL"], token=s["CHECKINS_TOKEN"], http=http),
        payroll=PayrollConfig(inbox=s["PAYROLL_INBOX"]),
    )
