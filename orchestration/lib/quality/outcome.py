"""The two records every check produces: what it is (spec) and how it went (outcome)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["blocking", "warn"]
Engine = Literal["great_expectations", "sql"]

# Audit rows keep at most this many sample keys (CONTRACT: keys only, bounded).
MAX_SAMPLE_KEYS = 20


@dataclass(frozen=True)
class CheckSpec:
    """A check as Dagster declares it, known without touching any database."""

    check_name: str
    target_table: str  # schema-qualified, e.g. "reporting.dim_employee"
    severity: Severity
    description: str


@dataclass
class CheckOutcome:
    """One evaluated check.

    ``sample_keys`` hold record keys only (employee numbers, ids): never salaries,
    emails or free text, because they are written to the auditors' tables.
    """

    check_name: str
    target_table: str
    severity: Severity
    success: bool
    observed_value: str | float | None
    unexpected_count: int
    sample_keys: list[str] = field(default_factory=list)
    engine: Engine = "great_expectations"
    description: str = ""

    @property
    def blocks_publication(self) -> bool:
        return self.severity == "blocking" and not self.success

    @classmethod
    def from_spec(
        cls,
        spec: CheckSpec,
        *,
        success: bool,
        observed_value: str | float | None,
        unexpected_count: int,
        sample_keys: list[str] | None = None,
        engine: Engine,
    ) -> CheckOutcome:
        return cls(
            check_name=spec.check_name,
            target_table=spec.target_table,
            severity=spec.severity,
            success=success,
            observed_value=observed_value,
            unexpected_count=int(unexpected_count),
            sample_keys=[safe_key(k) for k in (sample_keys or [])[:MAX_SAMPLE_KEYS]],
            engine=engine,
            description=spec.description,
        )


def safe_key(key: str) -> str:
    """A sample key fit for the audit tables.

    Some source keys are e-mail addresses (an xAPI actor's ``mbox``, an LMS user
    keyed by email); those are replaced by a stable digest so the fact stays
    traceable without the address appearing in an audit row.
    """
    text = str(key)
    if "@" in text:
        return "sha256:" + hashlib.sha256(text.strip().lower().encode()).hexdigest()[:16]
    return text


_QUOTED_LITERAL = re.compile(r"'[^']*'")


def error_text(exc: BaseException) -> str:
    """First line of an error, with single-quoted literals removed.

    Database errors quote offending values ("Could not convert string '12,5' ...");
    those could be pay or contact data, and observed_value lands in audit rows.
    """
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return _QUOTED_LITERAL.sub("'…'", lines[0])[:300]
