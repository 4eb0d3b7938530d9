"""Peak resident memory of a process and of every process it starts (dbt, a `bridge sync`),
polled with psutil while a block runs: a figure per process, since each must keep to its bound."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

POLL_SECONDS = 0.05


class PeakMemory:
    def __init__(self, root_pid: int | None = None) -> None:
        self.root = psutil.Process(root_pid)
        self.peaks: dict[int, tuple[str, int]] = {}     # pid -> (what it runs, peak RSS in bytes)
        self.stopped = threading.Event()

    def _label(self, proc: psutil.Process) -> str:
        cmd = proc.cmdline()
        words = [w.rsplit("/", 1)[-1] for w in cmd[:3]]
        return " ".join(words)[:60] or proc.name()

    def poll(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        for proc in procs:
            try:
                rss = proc.memory_info().rss
                label = self.peaks[proc.pid][0] if proc.pid in self.peaks else self._label(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            self.peaks[proc.pid] = (label, max(rss, self.peaks.get(proc.pid, ("", 0))[1]))

    def watch(self) -> None:
        while not self.stopped.wait(POLL_SECONDS):
            self.poll()

    def lines(self, min_mb: float = 20) -> list[str]:
        """One line per process of any size, largest first (short-lived helpers under `min_mb` left out)."""
        rows = sorted(self.peaks.items(), key=lambda kv: -kv[1][1])
        return [f"peak RSS {rss / 2**20:7.0f} MiB  pid {pid:<7} {label}" for pid, (label, rss) in rows
                if rss >= min_mb * 2**20]


@contextmanager
def peak_memory(root_pid: int | None = None) -> Iterator[PeakMemory]:
    """Poll `root_pid` (this process by default) and its descendants until the block ends."""
    peak = PeakMemory(root_pid)
    thread = threading.Thread(target=peak.watch, daemon=True, name="peak-memory")
    thread.start()
    try:
        yield peak
    finally:
        peak.stopped.set()
        thread.join()
        peak.poll()
