"""`bridge payroll withdraw FILE --reason TEXT`: a landed export counts in no build from the next one
on, with who asked and why in the audit trail; the inbox file is never touched."""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from pathlib import Path

import duckdb
import pytest

from connectors.config import PayrollConfig
from connectors.payroll import REQUIRED_COLUMNS
from connectors.sync import extract_source
from orchestration.cli import main

NAME = "payroll_2026-06-26_20260626T180000.csv"


def _export(inbox: Path, salary: str) -> Path:
    path = inbox / NAME
    path.write_text(",".join(REQUIRED_COLUMNS) + "\n"
                    f"42,2026-06-13,2026-06-26,TG1,Tour Guide,G3,PKG-A,{salary},EUR,1,4130,active\n")
    return path


def _land(work: Path, inbox: Path, run_id: str) -> None:
    con = duckdb.connect(str(work))
    try:
        extract_source(con, "payroll", PayrollConfig(inbox=str(inbox)), run_id, date(2026, 6, 30),
                       logging.getLogger("test"))
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("BRIDGE_WAREHOUSE", str(tmp_path / "wh" / "bridge.duckdb"))
    (tmp_path / "wh").mkdir()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return tmp_path / "wh" / "bridge.work.duckdb", inbox


def test_withdraw_names_who_and_why_and_leaves_the_inbox_alone(warehouse, capsys, monkeypatch) -> None:
    work, inbox = warehouse
    first = _export(inbox, "52000")
    first_sha = hashlib.sha256(first.read_bytes()).hexdigest()
    _land(work, inbox, "r1")
    second = _export(inbox, "53000")    # re-sent under the same name with other bytes
    second_bytes = second.read_bytes()
    _land(work, inbox, "r2")

    # the name alone is ambiguous now: both landed exports are listed, nothing is withdrawn
    assert main(["payroll", "withdraw", NAME, "--reason", "sent twice"]) == 2
    listed = capsys.readouterr().err
    assert first_sha in listed and hashlib.sha256(second_bytes).hexdigest() in listed

    monkeypatch.setenv("USER", "nobody-in-particular")
    assert main(["payroll", "withdraw", first_sha[:10], "--reason", "  sent by   mistake ",
                 "--requested-by", "payroll-ops"]) == 0
    assert "withdrawn: " + NAME in capsys.readouterr().out
    con = duckdb.connect(str(work), read_only=True)
    try:
        assert con.execute("select file_sha256, file_name, reason, requested_by from raw.payroll__withdrawals"
                           ).fetchall() == [(first_sha, NAME, "sent by mistake", "payroll-ops")]
        [(run_id, stream, ref, reason)] = con.execute(
            "select run_id, stream, record_ref, reason from audit.quarantine where reason like 'withdrawn%'"
        ).fetchall()
    finally:
        con.close()
    assert run_id.startswith("withdraw-") and stream == "files"
    assert ref == f"{NAME} (sha256 {first_sha[:12]})" and reason == "withdrawn by payroll-ops: sent by mistake"
    assert second.read_bytes() == second_bytes      # the inbox is read-only to the bridge

    # the file on disk names its exact bytes; withdrawing twice changes nothing
    assert main(["payroll", "withdraw", str(second), "--reason", "wrong period"]) == 0
    assert main(["payroll", "withdraw", str(second), "--reason", "again"]) == 0
    assert "already withdrawn" in capsys.readouterr().out
    con = duckdb.connect(str(work), read_only=True)
    try:
        assert con.execute("select count(*) from raw.payroll__withdrawals").fetchone() == (2,)
    finally:
        con.close()


def test_withdraw_refuses_what_it_cannot_name(warehouse, capsys) -> None:
    work, inbox = warehouse
    assert main(["payroll", "withdraw", NAME, "--reason", "x"]) == 2      # nothing landed yet
    assert "no warehouse" in capsys.readouterr().err
    _export(inbox, "52000")
    _land(work, inbox, "r1")
    assert main(["payroll", "withdraw", "payroll_2026-01-02_20260102T000000.csv", "--reason", "x"]) == 2
    assert "no landed payroll export matches" in capsys.readouterr().err
    assert main(["payroll", "withdraw", NAME, "--reason", "   "]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["payroll", "withdraw", NAME])                                # --reason is required
    assert exc.value.code == 2
