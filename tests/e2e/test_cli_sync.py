"""`bridge sync` as a program against the simulator: progress and summary, the commands for a
bad night (--dry-run, --only, --full-refresh), failures that name their cause, and one
decision per run whatever signal stops it, at each step."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.e2e.conftest import table_fingerprints

pytestmark = [pytest.mark.slow, pytest.mark.simulator]

BRIDGE = str(Path(sys.executable).parent / "bridge")


@pytest.fixture(scope="module")
def env(pilot_sim, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("cli")
    return {"PATH": os.environ["PATH"], "HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1",
            "BRIDGE_SIMULATOR_DIR": str(pilot_sim.workdir), "BRIDGE_HTTP_READ_TIMEOUT": "10",
            "BRIDGE_WAREHOUSE": str(home / "warehouse" / "bridge.duckdb")}


def warehouse(env: dict[str, str]) -> Path:
    return Path(env["BRIDGE_WAREHOUSE"])


def sync(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess, str]:
    done = subprocess.run([BRIDGE, "sync", *args], env=env, cwd=env["HOME"], capture_output=True, text=True,
                          timeout=900, check=False)
    m = re.search(r"^run (\S+): full log in", done.stdout, flags=re.MULTILINE)
    assert m, done.stdout + done.stderr
    return done, m.group(1)


def rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def first_sync(env) -> Iterator[subprocess.CompletedProcess]:
    done, _ = sync(env)
    assert done.returncode == 0, done.stdout + done.stderr
    yield done


def test_a_sync_shows_progress_and_says_where_it_published(env, first_sync):
    out, err = first_sync.stdout, first_sync.stderr
    for step in ("extract_feeds", "warehouse_models", "quality_checks",
                 "publication__published_warehouse"):
        assert re.search(rf"^step {step} done in \d+\.\d s$", err, flags=re.MULTILINE), step
    assert re.search(r"^  xapi/statements: [\d,]+ records, [\d,]+ pages", err, flags=re.MULTILINE)
    published = warehouse(env)
    assert f"to {published} (restricted: {published.with_name('bridge.restricted.duckdb')})" in out
    assert "DEBUG" not in out + err


def test_a_dry_run_checks_everything_and_publishes_nothing(env, first_sync, pilot_sim):
    before = table_fingerprints(warehouse(env))
    pilot_sim.advance_days(1)
    done, run_id = sync(env, "--dry-run", "--verbose")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "DRY RUN" in done.stdout
    # --verbose streams the run at info level, never its DEBUG events
    streamed = done.stdout + done.stderr
    assert " - dagster - INFO - " in streamed and " - DEBUG - " not in streamed
    assert table_fingerprints(warehouse(env)) == before
    assert rows(warehouse(env), "select status from audit.publication where run_id = ?", [run_id]) == [("dry_run",)]
    assert rows(warehouse(env), "select action, target from audit.operator_request where run_id = ?",
                [run_id]) == [("dry_run", "publication")]


def test_only_and_full_refresh_are_audited_with_who_and_why(env, first_sync):
    done, run_id = sync(env, "--only", "hris", "--full-refresh", "hris.users", "--reason", "ticket 42: re-read")
    assert done.returncode == 0, done.stdout + done.stderr
    extracts = rows(warehouse(env), "select source, mode, records from audit.source_extract where run_id = ?",
                    [run_id])
    assert [(s, m) for s, m, _ in extracts] == [("hris", "full")]
    assert extracts[0][2] > 0
    asked = rows(warehouse(env), "select requested_by, action, target, reason from audit.operator_request "
                 "where run_id = ? order by action", [run_id])
    user = asked[0][0]
    assert user and asked == [(user, "full_refresh", "hris.users", "ticket 42: re-read"),
                              (user, "only", "hris", "ticket 42: re-read")]
    assert "asked by" in done.stdout and "ticket 42: re-read" in done.stdout


def test_refused_credentials_fail_at_once_naming_host_path_and_status(env, first_sync, pilot_sim):
    wrong = "not-the-token-" + "y" * 10
    done, run_id = sync({**env, "HRIS_SCIM_TOKEN": wrong})
    assert done.returncode == 1
    host = pilot_sim.env["HRIS_SCIM_URL"].removeprefix("http://").split("/")[0]
    assert re.search(rf"^step extract_feeds failed: hris/users GET {re.escape(host)}/scim/v2/\S+: credentials "
                     r"refused \(HTTP 401 Unauthorized\)", done.stderr, flags=re.MULTILINE), done.stderr
    assert "Exceeded max_retries" not in done.stderr
    assert "step extract_feeds will retry" not in done.stderr  # refused credentials are not retried
    assert wrong not in done.stdout + done.stderr
    assert rows(warehouse(env), "select status from audit.publication where run_id = ?", [run_id]) == [("blocked",)]


@pytest.mark.parametrize(("waits_for", "signum"), [
    ("step extract_feeds started", signal.SIGINT),
    ("step warehouse_models started", signal.SIGTERM),
    ("step quality_checks started", signal.SIGINT),
    ("step publication__published_warehouse started", signal.SIGTERM),
])
def test_a_signal_at_any_step_leaves_one_decision_that_agrees_with_the_files(env, first_sync, waits_for, signum):
    published = warehouse(env)
    before = table_fingerprints(published)
    proc = subprocess.Popen([BRIDGE, "sync"], env=env, cwd=env["HOME"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in proc.stdout:  # progress lines: the signal goes when the step has started
        seen.append(line)
        if line.startswith(waits_for):
            proc.send_signal(signum)
            break
    rest = proc.stdout.read()
    code = proc.wait(timeout=600)
    output = "".join(seen) + rest
    assert any(line.startswith(waits_for) for line in seen), output
    run_id = re.search(r"^run (\S+): full log in", output, flags=re.MULTILINE).group(1)
    decisions = rows(published, "select status, blocked_by from audit.publication where run_id = ?", [run_id])
    assert len(decisions) == 1, decisions
    status, blocked_by = decisions[0]
    work = rows(published.with_name("bridge.work.duckdb"),
                "select status from audit.publication where run_id = ?", [run_id])
    assert work == [(status,)]
    if status == "published":  # the signal came once the decision and the swap were under way
        assert code == 0
        counts = json.loads(rows(published, "select row_counts from audit.publication where run_id = ?",
                                 [run_id])[0][0])
        reporting = {t: n for t, n in counts.items() if t.startswith("reporting.")}
        assert reporting
        for table, n in reporting.items():
            assert rows(published, f"select count(*) from {table}") == [(n,)]
    else:
        assert status == "abandoned", (status, output)
        assert json.loads(blocked_by)[0].startswith("interrupted")
        assert code == 130, output
        assert table_fingerprints(published) == before
        assert "recorded as abandoned" in output
