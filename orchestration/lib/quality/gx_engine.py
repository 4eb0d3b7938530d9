"""Running one frame through Great Expectations and turning its result into outcomes.

One ephemeral GX context per process, created on first use (importing GX alone takes
~5 s here). A frame is validated either batch by batch on pandas frames (DuckDB), the
results combined, or as a query asset of GX's Postgres data source (SQL in the server).
Expectation suites are validated directly on a batch, not registered as validation
definitions: registering re-serialises the whole context config each time.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from orchestration.lib.quality.outcome import MAX_SAMPLE_KEYS, CheckOutcome, CheckSpec, error_text, safe_key
from orchestration.lib.quality.suite_model import Expect, Frame, Suite


def failed(spec: CheckSpec, observed: str) -> CheckOutcome:
    return CheckOutcome.from_spec(spec, success=False, observed_value=observed, unexpected_count=0,
                                  engine="great_expectations")


# One GX context per process (creating one, and importing GX, is slow); GX objects
# are not thread-safe, so validations are serialised.
_gx_lock = threading.Lock()
_init_lock = threading.Lock()
_gx_state: dict[str, Any] = {}


def warm_up() -> None:
    """Import GX and create its context in a background thread, so that cost overlaps
    the dbt build (another process) instead of delaying the first check. Idempotent; a
    failure here is not reported: the first check repeats the work and raises it."""
    if "context" in _gx_state or "warming" in _gx_state:
        return
    _gx_state["warming"] = True

    def run() -> None:
        try:
            _gx_context()
        except Exception:
            # the check that needs GX repeats this and raises the error in its own step
            logging.getLogger(__name__).debug("Great Expectations warm-up failed", exc_info=True)

    threading.Thread(target=run, name="gx-warm-up", daemon=True).start()


def _gx_context() -> Any:
    with _init_lock:
        return _create_context()


def _create_context() -> Any:
    if "context" not in _gx_state:
        # No telemetry: GX reads these at import / context creation.
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("DO_NOT_TRACK", "1")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _gx_state["gx"] = gx
        _gx_state["context"] = context
        _gx_state["source"] = context.data_sources.add_pandas("bridge_quality_frames")
        _gx_state["definitions"] = {}
    return _gx_state["context"]


def _gx_suite(suite: Suite, index: int, frame: Frame) -> Any:
    """The frame's ExpectationSuite, built once per process.

    Suites are validated on a batch directly rather than registered as validation
    definitions: registering re-serialises the whole context config each time.
    """
    _gx_context()
    key = f"{suite.name}__frame{index}"
    cache: dict[str, Any] = _gx_state["definitions"]
    if key not in cache:
        cache[key] = _new_suite(key, suite, frame.expects)
    return cache[key]


def _new_suite(name: str, suite: Suite, expects: Sequence[Expect]) -> Any:
    gx = _gx_state["gx"]
    gx_suite = gx.ExpectationSuite(name=name, meta={"target_table": suite.target_table})
    for e in expects:
        cls = getattr(gx.expectations, e.gx_type)
        gx_suite.add_expectation(cls(**e.kwargs, meta={"check_name": e.check_name, "severity": e.severity}))
    return gx_suite


def _batch_definition() -> Any:
    if "batch" not in _gx_state:
        _gx_context()
        asset = _gx_state["source"].add_dataframe_asset("frames")
        _gx_state["batch"] = asset.add_batch_definition_whole_dataframe("whole_frame")
    return _gx_state["batch"]


# Judged over the whole frame, so never per batch: the frame's SQL computes, per row, whether
# its value is unique in the frame (``batch_form``), and GX validates that flag batch by batch.
SET_LEVEL = {"ExpectColumnValuesToBeUnique": "column", "ExpectCompoundColumnsToBeUnique": "column_list"}
# One figure of the whole frame: computed in SQL (a one-row frame) and judged by GX there.
AGGREGATE = {"ExpectColumnMinToBeBetween": "min"}


# A frame row's position in the whole frame, where only some of its rows are read (``pushdown``).
POSITION = "_bridge_pos"


def flag_column(e: Expect) -> str:
    return f"{e.check_name}__is_unique"


def batch_form(e: Expect) -> Expect:
    """The expectation as validated on one batch of a frame."""
    if e.gx_type not in SET_LEVEL:
        return e
    return replace(e, gx_type="ExpectColumnValuesToBeInSet", kwargs={"column": flag_column(e), "value_set": [True]})


@dataclass
class _Tally:
    """One expectation's results over the batches of a frame, combined as GX would for the whole."""

    element_count: int = 0
    unexpected_count: int = 0
    missing_count: int | None = None
    positions: list[int] = field(default_factory=list)  # frame positions of the first unexpected rows
    values: list[Any] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    def add(self, r: Any, frame_positions: Sequence[int], df: Any, e: Expect) -> None:
        self.results.append(r)
        res = r.result or {}
        self.element_count += int(res.get("element_count") or 0)
        self.unexpected_count += int(res.get("unexpected_count") or 0)
        if res.get("missing_count") is not None:
            self.missing_count = (self.missing_count or 0) + int(res["missing_count"])
        room = MAX_SAMPLE_KEYS - len(self.positions)
        positions = [p for p in res.get("partial_unexpected_index_list") or [] if isinstance(p, int)][:room]
        self.positions += [int(frame_positions[p]) for p in positions]
        values = list(res.get("partial_unexpected_list") or [])
        if e.gx_type in SET_LEVEL:  # the duplicated values, as GX lists them, not the flag behind them
            cols = e.kwargs.get("column_list")
            values = [{c: df.at[p, c] for c in cols} if cols else df.at[p, e.kwargs["column"]] for p in positions]
        self.values += values[:MAX_SAMPLE_KEYS - len(self.values)]
        self.keys += _sample_keys(df, e.keys, positions)

    def result(self, config: Any) -> Any:
        from great_expectations.core import ExpectationValidationResult

        raised = next((r for r in self.results if _raised(r)), None)
        if raised is not None or len(self.results) == 1 and "unexpected_count" not in (self.results[0].result or {}):
            first = raised or self.results[0]
            return ExpectationValidationResult(success=first.success, expectation_config=config,
                                               result=first.result, meta=first.meta,
                                               exception_info=first.exception_info)
        success = all(bool(r.success) for r in self.results)
        total, bad = self.element_count, self.unexpected_count
        nonnull = None if self.missing_count is None else total - self.missing_count
        res: dict[str, Any] = {"element_count": total, "unexpected_count": bad}
        # GX's own arithmetic (SUMMARY / BASIC of a map expectation)
        pct_total = bad / total * 100 if total else None
        pct_nonmissing = (bad / nonnull * 100 if nonnull else None) if nonnull is not None else pct_total
        res["unexpected_percent"] = pct_nonmissing
        if self.missing_count is not None:
            res.update(missing_count=self.missing_count,
                       missing_percent=self.missing_count / total * 100 if total else None,
                       unexpected_percent_total=pct_total, unexpected_percent_nonmissing=pct_nonmissing)
        if self.positions:
            res.update(partial_unexpected_list=self.values, partial_unexpected_index_list=self.positions,
                       partial_unexpected_counts=_value_counts(self.values))
        return ExpectationValidationResult(success=success, expectation_config=config, result=res,
                                           meta=self.results[0].meta, exception_info=self.results[0].exception_info)


