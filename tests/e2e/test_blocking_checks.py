"""Every kind of bad data a blocking check exists for, injected into the simulator one at a
time: the run is blocked, the published tables do not change, and the audit trail,
`bridge audit` and the alert webhook all name the check (issue: the quality gate).

Each case starts from the same published warehouse (a copy of one baseline sync) and a
fresh simulator with the baseline's seed, so the sync under test sees only the injected
change and fails for that reason alone.

Every case runs on the reference dialect; on the foreign one (simulator/dialect.py) a
representative few whose keys or layout that dialect changes: objective ids in a cascade,
LMS user ids, a payroll export with its columns reordered. (Its duplicate employee number
is blocked in tests/postgres/test_pg_pipeline.py.)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import published_value, table_fingerprints

pytestmark = [pytest.mark.slow, pytest.mark.simulator]

SEED = 17

# kind, injection parameters, the blocking check that must name it
CASES = [
    ("unknown_lms_users", {"count": 12}, "lms_users_not_in_hris"),
    ("unresolved_xapi_actors", {"count": 12}, "xapi_actors_unresolved"),
    ("unmapped_titles", {"share": 1.0}, "unmapped_job_titles"),  # every title of the latest export
    ("headcount_gap", {}, "headcount_by_cost_center_within_tolerance"),
    ("objective_cycle", {}, "objective_cascade_has_no_cycles"),
    ("progress_out_of_range", {}, "expression_is_true_fct_checkin_progress_pct_is_null_or_progress_pct_between_0_and_100"),
    # a raw-feed check: it runs after dbt has built on the feed, and still holds publish
    ("new_unknown_field", {"feed": "xapi", "field": "verb", "count": 3,
                           "value": {"id": "completed", "display": {"en-US": "completed"}}},
     "xapi__statements__verb_id_is_iri"),
]


FOREIGN_CASES = ("objective_cycle", "unknown_lms_users", "headcount_gap")
DIALECT_CASES = [pytest.param("reference", *case, id=f"reference-{case[0]}") for case in CASES] + [
    pytest.param("foreign", *case, id=f"foreign-{case[0]}") for case in CASES if case[0] in FOREIGN_CASES]


def test_every_case_names_a_declared_blocking_check() -> None:
    from orchestration.lib.quality import reconciliation, suites

    declared = {s.check_name: s.severity for n in suites.SUITES for s in suites.check_specs(n)}
    declared |= {s.check_name: s.severity for s in reconciliation.reconciliation_specs()}
    manifest = json.loads((Path(__file__).resolve().parents[2] / "dbt_project/target/manifest.json").read_text())
    declared |= {n["name"]: "blocking" if n["config"]["severity"].lower() == "error" else "warn"
                 for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    assert {check: declared.get(check) for _, _, check in CASES} == {check: "blocking" for _, _, check in CASES}


def _env_for(sim, warehouse: Path, mp: pytest.MonkeyPatch) -> None:
    for key, value in sim.env.items():
        mp.setenv(key, value)
    mp.setenv("BRIDGE_WAREHOUSE", str(warehouse))
    mp.setenv("BRIDGE_HTTP_READ_TIMEOUT", "10")
    mp.delenv("BRIDGE_ALERT_WEBHOOK_URL", raising=False)


@pytest.fixture(scope="module")
def baselines(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """One published sync of the pilot organisation per dialect, made when a case first needs
    it; each case copies its folder."""
    from orchestration.cli import run_sync
    from simulator import Simulator

    made: dict[str, Path] = {}

    def baseline_for(dialect: str) -> Path:
        if dialect not in made:
            folder = tmp_path_factory.mktemp(f"baseline-{dialect}")
            with Simulator("pilot", seed=SEED, workdir=tmp_path_factory.mktemp("sim"), dialect=dialect) as sim, \
                    pytest.MonkeyPatch.context() as mp:
                _env_for(sim, folder / "bridge.duckdb", mp)
                _, decision, _ = run_sync(trigger="test", quiet=True)
            assert decision.status == "published", decision.blocked_by
            made[dialect] = folder
        return made[dialect]

    return baseline_for


@pytest.fixture(scope="module")
def baseline(baselines: Callable[[str], Path]) -> Path:
    return baselines("reference")


def _failed_blocking(warehouse: Path, run_id: str) -> dict[str, int]:
    rows = published_value(
        warehouse,
        "select check_name, unexpected_count from audit.dq_result "
        "where run_id = ? and severity = 'blocking' and success = false",
        [run_id],
    )
    return dict(rows)


@pytest.mark.parametrize(("dialect", "kind", "params", "check"), DIALECT_CASES)
def test_injected_bad_data_is_blocked_by_its_check(
    dialect: str, kind: str, params: dict, check: str, baselines, webhook, tmp_path: Path, capsys
) -> None:
    from orchestration.cli import main, run_sync
    from simulator import Simulator

    baseline = baselines(dialect)
    folder = tmp_path / "warehouse"
    shutil.copytree(baseline, folder, symlinks=True)
    warehouse = folder / "bridge.duckdb"
    url, received = webhook
    before = table_fingerprints(warehouse)
    restricted_before = table_fingerprints(folder / "bridge.restricted.duckdb", "restricted")
    with Simulator("pilot", seed=SEED, workdir=tmp_path / "sim", dialect=dialect) as sim, \
            pytest.MonkeyPatch.context() as mp:
        _env_for(sim, warehouse, mp)
        mp.setenv("BRIDGE_ALERT_WEBHOOK_URL", url)
        sim.inject(kind, **params)
        run_id, decision, _ = run_sync(trigger="test", quiet=True)

        assert decision.status == "blocked"
        assert check in decision.blocked_by, decision.blocked_by
        # nothing a reader sees has changed
        assert table_fingerprints(warehouse) == before
        assert table_fingerprints(folder / "bridge.restricted.duckdb", "restricted") == restricted_before
        # the audit trail says which check failed, on how many rows, and that it blocked
        failed = _failed_blocking(warehouse, run_id)
        assert check in failed and set(failed) == set(decision.blocked_by)
        assert published_value(
            warehouse, "select status, blocked_by from audit.publication where run_id = ?", [run_id]
        )[0][0] == "blocked"
        assert check in published_value(
            warehouse, "select blocked_by from audit.publication where run_id = ?", [run_id])[0][0]
        capsys.readouterr()
        assert main(["audit", "--run-id", run_id]) == 0
        printed = capsys.readouterr().out
        assert "BLOCKED" in printed and check in printed
    # the team was told, naming the check
    alert = next(m for m in reversed(received) if m["run_id"] == run_id)
    assert check in alert["blocking_checks"]


AUDIT_TABLES = ("pipeline_run", "source_extract", "dq_result", "publication", "quarantine")


def _audit_rows(path: Path) -> dict[str, list[str]]:
    return {
        t: sorted(str(r) for r in published_value(path, f"select * from audit.{t}"))
        for t in AUDIT_TABLES
    }


def test_audit_history_survives_a_full_rebuild_and_another_demo(baseline: Path, tmp_path: Path, capsys) -> None:
    import duckdb

    from orchestration.cli import main

    folder = tmp_path / "warehouse"
    shutil.copytree(baseline, folder, symlinks=True)
    warehouse = folder / "bridge.duckdb"
    before = _audit_rows(folder / "bridge.work.duckdb")
    assert before["pipeline_run"] and before["dq_result"] and before["publication"]
    # a full rebuild: every schema dbt builds is dropped, not just refreshed
    work = duckdb.connect(str(folder / "bridge.work.duckdb"))
    try:
        built = [r[0] for r in work.execute(
            "select schema_name from information_schema.schemata where catalog_name = current_database() "
            "and schema_name not in ('raw', 'bridge_state', 'audit', 'main', 'information_schema', 'pg_catalog')"
        ).fetchall()]
        assert {"staging", "intermediate", "reporting", "restricted"} <= set(built)
        for schema in built:
            work.execute(f"drop schema {schema} cascade")
    finally:
        work.close()

    saved = dict(os.environ)     # `bridge demo` exports the simulator's settings into its process
    try:
        os.environ.pop("BRIDGE_ALERT_WEBHOOK_URL", None)
        status = main(["demo", "--profile", "pilot", "--seed", str(SEED), "--workdir", str(tmp_path / "sim"),
                       "--warehouse", str(warehouse)])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert status == 0, capsys.readouterr().out[-2000:]

    for path in (folder / "bridge.work.duckdb", warehouse):     # the authoritative log and its published copy
        after = _audit_rows(path)
        for table in AUDIT_TABLES:
            missing = [row for row in before[table] if row not in set(after[table])]
            assert not missing, f"audit.{table} lost {len(missing)} row(s) in {path.name}"
        assert len(after["pipeline_run"]) == len(before["pipeline_run"]) + 1
        assert len(after["publication"]) == len(before["publication"]) + 1


def test_two_overlapping_sync_triggers_result_in_one_run_writing(baseline: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from simulator import Simulator

    folder = tmp_path / "warehouse"
    shutil.copytree(baseline, folder, symlinks=True)
    runs_before = len(published_value(folder / "bridge.work.duckdb", "select * from audit.pipeline_run"))
    with Simulator("pilot", seed=SEED, workdir=tmp_path / "sim") as sim:
        env = {**os.environ, **sim.env, "BRIDGE_WAREHOUSE": str(folder / "bridge.duckdb")}
        env.pop("BRIDGE_ALERT_WEBHOOK_URL", None)
        # say, the nightly schedule and a payroll file arriving at the same moment
        procs = [subprocess.Popen([sys.executable, "-m", "orchestration.cli", "sync"], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        outputs = [p.communicate(timeout=900) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], outputs
    refused = next(err for p, (_, err) in zip(procs, outputs) if p.returncode == 3)
    assert "another sync holds" in refused and "nothing was changed" in refused
    runs = published_value(folder / "bridge.work.duckdb", "select status from audit.pipeline_run")
    assert len(runs) == runs_before + 1      # the refused trigger left no trace but its message
