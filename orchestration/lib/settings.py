"""Configuration from the environment (CONTRACT.md section 1).

One place reads the environment; everything else receives a `Settings`. A missing or
malformed variable fails at start-up with one line naming it. Source variables that are
unset fall back to the simulator's `ready.json` (the documented default: "simulator"),
so `bridge simulate` in one terminal and `bridge sync` in another just work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values

DEFAULT_WAREHOUSE = "warehouse/bridge.duckdb"
DEFAULT_SIMULATOR_DIR = ".sim"

SOURCE_VARIABLES = (
    "HRIS_SCIM_URL",
    "HRIS_SCIM_TOKEN",
    "LRS_URL",
    "LRS_USERNAME",
    "LRS_PASSWORD",
    "LRS_ACCOUNT_HOMEPAGE",
    "LMS_URL",
    "LMS_CLIENT_ID",
    "LMS_CLIENT_SECRET",
    "CHECKINS_URL",
    "CHECKINS_TOKEN",
    "PAYROLL_INBOX",
)
# Provisioning the LMS (CONTRACT section 5) is optional: unset means off, never an error.
OPTIONAL_SOURCE_VARIABLES = ("LMS_SCIM_URL", "LMS_SCIM_TOKEN")
# optional source tuning read through `extra` like the BRIDGE_* ones (orchestration/lib/source_config.py)
TUNING_VARIABLES = ("LRS_SETTLE_SECONDS",)
SECRET_VARIABLES = ("HRIS_SCIM_TOKEN", "LRS_PASSWORD", "LMS_CLIENT_SECRET", "CHECKINS_TOKEN", "LMS_SCIM_TOKEN")
URL_VARIABLES = ("HRIS_SCIM_URL", "LRS_URL", "LMS_URL", "CHECKINS_URL", "LMS_SCIM_URL")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line naming the variable."""


@dataclass(frozen=True)
class Settings:
    warehouse: str
    sources: Mapping[str, str]
    as_of: date | None = None
    title_crosswalk: Path | None = None
    webhook_url: str | None = None
    full_refresh_days: int = 7
    schedule_cron: str = "0 2 * * *"
    schedule_timezone: str = "UTC"
    extra: Mapping[str, str] = field(default_factory=dict)

    def source(self, name: str) -> str:
        return self.sources[name]

    @property
    def secrets(self) -> list[str]:
        """Every secret value, for redaction in logs, events and errors."""
        values = [self.sources.get(v, "") for v in SECRET_VARIABLES]
        return [v for v in values if v]

    def as_of_or_today(self) -> date:
        from datetime import UTC, datetime

        return self.as_of or datetime.now(UTC).date()

    @property
    def is_postgres(self) -> bool:
        return self.warehouse.startswith(("postgresql://", "postgres://"))

    @property
    def dbt_target(self) -> str:
        """The target in dbt_project/profiles.yml, named after its dbt adapter."""
        return "postgres" if self.is_postgres else "duckdb"

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        dotenv_path: str | os.PathLike[str] | None = ".env",
        require_sources: bool = True,
    ) -> Settings:
        env: dict[str, str] = {}
        if dotenv_path and Path(dotenv_path).is_file():
            env.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        env.update(os.environ if environ is None else environ)

        sim_env = _simulator_env(env.get("BRIDGE_SIMULATOR_DIR", DEFAULT_SIMULATOR_DIR))
        sources: dict[str, str] = {}
        for name in SOURCE_VARIABLES:
            value = env.get(name) or sim_env.get(name)
            if not value:
                if require_sources:
                    raise SettingsError(
                        f"{name} is not set (and no running simulator was found in "
                        f"{env.get('BRIDGE_SIMULATOR_DIR', DEFAULT_SIMULATOR_DIR)}/ready.json)"
                    )
                continue
            sources[name] = value.strip()
        for name in OPTIONAL_SOURCE_VARIABLES:
            value = env.get(name) or sim_env.get(name)
            if value and value.strip():
                sources[name] = value.strip()
        for name in URL_VARIABLES:
            if name in sources:
                parsed = urlparse(sources[name])
                if parsed.scheme not in ("http", "https") or not parsed.netloc:
                    raise SettingsError(f"{name} must be an http(s) URL, got {_shape(sources[name])}")

        as_of = None
        raw_as_of = env.get("BRIDGE_AS_OF") or sim_env.get("BRIDGE_AS_OF")
        if raw_as_of:
            try:
                as_of = date.fromisoformat(raw_as_of.strip())
            except ValueError:
                raise SettingsError(f"BRIDGE_AS_OF must be an ISO date (YYYY-MM-DD), got {raw_as_of!r}") from None

        crosswalk = None
        if env.get("BRIDGE_TITLE_CROSSWALK"):
            crosswalk = Path(env["BRIDGE_TITLE_CROSSWALK"])
            if not crosswalk.is_file():
                raise SettingsError(f"BRIDGE_TITLE_CROSSWALK points to {crosswalk}, which is not a file")

        warehouse = env.get("BRIDGE_WAREHOUSE") or DEFAULT_WAREHOUSE
        if "://" in warehouse and not warehouse.startswith(("postgresql://", "postgres://")):
            raise SettingsError("BRIDGE_WAREHOUSE must be a DuckDB file path or a postgresql:// URL")

        full_refresh_days = _int(env, "BRIDGE_FULL_REFRESH_DAYS", 7, minimum=1)
        webhook = env.get("BRIDGE_ALERT_WEBHOOK_URL") or None
        if webhook and urlparse(webhook).scheme not in ("http", "https"):
            raise SettingsError("BRIDGE_ALERT_WEBHOOK_URL must be an http(s) URL")

        return cls(
            warehouse=warehouse,
            sources=sources,
            as_of=as_of,
            title_crosswalk=crosswalk,
            webhook_url=webhook,
            full_refresh_days=full_refresh_days,
            schedule_cron=env.get("BRIDGE_SCHEDULE_CRON", "0 2 * * *"),
            schedule_timezone=env.get("BRIDGE_SCHEDULE_TIMEZONE", "UTC"),
            extra={k: v for k, v in env.items() if k.startswith("BRIDGE_") or k in TUNING_VARIABLES},
        )


def _simulator_env(directory: str) -> dict[str, str]:
    ready = Path(directory) / "ready.json"
    try:
        return dict(json.loads(ready.read_text()).get("env", {}))
    except (OSError, ValueError):
        return {}


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _shape(value: str) -> str:
    """Describe a bad value without echoing it (it might be a pasted secret)."""
    return f"a value of {len(value)} characters"