def _raised(r: Any) -> bool:
    info = r.exception_info or {}
    errors = [info] if "raised_exception" in info else list(info.values())
    return any(isinstance(x, dict) and x.get("raised_exception") for x in errors)


def _value_counts(values: Sequence[Any]) -> list[dict[str, Any]]:
    try:
        # GX counts a multi-column value as the tuple of its values
        counts = Counter(tuple(v.values()) if isinstance(v, dict) else v for v in values).most_common(MAX_SAMPLE_KEYS)
        return [{"value": v, "count": n} for v, n in sorted(counts, key=lambda x: (-x[1], x[0]))]
    except TypeError:
        return [{"error": "partial_exception_counts requires a hashable type"}]


def validate_batches(suite: Suite, index: int, frame: Frame, batches: Iterable[Any],
                     aggregate: Any = None, frame_rows: int | None = None,
                     missing: Mapping[str, int] | None = None) -> tuple[list[CheckOutcome], Any]:
    """Validate a frame read in bounded batches (pandas frames, in frame order) and combine
    the per-batch results into one result per expectation: counts are summed, sample rows
    are the frame's first unexpected rows. Set-level expectations arrive as per-row flags
    computed in SQL over the whole frame (``batch_form``); aggregate ones are validated
    once, on the one-row ``aggregate`` frame.

    With ``frame_rows`` (the whole frame's row count) the batches may hold only some of its
    rows, each with its frame position (``POSITION``): the rows not read passed every
    row-level expectation or lack its value (``pushdown``): they add to each one's element
    count, and ``missing`` (check name: the whole frame's missing values, counted in SQL) is
    the missing count of an expectation whose missing rows were left unread."""
    row_level = [e for e in frame.expects if e.gx_type not in AGGREGATE]
    tallies = {e.check_name: _Tally() for e in frame.expects}
    last: Any = None
    read = 0
    for df in batches:
        last = _validate_one(f"{suite.name}__frame{index}__rows", suite, row_level, df, tallies, read)
        read += len(df)
    if frame_rows is not None and last is not None:
        if frame_rows < read:
            raise RuntimeError(f"read {read} rows of a frame of {frame_rows}")
        for e in row_level:
            tallies[e.check_name].element_count += frame_rows - read
        for name, count in (missing or {}).items():
            if tallies[name].missing_count is None:
                raise RuntimeError(f"{name}: Great Expectations gave no missing count to complete")
            tallies[name].missing_count = count
    if aggregate is not None:
        last = _validate_one(f"{suite.name}__frame{index}__aggregate", suite,
                             [e for e in frame.expects if e.gx_type in AGGREGATE], aggregate, tallies, 0) or last
    configs = _configs(suite, index, frame)
    results = [tallies[e.check_name].result(configs[e.check_name]) for e in frame.expects
               if tallies[e.check_name].results]
    outcomes = []
    for e in frame.expects:
        spec = CheckSpec(e.check_name, suite.target_table, e.severity, e.description)
        tally = tallies[e.check_name]
        if not tally.results:
            outcomes.append(failed(spec, "no result from Great Expectations"))
            continue
        r = next(x for x in results if x.expectation_config.meta.get("check_name") == e.check_name)
        outcomes.append(_outcome_from_gx(spec, r, list(dict.fromkeys(tally.keys))))
    return outcomes, _suite_result(f"{suite.name}__frame{index}", last, results)


