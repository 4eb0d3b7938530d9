"""Configuration from the environment (docs/contract.md section 1; a `.env` file is read too).

One place reads the environment; everything else receives a `Settings`. Every variable is
one declarative line of `VARIABLES` (name, parser, default); `Settings.from_env` checks them
all in one pass and raises one `SettingsError` listing every problem, one line each, so a
user fixes the whole configuration at once rather than one variable per attempt.

A real run never reads a simulator: an unset source variable is a configuration error. The
demo and the tests point at a running simulator with `BRIDGE_SIMULATOR_DIR` (its
`ready.json` fills the unset source variables and `BRIDGE_AS_OF`); a `ready.json` whose
process is gone is ignored, with a note.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_WAREHOUSE = "warehouse/bridge.duckdb"
DEFAULT_CRON = "0 2 * * *"
DEFAULT_MEMORY_LIMIT = 2**30    # DuckDB's own default is 80 % of the machine, per database
MIN_MEMORY_LIMIT = 512 * 2**20


class SettingsError(ValueError):
    """One or more settings are missing or malformed: one line per problem, naming the variable."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


# --- parsers: text -> value, or ValueError(why, never echoing a secret) ------------------------

Parser = Callable[[str], Any]


def text(raw: str) -> str:
    return raw


def http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL, got {_shape(raw)}")
    return raw


def iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"must be an ISO date (YYYY-MM-DD), got {raw[:40]!r}") from None


def _number(raw: str, kind: type) -> float:
    try:
        value = kind(raw)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ValueError(f"must be {noun}, got {raw[:40]!r}") from None
    if math.isnan(value):
        raise ValueError(f"must be a number, got {raw[:40]!r}")
    return value


def rate(raw: str) -> float:
    value = _number(raw, float)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be a fraction between 0 and 1, got {raw[:40]!r}")
    return value


def positive_int(raw: str) -> int:
    value = _number(raw, int)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def count(raw: str) -> int:
    value = _number(raw, int)
    if value < 0:
        raise ValueError(f"must be 0 or more, got {value}")
    return value


def seconds(raw: str) -> float:
    value = _number(raw, float)
    if value <= 0 or value == float("inf"):
        raise ValueError(f"must be a positive number of seconds, got {raw[:40]!r}")
    return value


def memory_size(raw: str) -> int:
    """A size in DuckDB's notation (`1GB`, `512MB`, `2GiB`) -> bytes, read by DuckDB itself."""
    from connectors.duck import parse_size

    try:
        value = parse_size(raw)
    except ValueError:
        raise ValueError(f"must be a size such as 1GB or 512MB, got {raw[:40]!r}") from None
    if value < MIN_MEMORY_LIMIT:
        raise ValueError(f"must be at least 512MiB (its eighth is the smallest share), got {raw[:40]!r}")
    return value


def choice(*options: str) -> Parser:
    def parse(raw: str) -> str:
        if raw.lower() not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {raw[:40]!r}")
        return raw.lower()

    return parse


