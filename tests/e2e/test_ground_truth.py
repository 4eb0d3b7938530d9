"""Differential tests: the published warehouse against the ground truth the simulator wrote,
on the `standard` profile (2,500 people, a year of history). The assertions live in `truth.py`;
tests/postgres/test_pg_pipeline.py runs the same ones on what Postgres published."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import truth

pytestmark = [pytest.mark.slow, pytest.mark.simulator]


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


def _work(warehouse: Path) -> Path:
    return warehouse.with_name("bridge.work.duckdb")


def test_the_standard_sync_is_published(standard) -> None:
    sim, warehouse, _, decision = standard
    assert decision.status == "published", decision.blocked_by
    people = truth.employees_published(sim.truth_dir, truth.duckdb_query(warehouse))
    assert len(people) > 2400  # the standard profile, less people purged before the first pull


def test_identity_links_match_the_truth(standard) -> None:
    sim, warehouse, _, _ = standard
    truth.identity_links_match(sim.truth_dir, truth.duckdb_query(_work(warehouse)))


def test_every_alias_resolves_to_its_true_canonical_title(standard) -> None:
    sim, warehouse, _, _ = standard
    truth.aliases_resolve(sim.truth_dir, truth.duckdb_query(warehouse))


def test_voided_statements_never_appear(standard) -> None:
    sim, warehouse, _, _ = standard
    truth.voided_statements_absent(sim.truth_dir, truth.duckdb_query(warehouse), truth.duckdb_query(_work(warehouse)))


def test_terminated_but_paid_people_are_an_audit_finding(standard) -> None:
    sim, warehouse, run_id, _ = standard
    truth.terminated_but_paid_is_a_finding(sim.truth_dir, truth.duckdb_query(warehouse), run_id)


def test_orphan_objectives_are_listed_not_dropped(standard) -> None:
    sim, warehouse, _, _ = standard
    truth.orphan_objectives_listed(sim.truth_dir, truth.duckdb_query(warehouse))
