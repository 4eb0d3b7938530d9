"""The instance of `bridge sync` without DAGSTER_HOME: Dagster's ephemeral instance whose event
log stores through its one held connection (orchestration/lib/dagster_instance.py)."""

import dagster as dg
import pytest
import sqlalchemy as db

from orchestration.lib import dagster_instance


@dg.asset
def headcount() -> int:
    return 3


@dg.asset_check(asset=headcount)
def headcount_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, metadata={"rows": 3})


@dg.asset_check(asset=headcount)
def headcount_small() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)


JOB = dg.Definitions(
    assets=[headcount], asset_checks=[headcount_positive, headcount_small],
    jobs=[dg.define_asset_job("night", selection=[headcount])],
).resolve_job_def("night")


def test_a_run_is_stored_and_read_back_without_opening_a_connection_per_statement():
    instance = dagster_instance.ephemeral()
    storage = instance.event_log_storage
    JOB.execute_in_process(instance=instance)  # a first run: which tables exist is cached
    connects, pragmas = [], []
    db.event.listen(storage._engine, "connect", lambda *args: connects.append(args))
    db.event.listen(storage._held_conn, "before_cursor_execute",
                    lambda conn, cursor, sql, *rest: pragmas.append(sql) if sql.startswith("PRAGMA") else None)
    result = JOB.execute_in_process(instance=instance)

    assert result.success
    assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
    latest = instance.get_latest_materialization_event(dg.AssetKey("headcount"))
    assert latest is not None and latest.run_id == result.run_id
    outcomes = {
        key.name: storage.get_asset_check_execution_history(key, limit=1)[0].status.value
        for key in (dg.AssetCheckKey(dg.AssetKey("headcount"), "headcount_positive"),
                    dg.AssetCheckKey(dg.AssetKey("headcount"), "headcount_small"))
    }
    assert outcomes == {"headcount_positive": "SUCCEEDED", "headcount_small": "FAILED"}
    types = [e.dagster_event.event_type_value for e in instance.all_logs(result.run_id) if e.dagster_event]
    assert {"ASSET_CHECK_EVALUATION_PLANNED", "ASSET_MATERIALIZATION", "STEP_SUCCESS"} <= set(types)
    assert connects == []  # the stock in-memory log opens one per statement
    assert pragmas == []  # nor asks for the schema it made, once per asset event


def test_statements_run_with_foreign_keys_and_roll_back_on_error():
    storage = dagster_instance.ephemeral().event_log_storage
    with storage._connect() as conn:
        assert conn.execute(db.text("PRAGMA foreign_keys")).scalar() == 1
        conn.execute(db.text("create table scratch (n integer)"))
    with pytest.raises(RuntimeError), storage._connect() as conn:
        conn.execute(db.text("insert into scratch values (1)"))
        raise RuntimeError("a statement failed half-way")
    with storage._connect() as conn:
        conn.execute(db.text("insert into scratch values (2)"))
    with storage._connect() as conn:
        assert conn.execute(db.text("select n from scratch")).scalars().all() == [2]
    assert storage.has_table("event_logs") and not storage.has_table("no_such_table")
