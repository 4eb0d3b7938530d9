"""The payroll sensor starts a sync for new files only, and never for the same file twice."""

import json
from pathlib import Path

import dagster as dg


def _evaluate(cursor: str | None, inbox: Path, monkeypatch):
    from orchestration.defs.sensors import payroll_inbox_sensor

    monkeypatch.setenv("PAYROLL_INBOX", str(inbox))
    context = dg.build_sensor_context(cursor=cursor)
    return payroll_inbox_sensor(context), context


def test_new_payroll_files_start_one_run_each_time(tmp_path: Path, monkeypatch) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.chdir(tmp_path)  # no .env, no simulator ready.json here
    first, _ = _evaluate(None, inbox, monkeypatch)
    assert not first.run_requests and first.cursor == "[]"

    (inbox / "payroll_2026-06-26_20260626T180000.csv").write_text("employee_number\n1\n")
    (inbox / "notes.txt").write_text("not an export")
    result, _ = _evaluate(first.cursor, inbox, monkeypatch)
    assert len(result.run_requests) == 1
    assert result.run_requests[0].tags["bridge/trigger"] == "sensor"
    cursor = result.cursor

    again, _ = _evaluate(cursor, inbox, monkeypatch)
    assert isinstance(again, dg.SkipReason)  # seen already: no second run

    (inbox / "payroll_2026-06-26_20260628T090000.csv").write_text("employee_number\n1\n2\n")  # a correction
    third, _ = _evaluate(cursor, inbox, monkeypatch)
    assert len(third.run_requests) == 1
    assert third.run_requests[0].run_key != result.run_requests[0].run_key


def test_a_fresh_instance_does_not_sync_what_was_already_in_the_inbox(tmp_path: Path, monkeypatch) -> None:
    """`make dev` on a new Dagster instance, its simulator's inbox full of exports, the warehouse
    built by the demo from another simulator: the first tick starts nothing and takes the
    exports as seen; the next export dropped starts a sync."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.chdir(tmp_path)
    for stamp in ("20260612T180000", "20260626T180000"):
        (inbox / f"payroll_2026-06-26_{stamp}.csv").write_text(f"employee_number\n{stamp}\n")
    first, _ = _evaluate(None, inbox, monkeypatch)
    assert not first.run_requests and "first evaluation: 2 payroll export(s)" in first.skip_reason.skip_message
    assert len(json.loads(first.cursor)) == 2

    quiet, _ = _evaluate(first.cursor, inbox, monkeypatch)
    assert isinstance(quiet, dg.SkipReason)
    (inbox / "payroll_2026-07-10_20260710T180000.csv").write_text("employee_number\n3\n")
    later, _ = _evaluate(first.cursor, inbox, monkeypatch)
    assert len(later.run_requests) == 1 and len(json.loads(later.cursor)) == 3