def readable_file(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ValueError(f"points to {path}, which is not a file")
    if not os.access(path, os.R_OK):
        raise ValueError(f"points to {path}, which this user cannot read")
    return path


def readable_folder(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ValueError(f"points to {path}, which is not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ValueError(f"points to {path}, which this user cannot read")
    return path


def scim_attribute_file(raw: str) -> Path:
    path = readable_file(raw)
    from orchestration.lib.source_config import load_scim_attributes

    load_scim_attributes(path)  # its content too: a wrong map must not wait for the HRIS step
    return path


def inbox(raw: str) -> str:
    """A local folder (checked here) or an fsspec URL (reached by `bridge check` and the run)."""
    if "://" in raw and not raw.startswith("file://"):
        return raw
    readable_folder(raw.removeprefix("file://"))
    return raw


def warehouse(raw: str) -> str:
    if raw.startswith(("postgresql://", "postgres://")):
        from orchestration.lib.postgres.connection import WarehouseConfigError, parse_warehouse_url

        try:
            parse_warehouse_url(raw, variable="BRIDGE_WAREHOUSE")
        except WarehouseConfigError as exc:  # its message is already redacted and names the variable
            raise ValueError(str(exc).removeprefix("BRIDGE_WAREHOUSE: ")) from None
        return raw
    if "://" in raw:
        raise ValueError("must be a DuckDB file path or a postgresql:// URL")
    return raw


def cron(raw: str) -> str:
    """Dagster's own check (the schedule is a Dagster schedule): five standard cron fields."""
    fields = raw.split()
    if len(fields) != 5:
        raise ValueError(f"must be a cron expression of 5 fields (minute hour day month weekday), got {raw[:60]!r}")
    import dagster as dg

    try:
        dg.ScheduleDefinition(name="bridge_settings_check", cron_schedule=raw, target="*")
    except dg.DagsterInvalidDefinitionError:
        raise ValueError(f"is not a valid cron expression: {raw[:60]!r}") from None
    return raw


def timezone(raw: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"is not an IANA time zone (e.g. Europe/Paris), got {raw[:60]!r}") from None
    return raw


def provisioning_scope(raw: str) -> tuple:
    """`division=Technology|Operations; department=Platform` (orchestration/lib/provisioning/config.py)."""
    from orchestration.lib.provisioning.config import parse_scope

    try:
        return parse_scope(raw)
    except SettingsError as exc:
        raise ValueError(str(exc).removeprefix("BRIDGE_PROVISIONING_SCOPE ")) from None


def _shape(value: str) -> str:
    """Describe a bad value without echoing it (it might be a pasted secret)."""
    return f"a value of {len(value)} characters"


# --- the variables ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    name: str
    parse: Parser = text
    default: Any = None
    source: bool = False  # a source system's setting: never from a simulator unless told
    required: bool = True  # (of a source) a sync cannot run without it
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable("BRIDGE_WAREHOUSE", warehouse, DEFAULT_WAREHOUSE),
    Variable("BRIDGE_WORK_DIR"),
    Variable("HRIS_SCIM_URL", http_url, source=True),
    Variable("HRIS_SCIM_TOKEN", source=True, secret=True),
    Variable("LRS_URL", http_url, source=True),
    Variable("LRS_USERNAME", source=True),
    Variable("LRS_PASSWORD", source=True, secret=True),
    Variable("LRS_ACCOUNT_HOMEPAGE", source=True),
    Variable("LMS_URL", http_url, source=True),
    Variable("LMS_CLIENT_ID", source=True),
    Variable("LMS_CLIENT_SECRET", source=True, secret=True),
    Variable("CHECKINS_URL", http_url, source=True),
    Variable("CHECKINS_TOKEN", source=True, secret=True),
    Variable("PAYROLL_INBOX", inbox, source=True),
    Variable("BRIDGE_AS_OF", iso_date),
    Variable("BRIDGE_TITLE_CROSSWALK", readable_file),
    Variable("BRIDGE_SIMULATOR_DIR", readable_folder),
    Variable("BRIDGE_FULL_REFRESH_DAYS", positive_int, 7),
    Variable("BRIDGE_MEMORY_LIMIT", memory_size, DEFAULT_MEMORY_LIMIT),
    Variable("BRIDGE_HTTP_CONNECT_TIMEOUT", seconds, 5.0),
    Variable("BRIDGE_HTTP_READ_TIMEOUT", seconds, 60.0),
    Variable("BRIDGE_HTTP_MAX_ATTEMPTS", positive_int, 6),
    Variable("BRIDGE_HTTP_BACKOFF_INITIAL", seconds, 0.5),
    Variable("BRIDGE_SCHEDULE_CRON", cron, DEFAULT_CRON),
    Variable("BRIDGE_SCHEDULE_TIMEZONE", timezone, "UTC"),
    Variable("BRIDGE_ALERT_WEBHOOK_URL", http_url),
    Variable("BRIDGE_MAX_UNMAPPED_TITLE_RATE", rate, 0.05),
    Variable("BRIDGE_MAX_UNRESOLVED_XAPI_ACTOR_RATE", rate, 0.02),
    Variable("BRIDGE_MAX_UNKNOWN_LMS_USER_RATE", rate, 0.02),
    Variable("BRIDGE_HEADCOUNT_TOLERANCE_ABS", count, 5),
    Variable("BRIDGE_HEADCOUNT_TOLERANCE_REL", rate, 0.05),
    Variable("BRIDGE_CHECK_BATCH_ROWS", positive_int, 100_000),
    # Real SCIM servers and LRSs
    Variable("BRIDGE_SCIM_ATTRIBUTES", scim_attribute_file),
    Variable("BRIDGE_MAX_ABSENCE_TERMINATION_RATE", rate, 0.05),
    Variable("LRS_SETTLE_SECONDS", count, 300),
    # Provisioning the LMS (outbound SCIM)
    Variable("LMS_SCIM_URL", http_url, source=True, required=False),
    Variable("LMS_SCIM_TOKEN", source=True, required=False, secret=True),
    Variable("BRIDGE_LMS_PROVISIONING", choice("off", "plan", "apply")),
    Variable("BRIDGE_PROVISIONING_SCOPE", provisioning_scope),
    Variable("BRIDGE_PROVISIONING_MAX_DEACTIVATIONS", count, 25),
    Variable("BRIDGE_PROVISIONING_MAX_CHANGE_RATE", rate, 0.10),
    Variable("BRIDGE_PROVISIONING_WORKERS", positive_int, 4),
    # Personal data (orchestration/lib/erasure.py): the key is required only when used
    Variable("BRIDGE_PSEUDONYM_KEY", secret=True),
    Variable("BRIDGE_RETENTION_DAYS_AFTER_TERMINATION", count),
    Variable("BRIDGE_PAYROLL_RETENTION_DAYS", count),
)
BY_NAME = {v.name: v for v in VARIABLES}
SOURCE_VARIABLES = tuple(v.name for v in VARIABLES if v.source and v.required)
SECRET_VARIABLES = tuple(v.name for v in VARIABLES if v.secret)


def _cross_checks(values: Mapping[str, Any], given: Mapping[str, str]) -> list[str]:
    """Rules between variables."""
    problems = []
    if values.get("LMS_SCIM_URL") and not values.get("LMS_SCIM_TOKEN"):
        problems.append("LMS_SCIM_TOKEN is not set (LMS_SCIM_URL is: provisioning needs its bearer token)")
    if given.get("BRIDGE_LMS_PROVISIONING") and values.get("BRIDGE_LMS_PROVISIONING") in ("plan", "apply") \
            and not values.get("LMS_SCIM_URL"):
        problems.append(f"BRIDGE_LMS_PROVISIONING is {values['BRIDGE_LMS_PROVISIONING']} but LMS_SCIM_URL is not set")
    return problems


@dataclass(frozen=True)
class Simulator:
    """A running simulator the run was told about (`BRIDGE_SIMULATOR_DIR`)."""

    directory: Path
    env: Mapping[str, str]
    pid: int | None


def read_simulator(directory: Path) -> tuple[Simulator | None, str | None]:
    """The simulator's `ready.json`, or why it is ignored (a one-line note)."""
    ready = directory / "ready.json"
    try:
        doc = json.loads(ready.read_text())
    except FileNotFoundError:
        return None, f"no simulator is running in {directory} (no ready.json)"
    except (OSError, ValueError) as exc:
        return None, f"ignoring {ready}: unreadable ({type(exc).__name__})"
    pid = doc.get("pid")
    if isinstance(pid, int) and not _alive(pid):
        return None, f"ignoring {ready}: its simulator (process {pid}) is gone"
    return Simulator(directory, dict(doc.get("env", {})), pid if isinstance(pid, int) else None), None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Settings:
    warehouse: str
    sources: Mapping[str, str]
    as_of: date | None = None
    title_crosswalk: Path | None = None
    webhook_url: str | None = None
    full_refresh_days: int = 7
    schedule_cron: str = DEFAULT_CRON
    schedule_timezone: str = "UTC"
    extra: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)  # every VARIABLES entry, parsed (defaults filled)
    notes: tuple[str, ...] = ()  # said once to the user (e.g. a stale simulator ignored)
    simulator: Simulator | None = None

    def source(self, name: str) -> str:
        return self.sources[name]

    def get(self, name: str) -> Any:
        """A variable's parsed value (its default when unset)."""
        if name in self.values:
            return self.values[name]
        return BY_NAME[name].default

    @property
    def secrets(self) -> list[str]:
        """Every secret value, for redaction in logs, events and errors."""
        values = [self.sources.get(v) or self.values.get(v) or "" for v in SECRET_VARIABLES]
        return [v for v in values if isinstance(v, str) and v]

    def as_of_or_today(self) -> date:
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
        given = {k: v.strip() for k, v in env.items() if isinstance(v, str) and v.strip()}

        problems: list[str] = []
        notes: list[str] = []
        simulator = None
        if "BRIDGE_SIMULATOR_DIR" in given:
            try:
                directory = readable_folder(given["BRIDGE_SIMULATOR_DIR"])
            except ValueError as exc:
                problems.append(f"BRIDGE_SIMULATOR_DIR {exc}")
            else:
                simulator, note = read_simulator(directory)
                if note:
                    notes.append(note)
        from_sim = dict(simulator.env) if simulator else {}

        values: dict[str, Any] = {}
        raw_sources: dict[str, str] = {}
        for var in VARIABLES:
            raw = given.get(var.name)
            if raw is None and (var.source or var.name == "BRIDGE_AS_OF"):
                raw = (from_sim.get(var.name) or "").strip() or None
            if raw is None:
                if var.source and var.required and require_sources:
                    hint = f" (nor by the simulator in {simulator.directory})" if simulator else ""
                    problems.append(f"{var.name} is not set{hint}")
                values[var.name] = var.default
                continue
            try:
                values[var.name] = var.parse(raw)
            except ValueError as exc:
                problems.append(f"{var.name} {exc}")
                continue
            if var.source:
                raw_sources[var.name] = raw
        if values.get("BRIDGE_LMS_PROVISIONING") is None:
            values["BRIDGE_LMS_PROVISIONING"] = "plan" if values.get("LMS_SCIM_URL") else "off"
        problems += _cross_checks(values, given)
        if problems:
            raise SettingsError(problems)

        return cls(
            warehouse=values["BRIDGE_WAREHOUSE"],
            sources=raw_sources,
            as_of=values["BRIDGE_AS_OF"],
            title_crosswalk=values["BRIDGE_TITLE_CROSSWALK"],
            webhook_url=values["BRIDGE_ALERT_WEBHOOK_URL"],
            full_refresh_days=values["BRIDGE_FULL_REFRESH_DAYS"],
            schedule_cron=values["BRIDGE_SCHEDULE_CRON"],
            schedule_timezone=values["BRIDGE_SCHEDULE_TIMEZONE"],
            extra={k: v for k, v in given.items() if k.startswith("BRIDGE_")},
            values=values,
            notes=tuple(notes),
            simulator=simulator,
        )


def schedule_settings(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The schedule's cron and time zone alone (the code location loads without the sources set);
    a malformed one raises SettingsError naming it, one line each."""
    env = os.environ if environ is None else environ
    problems, out = [], []
    for name in ("BRIDGE_SCHEDULE_CRON", "BRIDGE_SCHEDULE_TIMEZONE"):
        var, raw = BY_NAME[name], (env.get(name) or "").strip()
        try:
            out.append(var.parse(raw) if raw else var.default)
        except ValueError as exc:
            problems.append(f"{name} {exc}")
    if problems:
        raise SettingsError(problems)
    return out[0], out[1]