def _validate_one(key: str, suite: Suite, expects: Sequence[Expect], df: Any, tallies: dict[str, _Tally],
                  offset: int) -> Any:
    if not expects:
        return None
    df = df.reset_index(drop=True)  # GX reports row positions; keys are looked up by position
    # each row's position in the whole frame: its own column where only some rows are read
    frame_positions = df[POSITION].tolist() if POSITION in df.columns else range(offset, offset + len(df))
    forms = [batch_form(e) for e in expects]
    with _gx_lock:
        gx_suite = _cached_suite(key, suite, forms)
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
        # BASIC has the counts of every result. Only a failure needs SUMMARY's row positions
        # (its sample keys), which cost a third of the validation: failures are validated again.
        result = batch.validate(gx_suite, result_format={"result_format": "BASIC"})
        failing = {r.expectation_config.meta.get("check_name") for r in result.results if not r.success}
        if failing:
            again = _new_suite(f"{gx_suite.name}__failing", suite, [e for e in forms if e.check_name in failing])
            detail = batch.validate(
                again, result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_SAMPLE_KEYS}
            )
            detailed = {r.expectation_config.meta.get("check_name"): r for r in detail.results}
            result.results = [detailed.get(r.expectation_config.meta.get("check_name"), r) for r in result.results]
    by_name = {e.check_name: e for e in expects}
    for r in result.results:
        name = r.expectation_config.meta.get("check_name")
        if name in by_name:
            tallies[name].add(r, frame_positions, df, by_name[name])
    return result


def _cached_suite(key: str, suite: Suite, expects: Sequence[Expect]) -> Any:
    _gx_context()
    cache: dict[str, Any] = _gx_state["definitions"]
    if key not in cache:
        cache[key] = _new_suite(key, suite, expects)
    return cache[key]


def _configs(suite: Suite, index: int, frame: Frame) -> dict[str, Any]:
    """Each expectation's configuration as declared (a uniqueness check, not its per-row flag)."""
    declared = _gx_suite(suite, index, frame)
    return {x.configuration.meta["check_name"]: x.configuration for x in declared.expectations}


def _suite_result(name: str, template: Any, results: list[Any]) -> Any:
    from great_expectations.core import ExpectationSuiteValidationResult

    passed = sum(bool(r.success) for r in results)
    statistics = {"evaluated_expectations": len(results), "successful_expectations": passed,
                  "unsuccessful_expectations": len(results) - passed,
                  "success_percent": passed / len(results) * 100 if results else None}
    return ExpectationSuiteValidationResult(
        success=passed == len(results), results=results, suite_name=name, statistics=statistics,
        meta=template.meta if template is not None else {},
        batch_id=template.batch_id if template is not None else None)


@contextmanager
def postgres_source(connection_string: str, engine_kwargs: dict[str, Any]) -> Iterator[Any]:
    """A GX Postgres data source for one run of the checks, removed afterwards (its query
    assets are named after the suites' frames, and the next run in this process adds them again)."""
    _gx_context()
    name = f"bridge_warehouse_{uuid.uuid4().hex[:12]}"
    with _gx_lock:
        source = _gx_state["context"].data_sources.add_postgres(
            name, connection_string=connection_string, kwargs=engine_kwargs)
    try:
        yield source
    finally:
        with _gx_lock:
            _gx_state["context"].data_sources.delete(name)


