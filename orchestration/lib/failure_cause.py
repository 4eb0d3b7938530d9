"""The underlying cause of each failed step, for the terminal's summary.

Dagster wraps a step's error (retries exhausted, an op raised...): the user only needs the
innermost error, the one a connector or a check raised, which names the source, stream, host
and path, HTTP status and what it means, or the file and line.
"""

from __future__ import annotations

import re
from typing import Any

import dagster as dg

INTERRUPTED = ("DagsterExecutionInterruptedError", "KeyboardInterrupt")
_CLASS_PREFIX = re.compile(r"^[\w.]+(Error|Exception|Failure|Interrupt)\w*: ")


def innermost(error: Any) -> Any:
    """The deepest error of a SerializableErrorInfo chain that Dagster did not raise itself."""
    chain = []
    while error is not None and len(chain) < 20:
        chain.append(error)
        error = error.cause or error.context
    for err in reversed(chain):
        name = err.cls_name or ""
        if name in INTERRUPTED or not name.startswith("Dagster"):
            return err
    return chain[-1] if chain else None


def was_interrupted(events: list[Any]) -> bool:
    """Whether a step failed because the run was interrupted (Ctrl-C, SIGTERM)."""
    return any(
        event.is_step_failure and event.step_failure_data and event.step_failure_data.error
        and (innermost(event.step_failure_data.error).cls_name or "") in INTERRUPTED
        for event in events
    )


def describe(error: Any) -> str:
    err = innermost(error)
    if err is None:
        return "unknown error"
    if (err.cls_name or "") in INTERRUPTED:
        return "interrupted (Ctrl-C or SIGTERM)"
    lines = [line for line in (err.message or "").strip().splitlines() if line.strip()]
    first = lines[0] if lines else err.cls_name or "unknown error"
    return _CLASS_PREFIX.sub("", first)[:500]


def step_causes(events: list[Any]) -> dict[str, str]:
    """step key -> the cause of its failure (the last attempt that said something useful)."""
    causes: dict[str, str] = {}
    for event in events:
        if not event.step_key:
            continue
        error = None
        if event.is_step_failure and event.step_failure_data:
            error = event.step_failure_data.error
        elif event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY:
            error = getattr(event.event_specific_data, "error", None)
        if error is None:
            continue
        text = describe(error)
        if not text.startswith("Exceeded max_retries") or event.step_key not in causes:
            causes[event.step_key] = text
    return {step: text for step, text in causes.items()
            if any(e.is_step_failure and e.step_key == step for e in events)}
