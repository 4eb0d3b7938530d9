"""Writing the site: swapped into place whole, slips against the previous publication,
and a warehouse that has published nothing yet."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from report_fixture_db import SLIPS, build_published_db, republish
from report_html import elements, one

from orchestration.lib.report import generate_report
from orchestration.lib.report.db import PublishedDb
from orchestration.lib.warehouse import MemoryBudget


def test_report_is_swapped_into_place_and_old_versions_pruned(tmp_path: Path):
    db = build_published_db(tmp_path / "bridge.duckdb")
    out = tmp_path / "report"
    first = generate_report(db, out)
    assert out.is_symlink() and (out / "index.html").is_file()
    first_target = os.readlink(out)
    for _ in range(3):
        generate_report(db, out)
    assert os.readlink(out) != first_target
    versions = [p for p in tmp_path.iterdir() if p.name.startswith(".report.") and p.is_dir() and not p.is_symlink()]
    assert len(versions) == 2  # the current report and the one before, for readers still on it
    assert not [p for p in tmp_path.iterdir() if ".link." in p.name]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["_state", "audit.html", "capability.html", "index.html", "people.html", "strategy.html"])
    assert first.seconds > 0 and first.pages["index"] == out / "index.html"


def test_a_plain_report_folder_is_replaced(tmp_path: Path):
    db = build_published_db(tmp_path / "bridge.duckdb")
    out = tmp_path / "report"
    out.mkdir()
    (out / "stale.html").write_text("old")
    generate_report(db, out)
    assert out.is_symlink() and not (out / "stale.html").exists() and (out / "strategy.html").exists()


def test_slipped_objectives_called_out_against_previous_publication(tmp_path: Path):
    db = build_published_db(tmp_path / "bridge.duckdb")
    out = tmp_path / "report"
    generate_report(db, out)
    assert one(out / "strategy.html", "no-baseline")  # first report: nothing to compare with
    assert json.loads((out / "_state" / "objectives.json").read_text())["current"]["run_id"] == "r2"

    # next publication: O6 went on_track -> at_risk (so did its parent O5); O2's forecast moved 5 days later
    republish(db, "r4", SLIPS)
    result = generate_report(db, out)
    slipped = {r.attrs["data-objective-id"]: r for r in elements(out / "strategy.html", "slipped-row")}
    assert set(slipped) == {"O2", "O5", "O6"}
    assert one(out / "strategy.html", "days-later", objective_id="O2").value == "5"
    assert result.figures["strategy"]["slipped"] == 3
    assert one(out / "strategy.html", "baseline-run-id").text == "r2"

    # the same publication reported again (e.g. after a blocked run) still compares with r2
    generate_report(db, out)
    assert {r.attrs["data-objective-id"] for r in elements(out / "strategy.html", "slipped-row")} == {"O2", "O5", "O6"}
    state = json.loads((out / "_state" / "objectives.json").read_text())
    assert (state["current"]["run_id"], state["previous"]["run_id"]) == ("r4", "r2")


def test_nothing_published_yet_gives_an_audit_only_report(tmp_path: Path):
    db = build_published_db(tmp_path / "bridge.duckdb", with_reporting=False)
    result = generate_report(db, tmp_path / "report")
    assert result.publication_run_id is None
    assert result.figures["strategy"]["objectives"] == 0
    assert result.figures["people"]["active_headcount"] == 0
    audit = tmp_path / "report" / "audit.html"
    assert one(audit, "decision").value == "blocked"
    assert one(tmp_path / "report" / "index.html", "publication-run-id").text == "none"


def test_published_file_is_opened_read_only_and_restricted_is_refused(tmp_path: Path):
    db = build_published_db(tmp_path / "bridge.duckdb")
    with PublishedDb(db, MemoryBudget().scratch) as pdb:
        with pytest.raises(duckdb.Error):
            pdb.con.execute("create table reporting.x (a int)")
        with pytest.raises(ValueError, match="reads only"):
            pdb.rows("select * from restricted.fct_compensation", needs=["restricted.fct_compensation"])
        assert "restricted.fct_compensation" not in pdb.tables


def test_missing_warehouse_is_an_error_naming_it(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"nope\.duckdb"):
        generate_report(tmp_path / "nope.duckdb", tmp_path / "report")
    assert not (tmp_path / "report").exists()
