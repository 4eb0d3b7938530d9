"""The documentation ships with the project: nothing refers to a file outside the repository,
every relative link of the Markdown docs resolves (anchors included), every README links the
contract (docs/contract.md), and the contract names every setting the code reads."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "docs" / "contract.md"
# Spelled in pieces so this file does not match itself.
OUTSIDE = [re.compile(re.escape(p)) for p in ("CONTRACT" + ".md", "../" + "shared", "/work" + "/")]
READMES = ["README.md", "dbt_project/README.md", "simulator/README.md", "orchestration/lib/quality/README.md",
           "orchestration/lib/report/README.md", "docs/internals.md", "docs/deploy.md"]
# What the code reads that is not a user's setting: dbt's view of the warehouse, derived by the
# bridge itself (BRIDGE_WORK_DB, BRIDGE_PG_*), and a marker between its own processes.
INTERNAL = re.compile(r"^BRIDGE_(WORK_DB|PG_\w*|DBT_PREWARMED|DBT_MEMORY_LIMIT)$")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):  # an export without .git: what is on disk
        skip = {".git", ".venv", "warehouse", ".sim", "target", "logs", ".dagster_home", "__pycache__"}
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]
    return [ROOT / n for n in names if (ROOT / n).is_file()]


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(md: Path) -> set[str]:
    found: set[str] = set()
    for line in md.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            base, n = slug(m.group(1)), 0
            while (candidate := base if n == 0 else f"{base}-{n}") in found:
                n += 1
            found.add(candidate)
    return found


def test_no_tracked_file_refers_to_a_file_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if any(p.search(line) for p in OUTSIDE):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, "refers outside the repository (use docs/contract.md):\n" + "\n".join(offenders)


def markdown_files() -> list[Path]:
    return [p for p in tracked_files() if p.suffix == ".md"]


def test_every_relative_link_of_the_markdown_docs_resolves() -> None:
    assert CONTRACT in markdown_files()
    broken = []
    for md in markdown_files():
        for m in LINK.finditer(md.read_text(encoding="utf-8")):
            target = m.group(1) or m.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):      # http:, https:, mailto:
                continue
            path_part, _, anchor = target.partition("#")
            dest = (md.parent / path_part).resolve() if path_part else md
            where = f"{md.relative_to(ROOT)}: ({target})"
            if not dest.exists():
                broken.append(f"{where}: no such file")
            elif not dest.is_relative_to(ROOT):
                broken.append(f"{where}: outside the repository")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{where}: no heading with that anchor")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("readme", READMES)
def test_every_readme_links_the_contract(readme: str) -> None:
    md = ROOT / readme
    targets = {(md.parent / (m.group(1) or m.group(2)).partition("#")[0]).resolve()
               for m in LINK.finditer(md.read_text(encoding="utf-8"))}
    assert CONTRACT.resolve() in targets, f"{readme} does not link docs/contract.md"


def test_the_contract_names_every_setting_the_code_reads() -> None:
    read = set()
    for folder in ("orchestration", "connectors"):
        for py in (ROOT / folder).rglob("*.py"):
            read |= set(re.findall(r"[\"']((?:BRIDGE|LRS|LMS|HRIS|CHECKINS|PAYROLL)_[A-Z0-9_]*[A-Z0-9])[\"']",
                                   py.read_text(encoding="utf-8")))
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", CONTRACT.read_text(encoding="utf-8")))
    missing = sorted(v for v in read - documented if not INTERNAL.match(v))
    assert {"BRIDGE_WAREHOUSE", "HRIS_SCIM_URL", "PAYROLL_INBOX"} <= read
    assert not missing, f"read by the code, missing from docs/contract.md section 1: {missing}"


def test_the_contract_lists_the_published_tables_the_tests_check() -> None:
    from tests.dbt.make_contract_tables import parse

    parsed = parse(CONTRACT.read_text(encoding="utf-8"))
    fixture = json.loads((ROOT / "tests" / "fixtures" / "contract_tables.json").read_text())
    assert {k: v for k, v in parsed.items() if k in fixture} == fixture
    assert set(parsed["audit"]) >= {"pipeline_run", "source_extract", "dq_result", "publication", "quarantine",
                                    "provisioning_change", "provisioning_result"}
