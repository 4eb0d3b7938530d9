"""The sync's progress display: feeds report through the connectors' progress logger, steps
through Dagster events; live lines on a terminal, plain lines otherwise."""

import io
import threading

import dagster as dg

from connectors import progress as feed
from orchestration.lib.progress import SyncProgress


class Out(io.StringIO):
    """A stream a test can wait on (a line arriving), never on elapsed time."""

    def __init__(self) -> None:
        super().__init__()
        self.wrote = threading.Event()

    def write(self, s: str) -> int:
        n = super().write(s)
        if "\n" in s:
            self.wrote.set()
        return n


def test_plain_periodic_lines_when_not_a_terminal():
    out = Out()
    with SyncProgress(out, live=False, every=0.01):
        feed.page_read("lms", "courses", 2_000_000)
        feed.records_landed("lms", "courses", 500)
        assert out.wrote.wait(timeout=30)
    text = out.getvalue()
    assert "extract lms/courses: 500 records, 1 pages, 2.0 MB" in text
    assert "\x1b[" not in text  # no escape codes in a log file or a pipe


def test_one_live_line_per_feed_on_a_terminal():
    out = Out()
    with SyncProgress(out, live=True):
        feed.page_read("hris", "users", 1000)
        feed.page_read("xapi", "statements", 1000)
        feed.records_landed("hris", "users", 200)
    text = out.getvalue()
    assert "extract hris/users: 200 records, 1 pages" in text
    assert "extract xapi/statements: 0 records, 1 pages" in text
    assert "\x1b[" in text  # drawn in place by rich


def test_nobody_listening_costs_nothing_and_shows_nothing():
    assert not feed.wanted()
    out = Out()
    with SyncProgress(out, live=False, every=60):
        assert feed.wanted()
    assert not feed.wanted()


def test_one_line_per_finished_step_from_the_run_events():
    @dg.asset
    def extract_hris() -> None:
        feed.records_landed("hris", "users", 7)

    @dg.asset(deps=[extract_hris])
    def warehouse_models() -> None:
        raise RuntimeError("boom")

    from orchestration.defs.loggers import loggers

    job = dg.Definitions(assets=[extract_hris, warehouse_models], jobs=[dg.define_asset_job("j")],
                         loggers=loggers).resolve_job_def("j")
    out = Out()
    with SyncProgress(out, live=False, every=60):
        job.execute_in_process(raise_on_error=False, run_config={"loggers": {"bridge_progress": {}}})
    lines = out.getvalue().splitlines()
    assert lines[0] == "step extract_hris started"
    assert lines[1].startswith("step extract_hris done in ")
    assert lines[2] == "  hris/users: 7 records, 0 pages, 0.0 MB (" + lines[2].split("(")[1]
    assert lines[3:] == ["step warehouse_models started", "step warehouse_models FAILED"]
