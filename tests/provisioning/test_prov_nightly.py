"""Provisioning in the nightly job and from the CLI: after a publication only, recorded in the
published audit trail, shown by `bridge audit` and the Audit page; held plans applied after review."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import requests

from tests.provisioning.test_prov_simulator import writes


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from simulator import Simulator

    with Simulator("pilot", seed=11, workdir=tmp_path_factory.mktemp("sim")) as s:
        yield s


@pytest.fixture(scope="module")
def warehouse(sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("warehouse") / "bridge.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in sim.env.items():
            mp.setenv(key, value)
        mp.setenv("BRIDGE_WAREHOUSE", str(path))
        mp.setenv("BRIDGE_LMS_PROVISIONING", "apply")
        mp.setenv("BRIDGE_PROVISIONING_MAX_CHANGE_RATE", "1.0")   # a first provisioning changes everyone
        mp.delenv("BRIDGE_ALERT_WEBHOOK_URL", raising=False)
        mp.delenv("BRIDGE_PROVISIONING_SCOPE", raising=False)
        yield path


def published(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_the_nightly_job_provisions_after_publishing(warehouse: Path, sim, capsys) -> None:
    from orchestration.cli import main, run_sync

    run_id, decision, _ = run_sync(trigger="test", quiet=True)
    assert decision.status == "published"
    results = dict(published(warehouse, "select status, count(*) from audit.provisioning_result "
                                        "where run_id = ? group by 1", [run_id]))
    planned = published(warehouse, "select count(distinct employee_number) from audit.provisioning_change "
                                   "where run_id = ? and action not in ('skip', 'conflict')", [run_id])[0][0]
    assert planned > 150 and results == {"applied": planned}
    assert published(warehouse, "select success from audit.dq_result where run_id = ? and check_name in "
                                "('provisioning_safeguards', 'provisioning_read_back') order by check_name",
                     [run_id]) == [(True,), (True,)]
    # `bridge audit` and the Audit page show the run's provisioning
    capsys.readouterr()
    assert main(["audit", "--run-id", run_id]) == 0
    printed = capsys.readouterr().out
    assert "provisioning the LMS: planned" in printed and f"update applied {results['applied']}" in printed
    page = (warehouse.parent / "report" / "audit.html").read_text()
    assert 'id="provisioning"' in page and 'data-status="applied"' in page
    # nothing is left to do, and a plan says so without writing
    before = writes(sim)
    assert main(["provision", "--plan"]) == 0
    out = capsys.readouterr().out
    assert "create 0, update 0, reactivate 0, deactivate 0" in out and sim.env["LMS_SCIM_TOKEN"] not in out
    assert writes(sim) == before


def test_a_held_apply_sends_nothing_until_it_is_allowed(warehouse: Path, sim, monkeypatch, capsys) -> None:
    from orchestration.cli import main

    base, token = sim.env["LMS_SCIM_URL"], sim.env["LMS_SCIM_TOKEN"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    users = requests.get(f"{base}/Users", params={"count": 1000}, headers=headers, timeout=10).json()["Resources"]
    drifted = next(u for u in users if u.get("externalId") and u["active"])
    # someone edits a title in the LMS by hand: the next plan puts it back
    resp = requests.patch(f"{base}/Users/{drifted['id']}", headers=headers, timeout=10, data=json.dumps(
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations": [{"op": "replace", "path": "title", "value": "Chief Vibes Officer"}]}))
    assert resp.status_code == 200
    monkeypatch.setenv("BRIDGE_PROVISIONING_MAX_CHANGE_RATE", "0")
    latest = published(warehouse, "select run_id from audit.publication where status = 'published' "
                                  "order by decided_at desc limit 1")[0][0]

    def results() -> dict[str, int]:   # the drifted user's results under the publication they came from
        return dict(published(warehouse, "select status, count(*) from audit.provisioning_result "
                                         "where run_id = ? and employee_number = ? group by 1",
                              [latest, drifted["externalId"]]))

    earlier = results()
    before = writes(sim)
    capsys.readouterr()
    assert main(["provision", "--apply"]) == 1
    captured = capsys.readouterr()
    assert "HELD" in captured.err and writes(sim) == before
    assert main(["provision", "--apply", "--allow-over-threshold"]) == 0
    out = capsys.readouterr().out
    assert "applied 1" in out and token not in out
    title = requests.get(f"{base}/Users/{drifted['id']}", headers=headers, timeout=10).json()["title"]
    assert title == drifted["title"]
    assert results() == {"held": earlier.get("held", 0) + 1, "applied": earlier.get("applied", 0) + 1}


def test_a_blocked_run_never_provisions(warehouse: Path, sim) -> None:
    from orchestration.cli import run_sync

    sim.inject("duplicate_employee_number")
    before = writes(sim)
    run_id, decision, _ = run_sync(trigger="test", quiet=True)
    assert decision.status == "blocked"
    assert published(warehouse, "select count(*) from audit.provisioning_change where run_id = ?",
                     [run_id]) == [(0,)]
    assert writes(sim) == before
