"""What a running `bridge sync` shows: one live line per feed while it extracts (records,
pages, rate) on a terminal, plain periodic lines otherwise, and one line per finished step.

Feeds report through the connectors' `connectors.progress` logger; steps through the run's
Dagster events, which the `bridge_progress` Dagster logger (`dagster_logger`, active only in
runs whose config names it: `bridge sync`) hands to the display of this process. The live
lines are drawn by `rich`, which also falls back to plain output when not on a terminal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Self

import dagster as dg
from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn

from connectors.progress import PROGRESS

STEP_EVENTS = {
    dg.DagsterEventType.STEP_START: "started",
    dg.DagsterEventType.STEP_SUCCESS: "done",
    dg.DagsterEventType.STEP_FAILURE: "FAILED",
    dg.DagsterEventType.STEP_UP_FOR_RETRY: "will retry",
    dg.DagsterEventType.STEP_SKIPPED: "skipped",
}


CURRENT: SyncProgress | None = None  # the display of the `bridge sync` running in this process


class _StepHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        display = CURRENT
        if display is not None and isinstance(event, dg.DagsterEvent):
            display.step_event(event)


def dagster_logger() -> logging.Logger:
    """The logger behind the `bridge_progress` Dagster logger definition."""
    logger = logging.getLogger("bridge.progress.steps")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # step events go to the display only, never to another handler
    if not any(isinstance(h, _StepHandler) for h in logger.handlers):
        logger.addHandler(_StepHandler())
    return logger


@dataclass
class Feed:
    started: float = field(default_factory=time.monotonic)
    records: int = 0
    pages: int = 0
    bytes: int = 0

    def line(self, name: str) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = f"{self.records / elapsed:,.0f} records/s" if self.records else f"{self.pages / elapsed:,.1f} pages/s"
        return (f"extract {name}: {self.records:,} records, {self.pages:,} pages, "
                f"{self.bytes / 1e6:,.1f} MB ({rate})")


class _FeedHandler(logging.Handler):
    def __init__(self, display: SyncProgress) -> None:
        super().__init__(logging.DEBUG)
        self.display = display

    def emit(self, record: logging.LogRecord) -> None:
        data = getattr(record, "bridge_progress", None)
        if data:
            self.display.feed(data)


class SyncProgress:
    """Use as a context manager around the run."""

    def __init__(self, out: IO[str], *, live: bool | None = None, every: float = 10.0) -> None:
        self.console = Console(file=out, force_terminal=live, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal if live is None else live
        self.every = every
        self._lock = threading.Lock()
        self._feeds: dict[str, Feed] = {}
        self._tasks: dict[str, TaskID] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._handler = _FeedHandler(self)
        self._started: dict[str, float] = {}
        self._bar = Progress(TextColumn("{task.description}"), console=self.console, transient=True) \
            if self.live else None

    # -- lines ------------------------------------------------------------------------------
    def say(self, line: str) -> None:
        with self._lock:
            self.console.print(line, markup=False)

    def feed(self, data: dict) -> None:
        name = f"{data['source']}/{data['stream']}"
        with self._lock:
            feed = self._feeds.setdefault(name, Feed())
            feed.records += data.get("records", 0)
            feed.pages += data.get("pages", 0)
            feed.bytes += data.get("bytes", 0)
            if self._bar is not None:
                if name not in self._tasks:
                    self._tasks[name] = self._bar.add_task(feed.line(name), total=None)
                self._bar.update(self._tasks[name], description=feed.line(name))

    def _periodic(self) -> None:
        shown: dict[str, tuple[int, int]] = {}
        while not self._stop.wait(self.every):
            with self._lock:
                lines = [f.line(n) for n, f in self._feeds.items() if shown.get(n) != (f.records, f.pages)]
                shown = {n: (f.records, f.pages) for n, f in self._feeds.items()}
            for line in lines:
                self.say(line)

    def _finish_feeds(self, source: str | None) -> None:
        """A finished extract step: its feeds' final counts (every feed's: None), once, in the
        plain output."""
        with self._lock:
            names = [n for n in self._feeds if source is None or n.startswith(f"{source}/")]
            lines = [self._feeds.pop(n).line(n) for n in names]
            for n in names:
                if self._bar is not None and n in self._tasks:
                    self._bar.remove_task(self._tasks.pop(n))
        for line in lines:
            self.say("  " + line.removeprefix("extract "))

    # -- steps ------------------------------------------------------------------------------
    def step_event(self, event: dg.DagsterEvent) -> None:
        what = STEP_EVENTS.get(event.event_type)
        step = event.step_key
        if what is None or not step:
            return
        now = time.monotonic()
        if what == "started":
            self._started[step] = now
            self.say(f"step {step} started")
            return
        took = now - self._started.get(step, now)
        self.say(f"step {step} {what}" + (f" in {took:.1f} s" if what == "done" else ""))
        if step.startswith("extract_") and what != "started":
            source = step.removeprefix("extract_")
            self._finish_feeds(None if source == "feeds" else source)     # extract_feeds: all of them

    def _start(self, target: Callable[[], None]) -> None:
        t = threading.Thread(target=target, name="bridge-progress", daemon=True)
        t.start()
        self._threads.append(t)

    def __enter__(self) -> Self:
        global CURRENT
        CURRENT = self
        PROGRESS.addHandler(self._handler)
        PROGRESS.setLevel(logging.DEBUG)
        if self._bar is not None:
            self._bar.start()
        else:
            self._start(self._periodic)
        return self

    def __exit__(self, *exc: object) -> None:
        global CURRENT
        CURRENT = None
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        PROGRESS.removeHandler(self._handler)
        PROGRESS.setLevel(logging.NOTSET)
        if self._bar is not None:
            self._bar.stop()
