"""Differential tests: the published warehouse against the ground truth the simulator wrote,
on the `standard` profile (2,500 people, a year of history)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.simulator]


def _truth(sim, name: str) -> list[dict[str, str]]:
    with open(Path(sim.truth_dir) / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def standard(tmp_path_factory: pytest.TempPathFactory):
    """One standard-profile sync shared by every test of this module."""
    from orchestration.cli import run_sync
    from simulator import Simulator

    sim = Simulator("standard", seed=5, workdir=tmp_path_factory.mktemp("sim-standard"))
    sim.start()
    warehouse = tmp_path_factory.mktemp("wh-standard") / "bridge.duckdb"
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in sim.env.items():
                mp.setenv(key, value)
            mp.setenv("BRIDGE_WAREHOUSE", str(warehouse))
            mp.delenv("BRIDGE_ALERT_WEBHOOK_URL", raising=False)
            run_id, decision, _ = run_sync(trigger="test", quiet=True)
        yield sim, warehouse, run_id, decision
    finally:
        sim.stop()


def _q(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _work(warehouse: Path) -> Path:
    return warehouse.with_name("bridge.work.duckdb")


def test_the_standard_sync_is_published(standard) -> None:
    sim, warehouse, _, decision = standard
    assert decision.status == "published", decision.blocked_by
    truth = {row["employee_number"] for row in _truth(sim, "employees.csv")}
    assert len(truth) > 2400  # the standard profile, less people purged before the first pull
    assert {r[0] for r in _q(warehouse, "select employee_number from reporting.dim_employee")} == truth


def _normal_key(source: str, key: str) -> str:
    """The contract's comparison rules: numbers without leading zeros, emails trimmed and
    lower-cased (an xAPI mbox is an email too)."""
    key = key.strip()
    if source == "payroll":
        return key.lstrip("0")
    if source == "checkins":
        return key.lower()
    if source == "xapi" and key.lower().startswith("mbox:"):
        return key.lower()
    return key


def test_identity_links_match_the_truth(standard) -> None:
    sim, warehouse, _, _ = standard
    expected: dict[tuple[str, str], str] = {}
    for row in _truth(sim, "identity_links.csv"):
        expected[(row["source_system"], _normal_key(row["source_system"], row["source_key"]))] = row[
            "employee_number"
        ]
    actual = {
        (source, _normal_key(source, key)): employee or ""
        for source, key, employee in _q(
            _work(warehouse),
            "select source_system, source_key, employee_number from intermediate.int_identity__links",
        )
    }
    for source in ("hris", "payroll", "lms", "xapi", "checkins"):
        exp = {k: v for k, v in expected.items() if k[0] == source}
        act = {k: v for k, v in actual.items() if k[0] == source}
        assert exp, f"the truth has no {source} identities"
        assert act == exp, f"{source}: {len(set(exp.items()) ^ set(act.items()))} links differ"


def test_every_alias_resolves_to_its_true_canonical_title(standard) -> None:
    sim, warehouse, _, _ = standard
    published = {
        (system, title): (canonical, method)
        for system, title, canonical, method in _q(
            warehouse,
            "select source_system, source_title, canonical_job_title, match_method from reporting.job_title_alias",
        )
    }
    kinds = set()
    for row in _truth(sim, "title_aliases.csv"):
        key = (row["source_system"], row["source_title"])
        assert key in published, f"alias {key} is missing from job_title_alias"
        canonical, method = published[key]
        kinds.add(row["kind"])
        if row["kind"] == "unmapped":
            assert (canonical, method) == (None, "unmapped"), key
        else:
            assert canonical == row["canonical_job_title"], key
            assert method == row["kind"], key
    assert kinds == {"exact", "normalised", "crosswalk", "unmapped"}


def test_voided_statements_never_appear(standard) -> None:
    sim, warehouse, _, _ = standard
    rows = _truth(sim, "voided_statements.csv")
    voided = {row["statement_id"] for row in rows}
    assert voided
    published = {r[0] for r in _q(warehouse, "select statement_id from reporting.fct_learning_completion")}
    assert not (voided & published)
    # the voiding statements themselves were landed (voiding across runs: test_pipeline.py)
    voiding = {row["voiding_statement_id"] for row in rows}
    landed = {r[0] for r in _q(_work(warehouse), "select record_id from raw.xapi__statements")}
    assert voiding <= landed


def test_terminated_but_paid_people_are_an_audit_finding(standard) -> None:
    sim, warehouse, run_id, _ = standard
    truth = {row["employee_number"] for row in _truth(sim, "terminated_but_paid.csv")}
    assert truth
    rows = _q(
        warehouse,
        "select severity, success, sample_keys from audit.dq_result where run_id = ? and check_name = 'terminated_but_paid'",
        [run_id],
    )
    assert len(rows) == 1
    severity, success, sample_keys = rows[0]
    assert (severity, success) == ("warn", False)
    assert set(json.loads(sample_keys)) == truth


def test_orphan_objectives_are_listed_not_dropped(standard) -> None:
    sim, warehouse, _, _ = standard
    truth = {row["objective_id"] for row in _truth(sim, "orphan_objectives.csv")}
    assert truth
    published = {r[0] for r in _q(warehouse, "select objective_id from reporting.dim_objective")}
    assert truth <= published
    flagged = {r[0] for r in _q(warehouse, "select objective_id from reporting.dim_objective where is_orphan")}
    assert flagged == truth
