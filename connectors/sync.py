"""Plain-Python entry points: extract one source, or all, into the raw layer.

Orchestration, tests and benchmarks call these; nothing here knows Dagster or dbt.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import duckdb

from . import checkins, lms, payroll, scim, xapi
from .config import (
    BridgeSources,
    CheckinsConfig,
    LmsConfig,
    PayrollConfig,
    ScimConfig,
    SourceConfig,
    XapiConfig,
)
from .errors import ConfigError
from .http import SECRET_FILTER
from .landing import RAW_STREAMS, DuckDBLander, ExtractAudit

SOURCES = ("hris", "xapi", "lms", "checkins", "payroll")
_DEFAULT_LOG = logging.getLogger("connectors")


@dataclass(frozen=True)
class ExtractResult:
    source: str
    stream: str
    mode: str
    records: int            # records received (or payroll rows parsed and loaded)
    new_versions: int       # rows appended to raw.<source>__<stream>
    pages: int
    bytes: int
    cursor_from: str | None
    cursor_to: str | None
    quarantined: int
    active_users: int = 0       # hris full pull: users live and active before it
    absent_held: int = 0        # hris full pull: absence terminations held (over the configured rate)

    @property
    def raw_table(self) -> str:
        return f"raw.{self.source}__{self.stream}"

    @classmethod
    def of(cls, a: ExtractAudit) -> ExtractResult:
        return cls(a.source, a.stream, a.mode, a.records, a.new_versions, a.pages, a.bytes,
                   a.cursor_from, a.cursor_to, a.quarantined, a.active_users, a.absent_held)


def streams_of(source: str) -> tuple[str, ...]:
    """The raw streams a source lands (docs/internals.md names)."""
    return RAW_STREAMS[source]


def extract_source(con: duckdb.DuckDBPyConnection, source: str, config: SourceConfig, run_id: str,
                   as_of: date, log: logging.Logger | None = None,
                   streams: tuple[str, ...] | None = None,
                   pseudonym_key: str | None = None) -> list[ExtractResult]:
    """Read one source from its committed state to the end and land it; one result per stream.

    `streams` limits a REST source to some of its streams (one Dagster asset per stream).
    `pseudonym_key` (BRIDGE_PSEUDONYM_KEY) lets the lander recognise erased people's records.
    Raises SourceError / SchemaDriftError; batches committed before the failure stay landed.
    """
    log = log or _DEFAULT_LOG
    if SECRET_FILTER not in log.filters:     # the caller's logger masks every registered credential too
        log.addFilter(SECRET_FILTER)
    lander = DuckDBLander(con, pseudonym_key)
    expected = {"hris": ScimConfig, "xapi": XapiConfig, "lms": LmsConfig, "checkins": CheckinsConfig,
                "payroll": PayrollConfig}.get(source)
    if expected is None:
        raise ConfigError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if not isinstance(config, expected):
        raise ConfigError(f"source {source!r} needs a {expected.__name__}, got {type(config).__name__}")
    if streams is not None and not set(streams) <= set(RAW_STREAMS[source]):
        raise ConfigError(f"unknown stream(s) for {source}: {sorted(set(streams) - set(RAW_STREAMS[source]))}")
    if source == "hris":
        audits = scim.extract(lander, config, run_id, as_of, log)
    elif source == "xapi":
        audits = xapi.extract(lander, config, run_id, log, as_of)
    elif source == "lms":
        audits = lms.extract(lander, config, run_id, log, streams or lms.STREAMS)
    elif source == "checkins":
        audits = checkins.extract(lander, config, run_id, log, streams or checkins.STREAMS)
    else:
        audits = payroll.extract(lander, config, run_id, log)
    return [ExtractResult.of(a) for a in audits]


def extract_all(con: duckdb.DuckDBPyConnection, sources: BridgeSources, run_id: str, as_of: date,
                log: logging.Logger | None = None, pseudonym_key: str | None = None) -> list[ExtractResult]:
    """Every configured source in turn (sources set to None are skipped)."""
    results: list[ExtractResult] = []
    for source in SOURCES:
        config = sources.get(source)
        if config is not None:
            results.extend(extract_source(con, source, config, run_id, as_of, log, pseudonym_key=pseudonym_key))
    return results