def validate_sql_frame(suite: Suite, index: int, frame: Frame, source: Any, query: str) -> tuple[list[CheckOutcome], Any]:
    """Validate a frame where it lives: GX runs every expectation as SQL in the server, and
    only counts and at most MAX_SAMPLE_KEYS failing rows' keys come back."""
    with _gx_lock:
        asset = source.add_query_asset(f"{suite.name}__frame{index}", query=query)
        batch = asset.add_batch_definition_whole_table("whole").get_batch()
        gx_suite = _gx_suite(suite, index, frame)
        result = batch.validate(gx_suite, result_format={"result_format": "BASIC"})
        failing = [e for e in frame.expects
                   if any(not r.success and r.expectation_config.meta.get("check_name") == e.check_name
                          for r in result.results)]
        detailed: dict[str, Any] = {}
        for keys in dict.fromkeys(e.keys for e in failing):  # the failing rows' keys, by the columns naming them
            group = [e for e in failing if e.keys == keys]
            fmt: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_SAMPLE_KEYS}
            if keys:
                fmt["unexpected_index_column_names"] = list(keys)
            again = _new_suite(f"{gx_suite.name}__failing", suite, group)
            detailed.update({r.expectation_config.meta.get("check_name"): r
                             for r in batch.validate(again, result_format=fmt).results})
        result.results = [detailed.get(r.expectation_config.meta.get("check_name"), r) for r in result.results]
    by_name = {r.expectation_config.meta.get("check_name"): r for r in result.results}
    outcomes = []
    for e in frame.expects:
        spec = CheckSpec(e.check_name, suite.target_table, e.severity, e.description)
        r = by_name.get(e.check_name)
        if r is None:
            outcomes.append(failed(spec, "no result from Great Expectations"))
            continue
        res = r.result or {}
        rows = [x for x in res.get("partial_unexpected_index_list") or [] if isinstance(x, dict)]
        if not rows:  # a multi-column expectation on SQL lists its failing rows' columns as its values
            rows = [x for x in res.get("partial_unexpected_list") or []
                    if isinstance(x, dict) and all(k in x for k in e.keys)]
        sample = list(dict.fromkeys(_key_of([row.get(k) for k in e.keys]) for row in rows)) if e.keys else []
        if rows:  # the pages show keys, as the audit rows do, never the rows' other values
            res["partial_unexpected_index_list"] = sample
        outcomes.append(_outcome_from_gx(spec, r, sample))
    return outcomes, result


def _outcome_from_gx(spec: CheckSpec, r: Any, sample: list[str]) -> CheckOutcome:
    info = r.exception_info or {}
    # exception_info is either one dict or a dict of per-metric dicts.
    errors = [info] if "raised_exception" in info else list(info.values())
    raised = [x for x in errors if isinstance(x, dict) and x.get("raised_exception")]
    if raised:
        message = error_text(Exception(raised[0].get("exception_message") or "error"))
        return failed(spec, f"error: {message}")
    res = r.result or {}
    success = bool(r.success)
    if "unexpected_count" in res:
        count = int(res.get("unexpected_count") or 0)
        observed: str | float | None = f"{count} of {int(res.get('element_count') or 0)} rows unexpected"
    else:  # an aggregate expectation (freshness): one observed number, the table is the unit
        value = res.get("observed_value")
        observed = float(value) if value is not None else "no rows"
        count, sample = (0 if success else 1), []
    return CheckOutcome.from_spec(spec, success=success, observed_value=observed, unexpected_count=count,
                                  sample_keys=sample[:MAX_SAMPLE_KEYS], engine="great_expectations")


def _sample_keys(df: Any, keys: Sequence[str], positions: Sequence[Any]) -> list[str]:
    """Key values of failing rows by position: never the checked values themselves."""
    if not keys:
        return []
    return [_key_of([df.at[pos, k] for k in keys]) for pos in positions if isinstance(pos, int) and pos < len(df)]


def _key_of(values: Sequence[Any]) -> str:
    return "|".join(safe_key(_key_text(v)) for v in values)  # hash an address, keep the rest


def _key_text(value: Any) -> str:
    try:
        import pandas as pd

        if value is None or pd.isna(value):
            return "<null>"
    except (TypeError, ValueError):
        pass
    if isinstance(value, datetime):  # pandas turns DATE into midnight timestamps: keep keys as dates
        if value.tzinfo is None and value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
