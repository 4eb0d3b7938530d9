"""Payroll CSV exports from an inbox folder or fsspec URL (CONTRACT 2.5).

The inbox is read-only: files are only listed and read. A file is loaded at
most once (its SHA-256 is the key of raw.payroll__files, written in the same
transaction as its rows). A file missing a required column is rejected whole;
a bad row is quarantined as `file:line` with a reason naming the column (never
the value: salaries stay out of audit tables) and the rest of the file loads.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import fsspec

from .config import PayrollConfig
from .landing import DuckDBLander, ExtractAudit

SOURCE, STREAM = "payroll", "rows"
FILE_RE = re.compile(r"^payroll_(\d{4}-\d{2}-\d{2})_(\d{8}T\d{6})\.csv$")
REQUIRED_COLUMNS = ("employee_number", "pay_period_start", "pay_period_end", "job_code", "job_title",
                    "pay_grade", "remuneration_package", "annual_base_salary", "currency", "fte",
                    "cost_center", "employment_status")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class PayrollFile:
    path: str               # as the filesystem names it
    name: str
    period_end: date
    exported_at: datetime
    sha256: str


def _fs(inbox: str) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, root = fsspec.core.url_to_fs(inbox)
    return fs, root.rstrip("/")


# (protocol, path, size, content version) -> sha256: a sensor lists the inbox every minute; unchanged
# files are not re-read. Size and mtime alone are not enough: a file re-sent in place with the same
# size keeps a copied or reset mtime (cp -p, rsync -t, touch -r), so a cached hash needs a version
# the sender cannot set back. A file whose filesystem reports none is always re-hashed.
_SHA_CACHE: dict[tuple, str] = {}
# fields (fsspec's info) that change whenever the content does: object stores' ETag/generation
_OBJECT_VERSIONS = ("ETag", "etag", "generation", "md5Hash")


def _content_version(info: dict) -> tuple | None:
    """What changes with the file's content, as the filesystem reports it, or None when in doubt."""
    stamp = info.get("mtime") or info.get("LastModified") or info.get("updated")
    if info.get("ino") is not None and info.get("created") is not None:
        # POSIX (local, NFS): a write or a utime() sets the ctime (fsspec's `created`) to now, and
        # nothing sets it back; a file replaced by another has another inode or a newer ctime
        return ("posix", info["ino"], info["created"], stamp)
    for name in _OBJECT_VERSIONS:
        if info.get(name):
            return (name, str(info[name]), str(stamp))
    return None


def _sha256(fs: fsspec.AbstractFileSystem, path: str) -> str:
    try:
        info = fs.info(path)
    except (OSError, NotImplementedError):
        info = {}
    version = _content_version(info)
    key = (str(fs.protocol), path, info.get("size"), version) if version else None
    if key is not None and key in _SHA_CACHE:
        return _SHA_CACHE[key]
    digest = _hash_file(fs, path)
    if key is not None:
        if len(_SHA_CACHE) > 10_000:
            _SHA_CACHE.clear()
        _SHA_CACHE[key] = digest
    return digest


def _hash_file(fs: fsspec.AbstractFileSystem, path: str) -> str:
    digest = hashlib.sha256()
    with fs.open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def list_files(inbox: str) -> list[PayrollFile]:
    """Every well-named export in the inbox, oldest export first (names not matching are ignored)."""
    fs, root = _fs(inbox)
    out = []
    for path in fs.ls(root, detail=False):
        name = path.rsplit("/", 1)[-1]
        m = FILE_RE.match(name)
        if not m:
            continue
        try:
            period_end = date.fromisoformat(m.group(1))
            exported_at = datetime.strptime(m.group(2), "%Y%m%dT%H%M%S")
        except ValueError:
            continue
        out.append(PayrollFile(path, name, period_end, exported_at, _sha256(fs, path)))
    return sorted(out, key=lambda f: (f.exported_at, f.name))


def pending_files(inbox: str, loaded_checksums: set[str] | frozenset[str]) -> list[PayrollFile]:
    """Files not loaded yet (for the orchestration's sensor)."""
    return [f for f in list_files(inbox) if f.sha256 not in loaded_checksums]


# --- parsing ----------------------------------------------------------------

def _row_problem(row: dict[str, str]) -> str | None:
    """Reason a row cannot load (names the column, never the value), or None."""
    if not row.get("employee_number", "").strip():
        return "employee_number is empty"
    for col in ("pay_period_start", "pay_period_end"):
        try:
            date.fromisoformat(row[col].strip())
        except ValueError:
            return f"{col} is not an ISO date"
    try:
        salary = Decimal(row["annual_base_salary"].strip())
        if not salary.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        return "annual_base_salary is not a decimal number"
    try:
        fte = Decimal(row["fte"].strip())
        if not fte.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        return "fte is not a number"
    if not Decimal(0) <= fte <= Decimal(1):
        return "fte outside 0..1"
    return None


