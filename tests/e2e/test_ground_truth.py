"""Differential tests: the published warehouse against the ground truth the simulator wrote,
on each dialect: the reference dialect on the `standard` profile (2,500 people, a year of
history), the foreign one on `pilot` (200 people: every kind of dirt the checks below look
for, at a fraction of the cost). The assertions live in `truth.py`;
tests/postgres/test_pg_pipeline.py runs the same ones on what Postgres published."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import truth

pytestmark = [pytest.mark.slow, pytest.mark.simulator]

# dialect -> (profile, fewest people it publishes: the profile less those purged before the first pull)
PROFILE = {"reference": ("standard", 2400), "foreign": ("pilot", 180)}


@pytest.fixture(scope="module")
def standard(dialect: str, tmp_path_factory: pytest.TempPathFactory):
    """One sync shared by every test of this module (per dialect)."""
    from orchestration.cli import run_sync
    from simulator import Simulator

    profile, _ = PROFILE[dialect]
    sim = Simulator(profile, seed=5, workdir=tmp_path_factory.mktemp(f"sim-{dialect}"), dialect=dialect)
    sim.start()
    warehouse = tmp_path_factory.mktemp(f"wh-{dialect}") / "bridge.duckdb"
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


def test_the_sync_is_published(standard, dialect: str) -> None:
    sim, warehouse, _, decision = standard
    assert decision.status == "published", decision.blocked_by
    people = truth.employees_published(sim.truth_dir, truth.duckdb_query(warehouse))
    assert len(people) > PROFILE[dialect][1]


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


# What a dialect may write differently: ids, names (an objective's title holds its owner's first
# name), e-mails (the truth checks those above), and when rows were first and last seen (the
# landing time of each run).
NOT_FACTS = ("scim_id", "full_name", "email", "title", "first_seen", "last_seen", "source_key")


def _facts(q: truth.Query, table: str) -> list[str]:
    """A published table's rows without the columns a dialect writes its own way, timestamps to the
    second (a stamp with fewer than three fractional digits is truncated), sorted."""
    if table == "job_title_alias":      # other spellings of a title: the same canonical titles, as often
        sql = ("select source_system, canonical_job_title, match_method = 'unmapped', sum(occurrences) "
               "from reporting.job_title_alias group by all")
    else:
        columns = q("select column_name, data_type from information_schema.columns where table_schema = 'reporting' "
                    "and table_name = ? order by ordinal_position", [table])
        kept = [f"date_trunc('second', {c})" if "TIMESTAMP" in t.upper() else c
                for c, t in columns if not c.endswith("_id") and c not in NOT_FACTS]
        sql = f"select {', '.join(kept)} from reporting.{table}"
    return sorted(repr(r) for r in q(sql))


@pytest.mark.parametrize("dialect", ["foreign"], indirect=True)
def test_both_dialects_publish_the_same_facts(standard, tmp_path: Path) -> None:
    """The same organisation (pilot, seed 5) served in the reference dialect publishes, table by
    table, the same facts as in the foreign one: a dialect changes how a source writes, never
    what the bridge concludes."""
    from orchestration.cli import run_sync
    from simulator import Simulator

    _, foreign_warehouse, _, _ = standard
    warehouse = tmp_path / "wh" / "bridge.duckdb"
    with Simulator("pilot", seed=5, workdir=tmp_path / "sim") as sim, pytest.MonkeyPatch.context() as mp:
        for key, value in sim.env.items():
            mp.setenv(key, value)
        mp.setenv("BRIDGE_WAREHOUSE", str(warehouse))
        mp.delenv("BRIDGE_ALERT_WEBHOOK_URL", raising=False)
        _, decision, _ = run_sync(trigger="test", quiet=True)
    assert decision.status == "published", decision.blocked_by
    reference, foreign = truth.duckdb_query(warehouse), truth.duckdb_query(foreign_warehouse)
    tables = [r[0] for r in reference("select table_name from information_schema.tables "
                                      "where table_schema = 'reporting' order by 1")]
    assert len(tables) > 15
    differing = {t for t in tables if _facts(reference, t) != _facts(foreign, t)}
    assert not differing, differing
