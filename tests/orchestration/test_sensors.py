"""The payroll sensor starts a sync for new files only, and never for the same file twice."""

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
    result, _ = _evaluate(None, inbox, monkeypatch)
    assert isinstance(result, dg.SkipReason)

    (inbox / "payroll_2026-06-26_20260626T180000.csv").write_text("employee_number\n1\n")
    (inbox / "notes.txt").write_text("not an export")
    result, _ = _evaluate(None, inbox, monkeypatch)
    assert len(result.run_requests) == 1
    assert result.run_requests[0].tags["bridge/trigger"] == "sensor"
    cursor = result.cursor

    again, _ = _evaluate(cursor, inbox, monkeypatch)
    assert isinstance(again, dg.SkipReason)  # seen already: no second run

    (inbox / "payroll_2026-06-26_20260628T090000.csv").write_text("employee_number\n1\n2\n")  # a correction
    third, _ = _evaluate(cursor, inbox, monkeypatch)
    assert len(third.run_requests) == 1
    assert third.run_requests[0].run_key != result.run_requests[0].run_key
