"""Plain configuration dataclasses for the connectors.

The connectors never read the environment: orchestration (or a test) builds
these from CONTRACT section 1 and passes them in.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 6           # total tries per request, first one included
    backoff_initial: float = 0.5    # seconds; doubles per attempt, plus jitter
    backoff_max: float = 20.0
    retry_after_cap: float = 60.0   # a server asking for longer is capped here


@dataclass(frozen=True)
class ScimConfig:
    base_url: str                   # ends before /Users
    token: str = field(repr=False)
    page_size: int = 200
    full_refresh_days: int = 7
    batch_records: int = 5000       # records landed (and committed with their cursor) at a time
    http: HttpSettings = HttpSettings()
    # field -> full schema path of the attribute that gives it (BRIDGE_SCIM_ATTRIBUTES); fields not named
    # keep the contract's paths (scim.DEFAULT_ATTRIBUTES)
    attributes: Mapping[str, str] = field(default_factory=dict)
    # a full pull that would terminate more than this share of the live users by absence terminates
    # no one (BRIDGE_MAX_ABSENCE_TERMINATION_RATE)
    max_absence_termination_rate: float = 0.05


@dataclass(frozen=True)
class XapiConfig:
    base_url: str                   # ends before /statements
    username: str
    password: str = field(repr=False)
    account_homepage: str | None = None
    # statements asked per page (the LRS may serve fewer): few large pages cost the LRS and the bridge
    # far less per statement than many small ones (one request, one DuckDB call per page)
    page_size: int = 5000
    # statements landed (and committed with their cursor) at a time. A transaction appending at least
    # one DuckDB row group (122,880 rows) is written straight to the database file instead of the WAL;
    # each commit leaves one partly filled row group, and a checkpoint rewrites (merges) the row groups
    # around it unless at least three full ones separate two: 3 row groups per commit
    batch_records: int = 368_640
    stage_records: int = 20_000     # page texts held and handed to DuckDB at a time (~15 MB)
    # statements fetched ahead of the lander (page texts held, ~0.7 kB each): the fetching goes on while a
    # batch lands (seconds for a full batch), instead of waiting for it
    prefetch_records: int = 160_000
    memory_limit: str | None = "512MB"     # DuckDB's cap while the feed lands (None: leave it)
    http: HttpSettings = HttpSettings()
    # without X-Experience-API-Consistent-Through the window ends at the response's Date minus this, and
    # the next one starts this much before the watermark (LRS_SETTLE_SECONDS)
    settle_seconds: int = 300
    # the whole LRS is re-read at least this often (BRIDGE_FULL_REFRESH_DAYS): heals whatever an LRS's
    # incremental query missed
    full_refresh_days: int = 7


@dataclass(frozen=True)
class LmsConfig:
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    page_size: int = 500
    batch_records: int = 5000       # records landed (and committed with their cursor) at a time
    http: HttpSettings = HttpSettings()


@dataclass(frozen=True)
class CheckinsConfig:
    base_url: str
    token: str = field(repr=False)
    page_size: int = 500
    batch_records: int = 5000       # records landed (and committed with their cursor) at a time
    http: HttpSettings = HttpSettings()


@dataclass(frozen=True)
class PayrollConfig:
    inbox: str                      # folder or fsspec URL; read-only to the bridge
    batch_rows: int = 5000


SourceConfig = ScimConfig | XapiConfig | LmsConfig | CheckinsConfig | PayrollConfig


@dataclass(frozen=True)
class BridgeSources:
    """All sources of one run; a None source is not extracted."""
    hris: ScimConfig | None = None
    xapi: XapiConfig | None = None
    lms: LmsConfig | None = None
    checkins: CheckinsConfig | None = None
    payroll: PayrollConfig | None = None

    def get(self, source: str) -> SourceConfig | None:
        return getattr(self, source)


def sources_from_mapping(env: dict[str, str], http: HttpSettings = HttpSettings(),
                         page_size: int | None = None) -> BridgeSources:
    """Build every source config from a mapping of CONTRACT section-1 variables.

    The caller passes the mapping (orchestration's validated settings, a
    simulator's `.env`); connectors never read `os.environ` themselves.
    Sources whose base setting is absent are left out (None).
    """
    ps = {"page_size": page_size} if page_size else {}
    return BridgeSources(
        hris=ScimConfig(env["HRIS_SCIM_URL"], env["HRIS_SCIM_TOKEN"], http=http, **ps)
        if env.get("HRIS_SCIM_URL") else None,
        xapi=XapiConfig(env["LRS_URL"], env["LRS_USERNAME"], env["LRS_PASSWORD"],
                        account_homepage=env.get("LRS_ACCOUNT_HOMEPAGE"), http=http, **ps)
        if env.get("LRS_URL") else None,
        lms=LmsConfig(env["LMS_URL"], env["LMS_CLIENT_ID"], env["LMS_CLIENT_SECRET"], http=http, **ps)
        if env.get("LMS_URL") else None,
        checkins=CheckinsConfig(env["CHECKINS_URL"], env["CHECKINS_TOKEN"], http=http, **ps)
        if env.get("CHECKINS_URL") else None,
        payroll=PayrollConfig(env["PAYROLL_INBOX"]) if env.get("PAYROLL_INBOX") else None,
    )
