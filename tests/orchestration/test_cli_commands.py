"""The `bridge` command as the README documents it: every command of its table, `--help`
included, run as a program with the README's own arguments (the sync itself runs in
tests/e2e/test_cli_sync.py)."""

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

REPO = Path(__file__).resolve().parents[2]
BRIDGE = str(Path(sys.executable).parent / "bridge")


def readme_rows() -> list[str]:
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("### The `bridge` command"):readme.index("## Configuration")]
    cells = re.findall(r"^\| (`bridge .+?) \| ", table, flags=re.MULTILINE)  # the first cell of each row
    return [cell.replace("`", "").replace("\\|", "|") for cell in cells]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No source variable and no simulator unless a test gives one."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DAGSTER_DISABLE_TELEMETRY": "1",
            "BRIDGE_WAREHOUSE": str(tmp_path / "warehouse" / "bridge.duckdb"), **extra}


def bridge(args: list[str], tmp_path: Path, env: dict[str, str] | None = None, timeout: float = 180,
           ) -> subprocess.CompletedProcess:
    return subprocess.run([BRIDGE, *args], cwd=tmp_path, env=env or clean_env(tmp_path), capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_the_readme_table_names_every_command_and_each_has_help(tmp_path):
    rows = readme_rows()
    commands = {row.split()[1] for row in rows}
    assert commands == {"sync", "check", "status", "audit", "simulate", "demo", "report", "payroll", "provision",
                        "prepare"}
    for row in rows:
        words = []  # the command and its subcommands: the words before the first option or placeholder
        for word in row.split()[1:]:
            if not re.fullmatch(r"[a-z]+", word):
                break
            words.append(word)
        done = bridge([*words, "--help"], tmp_path)
        assert done.returncode == 0, (row, done.stderr)
        assert done.stdout.startswith(f"usage: bridge {' '.join(words)}")
        for option in re.findall(r"--[a-z-]+", row):
            assert option in done.stdout, (row, option)


def test_simulate_takes_the_readme_arguments_and_serves_until_stopped(tmp_path):
    [row] = [r for r in readme_rows() if r.startswith("bridge simulate")]
    assert row.startswith("bridge simulate --profile pilot|standard|large --seed N --workdir DIR")
    workdir = tmp_path / "sim"
    proc = subprocess.Popen([BRIDGE, "simulate", "--profile", "pilot", "--seed", "1", "--workdir", str(workdir),
                             "--faults", "0.1"], cwd=tmp_path, env=clean_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()  # the simulator says when it is ready
        assert line.startswith("simulator ready:"), line
        ready = json.loads((workdir / "ready.json").read_text())
        assert ready["env"]["HRIS_SCIM_URL"].startswith("http://127.0.0.1:")
        assert ready["pid"] == proc.pid  # the simulator runs in the command's place: stopping it stops them
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0


@pytest.mark.parametrize(("args", "says"), [
    (["--only", "hris,ldap"], "--only takes sources among hris, xapi, lms, checkins, payroll"),
    (["--full-refresh", "xapi.statements"], "say why with --reason TEXT"),
    (["--full-refresh", "payroll.rows", "--reason", "x"], "payroll has no cursor"),
    (["--full-refresh", "lms.nothing", "--reason", "x"], "--full-refresh takes SOURCE.STREAM"),
    (["--only", "hris", "--full-refresh", "lms.users", "--reason", "x"], "that source is not in --only"),
])
def test_sync_refuses_an_unusable_request_before_anything_runs(tmp_path, args, says):
    done = bridge(["sync", *args], tmp_path)
    assert done.returncode == 2
    assert says in done.stderr
    assert not (tmp_path / "warehouse").exists()


def test_sync_without_sources_names_every_missing_variable(tmp_path):
    (tmp_path / ".sim").mkdir()
    (tmp_path / ".sim" / "ready.json").write_text(json.dumps({"env": {"LRS_URL": "http://127.0.0.1:9/x"},
                                                               "pid": os.getpid()}))
    done = bridge(["sync"], tmp_path)
    assert done.returncode == 2
    missing = re.findall(r"configuration error: (\w+) is not set", done.stderr)
    assert len(missing) == 12 and "LRS_URL" in missing  # a leftover .sim is not read untold


@pytest.fixture
def small_warehouse(tmp_path: Path) -> Iterator[Path]:
    """A published file with a few runs, as `bridge status` and `bridge audit` read it."""
    from connectors.landing import ensure_schema

    path = tmp_path / "warehouse" / "bridge.duckdb"
    path.parent.mkdir()
    con = duckdb.connect(str(path))
    ensure_schema(con)
    for i in range(300):
        run_id = f"run-{i:04d}"
        con.execute("insert into audit.pipeline_run values (?, timestamp '2026-06-01' + to_minutes(?), "
                    "null, 'blocked', 'abc', 'cli')", [run_id, i])
        con.execute("insert into audit.dq_result values (?, 'check_x', 'reporting.t', 'blocking', false, "
                    "'1', 1, ?, now(), 'sql')", [run_id, json.dumps([f"key-{i}"])])
        con.execute("insert into audit.publication values (?, now(), 'blocked', '[\"check_x\"]', '{}')", [run_id])
    con.close()
    yield path


def test_status_and_audit_run_with_the_readme_arguments(tmp_path, small_warehouse):
    done = bridge(["status"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "run-0299" in done.stdout and "publication=blocked" in done.stdout
    done = bridge(["audit"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "BLOCKED" in done.stdout and "check_x" in done.stdout and "key-299" in done.stdout
    done = bridge(["audit", "--run-id", "run-0007", "--format", "json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["checks"][0]["sample_keys"] == ["key-7"]


@pytest.mark.parametrize("args", [["status", "--limit", "300"], ["audit", "--format", "json"], ["audit"]])
def test_a_closed_pipe_ends_the_listing_quietly(tmp_path, small_warehouse, args):
    # the reader is gone before the command writes: every write meets a closed pipe
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.Popen([BRIDGE, *args], cwd=tmp_path, env=clean_env(tmp_path), stdout=write,
                            stderr=subprocess.PIPE, text=True)
    os.close(write)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert err == ""


def test_prepare_names_the_manifest(tmp_path):
    done = bridge(["prepare"], REPO, env=clean_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("manifest.json")


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from simulator import Simulator

    with Simulator("pilot", seed=4, workdir=tmp_path_factory.mktemp("sim")) as sim:
        yield sim


def test_check_reaches_every_source_and_writes_nothing(tmp_path, simulator):
    env = clean_env(tmp_path, BRIDGE_SIMULATOR_DIR=str(simulator.workdir))
    done = bridge(["check"], tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    # the simulator serves the LMS's SCIM endpoint too: provisioning is configured, so it is reached
    assert [line.split()[0] for line in lines] == ["hris", "xapi", "lms", "checkins", "payroll", "provisioning"]
    assert all(line.split()[1] == "ok" for line in lines), lines
    assert "PATCH supported" in lines[5]
    assert "SCIM filter supported" in lines[0]
    assert "every header has the required columns" in lines[4]
    assert not (tmp_path / "warehouse").exists()


def test_check_names_the_cause_of_a_refused_token_without_the_secret(tmp_path, simulator):
    wrong = "wrong-token-" + "x" * 12
    env = clean_env(tmp_path, BRIDGE_SIMULATOR_DIR=str(simulator.workdir), CHECKINS_TOKEN=wrong,
                    LMS_URL="http://127.0.0.1:9")  # discard port: nothing listens
    done = bridge(["check"], tmp_path, env=env)
    assert done.returncode == 1
    by_source = {line.split()[0]: line for line in done.stdout.strip().splitlines()}
    assert by_source["hris"].split()[1] == "ok"
    checkins = by_source["checkins"]
    assert "FAILED" in checkins and "401 Unauthorized" in checkins
    host = simulator.env["CHECKINS_URL"].removeprefix("http://")
    assert f"GET {host}/api/v1/objectives" in checkins
    assert "FAILED" in by_source["lms"] and "127.0.0.1:9/oauth/token" in by_source["lms"]
    assert wrong not in done.stdout + done.stderr


def test_run_retries_never_rerun_a_step_failure_such_as_a_quality_block(tmp_path):
    import dagster as dg
    import yaml

    settings = yaml.safe_load((REPO / "dagster.yaml").read_text())
    with dg.instance_for_test(overrides={"run_retries": settings["run_retries"]}, temp_dir=str(tmp_path)) as instance:
        assert instance.run_retries_enabled  # a crashed run worker is still retried
        assert instance.run_retries_retry_on_asset_or_op_failure is False


def test_the_summary_names_postgres_schemas_never_the_password():
    from orchestration.cli import published_location
    from orchestration.lib.warehouse import WarehousePaths

    where = published_location(WarehousePaths.from_url("postgresql://bridge:s3cr3t@db.example.test:5433/hr"))
    assert where.startswith("PostgreSQL postgresql://bridge@db.example.test:5433/hr, schemas reporting")
    assert "s3cr3t" not in where and "bridge.duckdb" not in where
