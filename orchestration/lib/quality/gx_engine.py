"""Running one frame through Great Expectations and turning its result into outcomes.

One ephemeral GX context per process, created on first use (importing GX alone takes
~5 s here). Expectation suites are validated directly on a pandas batch, not registered
as validation definitions: registering re-serialises the whole context config each time.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
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


def validate_frame(suite: Suite, index: int, frame: Frame, df: Any) -> tuple[list[CheckOutcome], Any]:
    df = df.reset_index(drop=True)  # GX reports row positions; keys are looked up by position
    with _gx_lock:
        gx_suite = _gx_suite(suite, index, frame)
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": df})
        # BASIC has the counts of every result. Only a failure needs SUMMARY's row positions
        # (its sample keys), which cost a third of the validation: failures are validated again.
        result = batch.validate(gx_suite, result_format={"result_format": "BASIC"})
        failing = {r.expectation_config.meta.get("check_name") for r in result.results if not r.success}
        if failing:
            again = _new_suite(f"{gx_suite.name}__failing", suite, [e for e in frame.expects if e.check_name in failing])
            detail = batch.validate(
                again, result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_SAMPLE_KEYS}
            )
            detailed = {r.expectation_config.meta.get("check_name"): r for r in detail.results}
            result.results = [detailed.get(r.expectation_config.meta.get("check_name"), r) for r in result.results]
    by_name = {r.expectation_config.meta.get("check_name"): r for r in result.results}
    outcomes = []
    for e in frame.expects:
        spec = CheckSpec(e.check_name, suite.target_table, e.severity, e.description)
        r = by_name.get(e.check_name)
        if r is None:
            outcomes.append(failed(spec, "no result from Great Expectations"))
            continue
        outcomes.append(_outcome_from_gx(spec, e, r, df))
    return outcomes, result


def _outcome_from_gx(spec: CheckSpec, e: Expect, r: Any, df: Any) -> CheckOutcome:
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
        sample = _sample_keys(df, e.keys, res.get("partial_unexpected_index_list") or [])
    else:  # an aggregate expectation (freshness): one observed number, the table is the unit
        value = res.get("observed_value")
        observed = float(value) if value is not None else "no rows"
        count, sample = (0 if success else 1), []
    return CheckOutcome.from_spec(spec, success=success, observed_value=observed, unexpected_count=count,
                                  sample_keys=sample, engine="great_expectations")


def _sample_keys(df: Any, keys: Sequence[str], positions: Sequence[Any]) -> list[str]:
    """Key values of failing rows by position: never the checked values themselves."""
    if not keys:
        return []
    out: list[str] = []
    for pos in positions:
        if not isinstance(pos, int) or pos >= len(df):
            continue
        parts = [safe_key(_key_text(df.at[pos, k])) for k in keys]  # hash an address, keep the rest
        key = "|".join(parts)
        if key not in out:
            out.append(key)
    return out[:MAX_SAMPLE_KEYS]


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