@dataclass
class ParsedFile:
    header_error: str | None
    quarantine: list[tuple[str, str]]


def parse_batches(text_stream: io.TextIOBase, file_name: str, batch_rows: int,
                  parsed: ParsedFile) -> Iterator[tuple[list[int], list[str]]]:
    """Yield batches (line numbers, payload JSON texts); bad rows go to `parsed.quarantine`."""
    reader = csv.reader(text_stream)
    try:
        header = next(reader)
    except StopIteration:
        parsed.header_error = "file is empty (no header row)"
        return
    except csv.Error:
        parsed.header_error = "header row is not valid CSV"
        return
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        parsed.header_error = "missing required column(s): " + ", ".join(missing)
        return
    lines: list[int] = []
    payloads: list[str] = []
    start = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:
            parsed.quarantine.append((f"{file_name}:{start}", "malformed CSV record"))
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1       # physical line where this record began
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue                                    # blank line
        if len(fields) != len(names):
            parsed.quarantine.append((f"{file_name}:{line}",
                                      f"has {len(fields)} fields, header has {len(names)}"))
            continue
        row = dict(zip(names, fields))
        problem = _row_problem(row)
        if problem:
            parsed.quarantine.append((f"{file_name}:{line}", problem))
            continue
        lines.append(line)
        payloads.append(json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
        if len(lines) >= batch_rows:
            yield lines, payloads
            lines, payloads = [], []
    if lines:
        yield lines, payloads


def load_file(lander: DuckDBLander, f: PayrollFile, inbox: str, run_id: str, batch_rows: int,
              log: logging.Logger) -> tuple[int, int, str]:
    """Load one file in one transaction; returns (rows loaded, rows quarantined, status)."""
    fs, _ = _fs(inbox)
    parsed = ParsedFile(None, [])
    with fs.open(f.path, "rb") as raw:
        # newline="": only CR/LF end a line (as RFC 4180 and the csv module expect); a codecs reader would
        # also split on U+2028 and friends inside quoted fields and shift every line number
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
        try:
            loaded = lander.land_payroll_file(
                run_id, file_name=f.name, file_sha256=f.sha256, period_end=f.period_end,
                exported_at=f.exported_at, batches=_checked(parse_batches(text, f.name, batch_rows, parsed),
                                                            parsed),
                quarantine=parsed.quarantine, status="loaded", reason=None)
        except (UnicodeDecodeError, _Rejected) as exc:
            reason = "file is not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
            parsed.quarantine.clear()
            lander.land_payroll_file(run_id, file_name=f.name, file_sha256=f.sha256, period_end=f.period_end,
                                     exported_at=f.exported_at, batches=[],
                                     quarantine=[(f.name, f"file rejected: {reason}")], status="rejected",
                                     reason=reason)
            log.warning("payroll/rows: %s rejected whole (%s); no row loaded", f.name, reason)
            return 0, 0, "rejected"
    for ref, reason in parsed.quarantine:
        log.warning("payroll/rows: %s quarantined: %s", ref, reason)
    return loaded, len(parsed.quarantine), "loaded"


class _Rejected(Exception):
    pass


def _checked(batches: Iterator[tuple[list[int], list[str]]],
             parsed: ParsedFile) -> Iterator[tuple[list[int], list[str]]]:
    """Turn a header error into an exception inside the landing transaction (rolls back)."""
    yield from batches
    if parsed.header_error:
        raise _Rejected(parsed.header_error)


def extract(lander: DuckDBLander, config: PayrollConfig, run_id: str, log: logging.Logger) -> list[ExtractAudit]:
    audit = ExtractAudit(run_id, SOURCE, STREAM, mode="incremental")
    digest = hashlib.sha256()
    loaded_before = lander.loaded_payroll_checksums()
    files = pending_files(config.inbox, loaded_before)
    audit.mode = "incremental" if loaded_before else "full"
    for f in files:
        rows, bad, status = load_file(lander, f, config.inbox, run_id, config.batch_rows, log)
        audit.records += rows
        audit.new_versions += rows
        audit.quarantined += bad
        audit.pages += 1
        audit.bytes += _fs(config.inbox)[0].size(f.path) or 0
        digest.update(f.sha256.encode())
        log.info("payroll/rows: %s %s (%d rows, %d quarantined)", f.name, status, rows, bad)
    audit.cursor_from = None
    audit.cursor_to = files[-1].name if files else None
    audit.checksum = digest.hexdigest()
    lander.write_extract(audit)
    return [audit]
