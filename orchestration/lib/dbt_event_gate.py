"""Skip the work dbt does on debug events that no logger keeps.

dbt builds every event into a protobuf message when it is created (`ParseDict`), builds it
again into an envelope when it is fired, and renders it as a JSON line; only then does
Python's logging drop it by level. The dbt step streams dbt's log to Dagster at `info`, so
that work is wasted on ~3,900 of a nightly build's ~4,300 events (a connection, query and
status event for each of ~550 queries; a start, compile, execute and finish event for each
node): ~3.5 s of the GIL that a build's worker threads share.

With the gate, a debug event's message is built only when something reads it, and firing
one that no logger's level admits and no listener hears does nothing. Everything else is
dbt's: `--log-level debug` or DBT_LOG_LEVEL_FILE=debug get every debug line as before, a
dbtRunner callback hears every event, and info, warnings and errors are never touched.

Installed only in the dbt process the bridge runs (dbt_prewarm), never in the orchestrating
one. It wraps dbt-common's EventManager and BaseEvent: tests/orchestration/test_dbt_event_gate.py
compares what loggers and listeners get with stock dbt's, and a dbt-common whose names it
cannot find (install() raises before it changes anything) runs as shipped.
"""

from __future__ import annotations

import functools
from typing import Any

_PENDING = "_bridge_pending"  # an event's constructor arguments, until its message is built


def install() -> None:
    """Gate dbt-common's events in this process (idempotent)."""
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.base_types import BaseEvent, DynamicLevel, EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.logger import _log_level_map

    if getattr(EventManager.fire_event, "_bridge_gate", False):
        return
    below_info = {EventLevel.DEBUG, EventLevel.TEST}
    build, get, set_ = BaseEvent.__init__, BaseEvent.__getattr__, BaseEvent.__setattr__

    def built(event: BaseEvent) -> None:
        pending = event.__dict__.get(_PENDING)
        if pending is not None:  # dropped only once built: a second reader meanwhile builds it too
            build(event, *pending[0], **pending[1])
            event.__dict__.pop(_PENDING, None)

    @functools.wraps(build)
    def init(self: BaseEvent, *args: Any, **kwargs: Any) -> None:
        # A DynamicLevel event learns its level only when fired: built now, as are all above debug.
        if isinstance(self, DynamicLevel) or self.level_tag() not in below_info:
            build(self, *args, **kwargs)
        else:
            self.__dict__[_PENDING] = (args, kwargs)

    def getattr_(self: BaseEvent, key: str) -> Any:
        built(self)
        return get(self, key)

    def setattr_(self: BaseEvent, key: str, value: Any) -> None:
        if key != "pb_msg":
            built(self)
        set_(self, key, value)

    fire_event = EventManager.fire_event

    @functools.wraps(fire_event)
    def gated(self: EventManager, e: BaseEvent, level: EventLevel | None = None, *args: Any, **kwargs: Any) -> None:
        event_level = level or e.level_tag()
        if (
            event_level in below_info
            # dbt registers this one in every invocation; it reads only warnings
            and all(callback is track_behavior_change_warn for callback in self.callbacks)
            and all(_log_level_map[logger.level] > _log_level_map[event_level] for logger in self.loggers)
        ):
            return
        fire_event(self, e, level, *args, **kwargs)

    gated._bridge_gate = True  # type: ignore[attr-defined]
    BaseEvent.__init__ = init  # type: ignore[method-assign]
    BaseEvent.__getattr__ = getattr_  # type: ignore[method-assign]
    BaseEvent.__setattr__ = setattr_  # type: ignore[method-assign]
    EventManager.fire_event = gated  # type: ignore[method-assign]
