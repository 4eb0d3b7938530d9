"""Ctrl-C and SIGTERM during a sync: one decision per run, whatever interrupts it.

Two tools, both plain `signal` handlers (main thread only; elsewhere they do nothing):

- `as_interrupts()` turns SIGTERM into the KeyboardInterrupt SIGINT already is, and
  remembers which signal came, so the run can be closed (recorded `abandoned`) rather than
  killed half-way.
- `deferred()` holds both signals over a short critical section (recording a publication
  decision and renaming the published files into place), then delivers them, so the
  decision row and the published files always agree.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Caught:
    signum: int | None = None
    interrupted: bool = False  # also set when Dagster caught the signal (it does not say which)

    @property
    def name(self) -> str | None:
        if self.signum:
            return signal.Signals(self.signum).name
        return "SIGINT or SIGTERM" if self.interrupted else None


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def as_interrupts() -> Iterator[Caught]:
    caught = Caught()
    if not _main_thread():
        yield caught
        return

    def handler(signum, frame) -> None:
        if caught.signum is None:
            caught.signum = signum
        caught.interrupted = True
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield caught
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextmanager
def deferred() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them to the previous handlers."""
    pending: list[int] = []
    if not _main_thread():
        yield pending
        return
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in SIGNALS}
    try:
        yield pending
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)
