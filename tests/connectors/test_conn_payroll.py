"""Payroll CSV inbox: BOM, bad rows quarantined by file:line, missing column rejects the file,
re-sent files skipped, corrections load, the inbox is never touched."""
from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import date
from pathlib import Path

import fsspec

from connectors.config import PayrollConfig
from connectors.payroll import REQUIRED_COLUMNS, pending_files
from connectors.sync import extract_source

LOG = logging.getLogger("test.payroll")
DAY = date(2026, 6, 30)
HEADER = ",".join(REQUIRED_COLUMNS)


def row(emp: str = "00042", salary: str = "52000.50", fte: str = "1", start: str = "2026-06-01",
        title: str = "Tour Guide") -> str:
    return f"{emp},{start},2026-06-30,TG1,{title},G3,PKG-A,{salary},EUR,{fte},4130,active"


def write(inbox: Path, name: str, lines: list[str], bom: bool = False, header: str = HEADER) -> Path:
    p = inbox / name
    text = "\r\n".join([header, *lines]) + "\r\n"
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return p


def snapshot(inbox: Path) -> dict[str, tuple]:
    return {p.name: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(inbox.iterdir())}


def test_bom_bad_rows_and_multiline_quoted_field(con, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    lines = [row("00001"),                                    # line 2
             row("00002", title='"Guide, ""Senior""\nNight\u2028shift"'),   # lines 3-4 (one record)
             row("00003", salary="12,5x".replace(",", "")),     # line 5: salary not a number
             row("", salary="99999"),                           # line 6: no employee number
             row("00005", fte="1.5"),                           # line 7: fte out of range
             row("00006", start="2026-13-01"),                  # line 8: bad date
             row("00007")]                                      # line 9
    write(inbox, "payroll_2026-06-30_20260701T020000.csv", lines, bom=True)
    before = snapshot(inbox)
    [res] = extract_source(con, "payroll", PayrollConfig(inbox=str(inbox)), "r1", DAY, LOG)
    assert snapshot(inbox) == before
    got = con.execute("""select line_number, json_extract_string(payload, '$.employee_number'),
                                json_extract_string(payload, '$.job_title'), period_end, file_name
                         from raw.payroll__rows order by line_number""").fetchall()
    assert [g[:2] for g in got] == [(2, "00001"), (3, "00002"), (9, "00007")]   # leading zeros kept, BOM gone
    assert got[1][2] == 'Guide, "Senior"\nNight\u2028shift'
    assert got[0][3] == date(2026, 6, 30)
    q = con.execute("select record_ref, reason from audit.quarantine order by record_ref").fetchall()
    name = "payroll_2026-06-30_20260701T020000.csv"
    assert q == [(f"{name}:5", "annual_base_salary is not a decimal number"),
                 (f"{name}:6", "employee_number is empty"),
                 (f"{name}:7", "fte outside 0..1"),
                 (f"{name}:8", "pay_period_start is not an ISO date")]
    assert not any("99999" in r for _, r in q)          # no values (salaries) in audit
    f = con.execute("select status, rows_loaded, rows_quarantined from raw.payroll__files").fetchone()
    assert f == ("loaded", 3, 4) and res.records == 3 and res.quarantined == 4
    ids = [r[0] for r in con.execute("select record_id from raw.payroll__rows order by line_number").fetchall()]
    sha = hashlib.sha256((inbox / name).read_bytes()).hexdigest()
    assert ids == [f"{sha}:2", f"{sha}:3", f"{sha}:9"]


def test_missing_column_rejects_whole_file(con, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    header = HEADER.replace(",currency", "").replace(",fte", "")
    write(inbox, "payroll_2026-06-30_20260701T020000.csv", [row()[:-1]], header=header)
    [res] = extract_source(con, "payroll", PayrollConfig(inbox=str(inbox)), "r1", DAY, LOG)
    assert con.execute("select count(*) from raw.payroll__rows").fetchone()[0] == 0
    status, reason = con.execute("select status, reason from raw.payroll__files").fetchone()
    assert status == "rejected" and reason == "missing required column(s): currency, fte"
    ref, qreason = con.execute("select record_ref, reason from audit.quarantine").fetchone()
    assert ref == "payroll_2026-06-30_20260701T020000.csv" and "currency, fte" in qreason
    assert res.records == 0


def test_resent_file_skipped_correction_loads_and_pending_files(con, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = write(inbox, "payroll_2026-06-30_20260701T020000.csv", [row("1"), row("2")])
    extract_source(con, "payroll", PayrollConfig(inbox=str(inbox)), "r1", DAY, LOG)
    # the same bytes sent again under a later name: same SHA-256, skipped
    (inbox / "payroll_2026-06-30_20260702T020000.csv").write_bytes(first.read_bytes())
    write(inbox, "payroll_2026-06-30_20260703T020000.csv", [row("1", salary="53000"), row("2")])   # correction
    (inbox / "notes.txt").write_text("ignored")
    loaded = {r[0] for r in con.execute("select file_sha256 from raw.payroll__files").fetchall()}
    pending = pending_files(str(inbox), loaded)
    assert [p.name for p in pending] == ["payroll_2026-06-30_20260703T020000.csv"]
    before = snapshot(inbox)
    [res] = extract_source(con, "payroll", PayrollConfig(inbox=str(inbox)), "r2", DAY, LOG)
    assert snapshot(inbox) == before
    assert res.records == 2 and res.mode == "incremental"
    files = con.execute("select file_name, exported_at::varchar from raw.payroll__files order by exported_at").fetchall()
    assert files == [("payroll_2026-06-30_20260701T020000.csv", "2026-07-01 02:00:00"),
                     ("payroll_2026-06-30_20260703T020000.csv", "2026-07-03 02:00:00")]
    [res3] = extract_source(con, "payroll", PayrollConfig(inbox=str(inbox)), "r3", DAY, LOG)
    assert res3.records == 0 and con.execute("select count(*) from raw.payroll__rows").fetchone()[0] == 4


def test_fsspec_url_inbox(con):
    fs = fsspec.filesystem("memory")
    name = f"/inbox-{os.getpid()}/payroll_2026-05-31_20260601T010000.csv"
    fs.pipe(name, ("\ufeff" + HEADER + "\n" + row("9") + "\n").encode())
    try:
        [res] = extract_source(con, "payroll", PayrollConfig(inbox=f"memory://{name.rsplit('/', 1)[0]}"),
                               "r1", DAY, LOG)
        assert fs.cat(name).startswith(b"\xef\xbb\xbf")      # untouched
    finally:
        fs.rm(name)
    payload = json.loads(con.execute("select payload from raw.payroll__rows").fetchone()[0])
    assert res.records == 1 and payload["employee_number"] == "9" and payload["currency"] == "EUR"


def test_pending_files_rehashes_a_rewritten_file(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    p = write(inbox, "payroll_2026-06-30_20260701T020000.csv", [row("1")])
    [first] = pending_files(str(inbox), set())
    assert first.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    assert pending_files(str(inbox), {first.sha256}) == []
    write(inbox, "payroll_2026-06-30_20260701T020000.csv", [row("1"), row("2")])   # same name, new bytes
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 1_000_000_000))
    [second] = pending_files(str(inbox), {first.sha256})
    assert second.sha256 == hashlib.sha256(p.read_bytes()).hexdigest() != first.sha256


def test_a_file_resent_under_its_own_name_with_other_bytes_supersedes_and_is_listed(con, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    name = "payroll_2026-06-26_20260626T180000.csv"
    first = write(inbox, name, [row("1"), row("2")])
    first_sha = hashlib.sha256(first.read_bytes()).hexdigest()
    extract_source(con, "payroll", PayrollConfig(inbox=str(inbox)), "r1", DAY, LOG)
    # the vendor re-sends a corrected file under the same name: same period, same export stamp, other bytes
    second = write(inbox, name, [row("1", salary="53000"), row("2"), row("3")])
    second_sha = hashlib.sha256(second.read_bytes()).hexdigest()
    [res] = extract_source(con, "payroll", PayrollConfig(inbox=str(inbox)), "r2", DAY, LOG)

    assert res.records == 3     # loaded beside the first (dbt staging counts only the later landed one)
    assert con.execute("select file_sha256 from raw.payroll__files order by landed_at").fetchall() == [
        (first_sha,), (second_sha,)]
    # the run that landed it lists the export it superseded, naming both by name and checksum
    [(run_id, stream, ref, reason)] = con.execute(
        "select run_id, stream, record_ref, reason from audit.quarantine").fetchall()
    assert (run_id, stream, ref) == ("r2", "files", f"{name} (sha256 {first_sha[:12]})")
    assert reason.startswith("superseded:") and second_sha[:12] in reason and "53000" not in reason
    # a third landing of the first bytes is not a new export: skipped by checksum, nothing listed again
    write(inbox, name, [row("1"), row("2")])
    [res3] = extract_source(con, "payroll", PayrollConfig(inbox=str(inbox)), "r3", DAY, LOG)
    assert res3.records == 0 and con.execute("select count(*) from audit.quarantine").fetchone()[0] == 1


def test_a_file_rewritten_in_place_with_its_size_and_mtime_kept_is_rehashed(tmp_path):
    """A re-send that keeps the size and restores the mtime (cp -p, rsync -t, touch -r) must not be
    taken for the file already hashed: its content is another export."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    p = write(inbox, "payroll_2026-06-30_20260701T030000.csv", [row("1", salary="52000.50")])
    before = p.stat()
    [first] = pending_files(str(inbox), set())
    with p.open("r+b") as fh:                                  # same inode, same size, other bytes
        fh.write(p.read_bytes().replace(b"52000.50", b"99000.50"))
    os.utime(p, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = p.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    resent = hashlib.sha256(p.read_bytes()).hexdigest()
    assert [f.sha256 for f in pending_files(str(inbox), {first.sha256})] == [resent] != [first.sha256]
    # and an untouched file keeps its hash from one listing to the next
    assert pending_files(str(inbox), {resent}) == []
