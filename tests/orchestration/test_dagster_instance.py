"""The instance of `bridge sync` (orchestration/lib/dagster_instance.py): DAGSTER_HOME's when
set, so the run shows in the UI; else Dagster's ephemeral one."""

import dagster as dg

from orchestration.lib import dagster_instance


@dg.asset
def headcount() -> int:
    return 3


@dg.asset_check(asset=headcount)
def headcount_small() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)


JOB = dg.Definitions(
    assets=[headcount], asset_checks=[headcount_small], jobs=[dg.define_asset_job("night", selection=[headcount])],
).resolve_job_def("night")


def test_without_dagster_home_a_run_lives_in_an_ephemeral_instance(monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    instance = dagster_instance.for_sync()
    assert instance.is_ephemeral
    result = JOB.execute_in_process(instance=instance)
    assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
    latest = instance.get_latest_materialization_event(dg.AssetKey("headcount"))
    assert latest is not None and latest.run_id == result.run_id


def test_with_dagster_home_the_run_is_kept_there(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dagster_instance.for_sync() as instance:
        assert not instance.is_ephemeral
        run_id = JOB.execute_in_process(instance=instance).run_id
    with dg.DagsterInstance.from_config(str(tmp_path)) as later:  # another process's view
        assert later.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
        check = dg.AssetCheckKey(dg.AssetKey("headcount"), "headcount_small")
        assert later.event_log_storage.get_asset_check_execution_history(check, limit=1)[0].status.value == "FAILED"
