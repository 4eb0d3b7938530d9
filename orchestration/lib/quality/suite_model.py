"""The shape of a suite: expectations with stable names and severities, grouped into frames.

Plain data (no GX import) so specs are known at import time. The helpers build the
common expectation kinds with the project's check-naming convention
``<table>__<what is checked>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.lib.quality.outcome import CheckOutcome, CheckSpec, Severity


@dataclass(frozen=True)
class Expect:
    """One expectation with its stable check name and declared severity."""

    check_name: str
    severity: Severity
    description: str
    gx_type: str  # class name in great_expectations.expectations
    kwargs: Mapping[str, Any]
    keys: tuple[str, ...]  # frame columns that name a failing record in sample_keys


@dataclass(frozen=True)
class Frame:
    """A query (schema-qualified tables) and the expectations validated on its result."""

    sql: str
    tables: tuple[str, ...]  # every table the query reads; a missing one fails the frame
    expects: tuple[Expect, ...]


@dataclass(frozen=True)
class Suite:
    name: str
    target_table: str
    frames: tuple[Frame, ...]

    def specs(self) -> list[CheckSpec]:
        return [
            CheckSpec(e.check_name, self.target_table, e.severity, e.description)
            for f in self.frames
            for e in f.expects
        ]


@dataclass
class SuiteRun:
    """Outcomes of one suite plus the raw GX results (for Data Docs)."""

    suite_name: str
    target_table: str
    outcomes: list[CheckOutcome]
    gx_results: list[Any] = field(default_factory=list)  # ExpectationSuiteValidationResult
    batch_sizes: list[int] = field(default_factory=list)  # rows of each batch read from the warehouse


def short(table: str) -> str:
    return table.split(".", 1)[1]


def unique(table: str, col: str, sev: Severity = "blocking") -> Expect:
    return Expect(f"{short(table)}__{col}_unique", sev, f"{col} is unique in {table}",
                  "ExpectColumnValuesToBeUnique", {"column": col}, (col,))


def not_null(table: str, col: str, keys: Sequence[str] | None = None, sev: Severity = "blocking",
              name: str | None = None, description: str | None = None) -> Expect:
    return Expect(name or f"{short(table)}__{col}_not_null", sev,
                  description or f"{col} is present in every row of {table}",
                  "ExpectColumnValuesToNotBeNull", {"column": col}, tuple(keys or (col,)))


def compound_unique(table: str, cols: Sequence[str], name: str, sev: Severity = "blocking") -> Expect:
    return Expect(f"{short(table)}__{name}", sev, f"({', '.join(cols)}) is unique in {table}",
                  "ExpectCompoundColumnsToBeUnique", {"column_list": list(cols)}, tuple(cols))


def in_set(table: str, col: str, values: Iterable[str], keys: Sequence[str],
            sev: Severity = "blocking") -> Expect:
    vals = sorted(values)
    return Expect(f"{short(table)}__{col}_in_domain", sev,
                  f"{col} in {table} is one of {', '.join(vals)}",
                  "ExpectColumnValuesToBeInSet", {"column": col, "value_set": vals}, tuple(keys))


def between(table: str, col: str, lo: float | None, hi: float | None, keys: Sequence[str],
             name: str, description: str, sev: Severity = "blocking") -> Expect:
    kwargs: dict[str, Any] = {"column": col}
    if lo is not None:
        kwargs["min_value"] = lo
    if hi is not None:
        kwargs["max_value"] = hi
    return Expect(f"{short(table)}__{name}", sev, description,
                  "ExpectColumnValuesToBeBetween", kwargs, tuple(keys))


def is_true(table: str, col: str, keys: Sequence[str], name: str, description: str,
             sev: Severity = "blocking") -> Expect:
    """A rule computed in SQL into a boolean column (null counts as false there)."""
    return Expect(f"{short(table)}__{name}", sev, description,
                  "ExpectColumnValuesToBeInSet", {"column": col, "value_set": [True]}, tuple(keys))


def local_frame(table: str, expects: Sequence[Expect], numeric: Sequence[str] = ()) -> Frame:
    """Select only the columns the expectations and their sample keys need."""
    cols: list[str] = []
    for e in expects:
        for c in [e.kwargs.get("column"), *e.kwargs.get("column_list", []), *e.keys]:
            if c and c not in cols:
                cols.append(c)
    # DECIMAL arrives in pandas as Python objects; compare numbers as doubles.
    select = ", ".join(f"cast({c} as double precision) as {c}" if c in numeric else c for c in cols)
    return Frame(f"select {select} from {table}", (table,), tuple(expects))


def reference_frame(table: str, col: str, keys: Sequence[str], parent: str, parent_col: str,
                     name: str | None = None) -> Frame:
    """Every non-null ``col`` exists in ``parent.parent_col`` (EXISTS: parent duplicates can't inflate rows)."""
    flag = f"{col}_resolves"
    sql = (
        f"select {', '.join(dict.fromkeys([*keys, col]))}, "
        f"exists (select 1 from {parent} p where p.{parent_col} = t.{col}) as {flag} "
        f"from {table} t where t.{col} is not null"
    )
    return Frame(sql, (table, parent), (
        is_true(table, flag, keys, name or f"{col}_in_{short(parent)}",
                 f"every {col} of {table} exists in {parent}.{parent_col}"),
    ))
