"""Two overlapping triggers of `nightly_sync` run one after the other through Dagster's run
queue (issue #6: "two overlapping sync triggers result in one run writing at a time").

`bridge sync` refuses a second sync with its file lock (test_blocking_checks proves that);
in production the schedule and the payroll sensor submit runs to Dagster instead, and what
keeps them apart there is dagster.yaml's `bridge/writer` tag limit of 1, applied by the
QueuedRunCoordinator in `dagster-daemon`. This test runs those real parts: the repository's
dagster.yaml in a temporary DAGSTER_HOME (SQLite storage there), the real `dagster-daemon run`
against workspace.yaml, the pilot simulator on loopback and a fresh DuckDB warehouse. Two runs
are submitted at the same moment, the way a schedule tick and a sensor would submit them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import published_value

pytestmark = [pytest.mark.slow, pytest.mark.simulator]

REPO = Path(__file__).resolve().parents[2]
LOCATION = "hris_lms_bridge"
WRITER_TAG = "bridge/writer"
TIMEOUT = 600  # two pilot syncs take a few minutes on a busy 2-core machine; this is the ceiling
POLL = 0.5


def _dagster_home(home: Path) -> Path:
    """The repository's dagster.yaml, with one setting added: the daemon looks at the queue
    every second instead of every five. Nothing of the original is dropped or changed."""
    original = (REPO / "dagster.yaml").read_text()
    fast = "  dequeue_interval_seconds: 1\n"
    if re.search(r"^run_queue:[ \t]*$", original, flags=re.MULTILINE):
        text = re.sub(r"^run_queue:[ \t]*\n", lambda m: m.group(0) + fast, original, count=1, flags=re.MULTILINE)
    else:
        text = original.rstrip("\n") + "\n\nrun_queue:\n" + fast
    assert _contains(yaml.safe_load(text), yaml.safe_load(original)), "the test dropped a setting of dagster.yaml"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(text)
    return home


def _contains(bigger: object, smaller: object) -> bool:
    if isinstance(smaller, dict):
        return isinstance(bigger, dict) and all(k in bigger and _contains(bigger[k], v) for k, v in smaller.items())
    return bigger == smaller


def _tail(path: Path, chars: int = 4000) -> str:
    text = path.read_text(errors="replace") if path.exists() else "(no output)"
    return text[-chars:]


def _stop(proc: subprocess.Popen) -> None:
    """Stop the daemon and everything it started (its code server, run workers): they share
    the process group the daemon leads."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


# The run statuses in which a run holds a place in the run queue's max_concurrent_runs.
IN_PROGRESS = ("STARTING", "STARTED", "CANCELING")


def _status_changes(instance, event_type, run_id: str) -> list:
    """The run's status-change events of one type (RUN_STARTING, RUN_FAILURE, ...)."""
    import dagster as dg

    changes = instance.fetch_run_status_changes(
        dg.RunStatusChangeRecordsFilter(event_type=event_type, job_names=["nightly_sync"]), limit=100
    )
    return [r for r in changes.records if r.event_log_entry.run_id == run_id]


def _failure_messages(instance, run_id: str) -> list[str]:
    import dagster as dg

    failures = _status_changes(instance, dg.DagsterEventType.RUN_FAILURE, run_id)
    return [(r.event_log_entry.dagster_event.message or "")[:600] for r in failures if r.event_log_entry.dagster_event]


def _dagster(*args: str) -> list[str]:
    """A `dagster` command against the repository's workspace, as an operator would type it."""
    return [str(Path(sys.executable).parent / "dagster"), *args, "-w", str(REPO / "workspace.yaml")]


def _run_cli(args: list[str], log: Path) -> None:
    with open(log, "a") as out:
        out.write(f"$ {' '.join(args[1:])}\n")
        out.flush()
        done = subprocess.run(args, cwd=REPO, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT,
                              timeout=TIMEOUT, check=False)
    assert done.returncode == 0, f"{' '.join(args[1:3])} exited {done.returncode}:\n{_tail(log)}"


def test_two_overlapping_triggers_are_serialised_by_the_run_queue(
    bridge_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    home = _dagster_home(tmp_path / "dagster_home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = dg.DagsterInstance.get()

    # The instance the daemon will load holds the limit under test. The total cap is above 1,
    # so when the second run waits with one run in progress, the tag limit is the only rule that
    # can be holding it (Dagster records no reason for a tag-held run).
    queue = yaml.safe_load((home / "dagster.yaml").read_text())["run_queue"]
    writer_limits = [lim for lim in queue["tag_concurrency_limits"] if lim["key"] == WRITER_TAG]
    assert [lim["limit"] for lim in writer_limits] == [1], queue
    max_runs = queue.get("max_concurrent_runs", -1)
    assert max_runs == -1 or max_runs > 1

    cli_log = tmp_path / "dagster-cli.log"
    # Only the two triggers under test may start runs: the payroll sensor would see the
    # simulator's inbox and the schedule could tick, so both are switched off in this instance.
    _run_cli(_dagster("sensor", "stop", "payroll_inbox_sensor"), cli_log)
    _run_cli(_dagster("schedule", "stop", "nightly_sync_schedule"), cli_log)

    daemon_log = tmp_path / "daemon.log"
    daemon: subprocess.Popen | None = None
    run_ids = [str(uuid.uuid4()) for _ in ("schedule", "sensor")]
    try:
        with open(daemon_log, "w") as log:
            daemon = subprocess.Popen(
                [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")],
                cwd=REPO, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        # Two runs submitted at the same moment through the run coordinator, the way a schedule
        # tick and a sensor would submit them (`dagster job launch` is what an operator runs).
        with ThreadPoolExecutor(max_workers=2) as pool:
            launches = [
                pool.submit(_run_cli, [*_dagster("job", "launch", "-j", "nightly_sync"), "--run-id", run_id,
                                       "--tags", json.dumps({"bridge/trigger": trigger})],
                            tmp_path / f"launch-{trigger}.log")
                for run_id, trigger in zip(run_ids, ("schedule", "sensor"), strict=True)
            ]
            for launch in launches:
                launch.result()  # re-raises a launch that failed, with its output
        runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
        assert all(run.tags.get(WRITER_TAG) == "warehouse" for run in runs), [run.tags for run in runs]

        held = None    # (running, queued, runs in progress) when one ran while the other waited
        deadline = time.monotonic() + TIMEOUT  # a timeout for a hung daemon, not a measurement
        while True:
            records = {r.dagster_run.run_id: r for r in instance.get_run_records(dg.RunsFilter(run_ids=run_ids))}
            status = {rid: records[rid].dagster_run.status for rid in run_ids}
            started = [rid for rid in run_ids if status[rid] == dg.DagsterRunStatus.STARTED]
            queued = [rid for rid in run_ids if status[rid] == dg.DagsterRunStatus.QUEUED]
            if held is None and len(started) == 1 and len(queued) == 1:
                in_progress = instance.get_run_records(
                    dg.RunsFilter(statuses=[dg.DagsterRunStatus(s) for s in IN_PROGRESS])
                )
                held = (started[0], queued[0], len(in_progress))
            if all(records[rid].dagster_run.is_finished for rid in run_ids):
                break
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"runs not finished within {TIMEOUT} s (daemon "
                    f"{'exited ' + str(daemon.returncode) if daemon.poll() is not None else 'still running'}): "
                    f"{ {rid: s.value for rid, s in status.items()} }\ndagster-daemon output:\n{_tail(daemon_log)}"
                )
            time.sleep(POLL)
    finally:
        if daemon is not None:
            _stop(daemon)

    # Both triggers ran to the end.
    final = {rid: records[rid] for rid in run_ids}
    assert all(final[rid].dagster_run.status == dg.DagsterRunStatus.SUCCESS for rid in run_ids), (
        {rid: final[rid].dagster_run.status.value for rid in run_ids},
        {rid: _failure_messages(instance, rid) for rid in run_ids},
        _tail(daemon_log),
    )
    # Nothing else started a run in this instance (a sensor or schedule would have).
    assert sorted(r.dagster_run.run_id for r in instance.get_run_records()) == sorted(run_ids)

    # While one ran, the other waited in the queue, with fewer runs in progress than
    # max_concurrent_runs allows: the bridge/writer limit held it.
    assert held is not None, "never saw one run STARTED while the other was QUEUED"
    _, _, in_progress = held
    assert max_runs == -1 or in_progress < max_runs

    # Their executions do not overlap, and the queue released the second only after the first ended.
    first, second = sorted(final.values(), key=lambda r: r.start_time)
    assert first.end_time is not None and second.start_time is not None
    assert first.end_time <= second.start_time, (first.start_time, first.end_time, second.start_time)
    # (the daemon marks a dequeued run with RUN_STARTING just before it launches it)
    (launched,) = _status_changes(instance, dg.DagsterEventType.RUN_STARTING, second.dagster_run.run_id)
    assert launched.timestamp >= first.end_time, (launched.timestamp, first.end_time)
    assert held[0] == first.dagster_run.run_id and held[1] == second.dagster_run.run_id

    # The warehouse's own audit trail agrees: two runs, both completed and published, one
    # after the other, and neither found the other still running (it would be `abandoned`).
    work = bridge_env.parent / "bridge.work.duckdb"
    audit = published_value(work, "select run_id, started_at, finished_at, status, trigger from audit.pipeline_run "
                                  "order by started_at")
    assert [(r[0], r[3]) for r in audit] == [(first.dagster_run.run_id, "succeeded"),
                                             (second.dagster_run.run_id, "succeeded")], audit
    assert {r[4] for r in audit} == {"schedule", "sensor"}
    assert audit[0][2] <= audit[1][1], audit
    decisions = published_value(work, "select run_id, status from audit.publication order by decided_at")
    assert decisions == [(first.dagster_run.run_id, "published"), (second.dagster_run.run_id, "published")]
