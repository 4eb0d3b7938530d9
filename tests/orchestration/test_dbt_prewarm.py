"""`bridge-dbt` hands a dbt invocation to the dbt started with the run (orchestration/lib/dbt_prewarm.py),
or runs dbt itself when none is waiting; either way dbt sees the caller's arguments, environment,
working directory and streams, and the caller gets dbt's exit code."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from orchestration.lib import dbt_prewarm

LAUNCHER = str(Path(sys.executable).parent / "bridge-dbt")


def _launch(args: list[str], cwd: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_VERSION_CHECK": "false", **extra_env}
    return subprocess.run([LAUNCHER, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def waiting():
    dbt_prewarm.start("duckdb")
    try:
        env = dbt_prewarm.environment()
        assert env, "the waiting dbt never came up"
        yield env
    finally:
        dbt_prewarm.stop()


def _assert_dbt_debug_ran_as_called(done: subprocess.CompletedProcess, cwd: Path, profiles: Path) -> None:
    # `dbt debug` in a folder with no project: it fails (exit 1), naming the profiles folder the
    # caller's environment gave it and the project file it looked for in the caller's cwd
    assert done.returncode == 1, done.stdout + done.stderr
    assert str(profiles / "profiles.yml") in done.stdout
    assert str(cwd / "dbt_project.yml") in done.stdout


def test_the_waiting_dbt_runs_the_invocation_as_called(waiting, tmp_path: Path) -> None:
    socket_path = Path(waiting[dbt_prewarm.ENV_SOCKET])
    profiles = tmp_path / "profiles-for-this-call"
    done = _launch(["debug"], tmp_path, {**waiting, "DBT_PROFILES_DIR": str(profiles)})
    _assert_dbt_debug_ran_as_called(done, tmp_path, profiles)
    # it was the waiting process that ran it: its socket is used up and it exited with dbt's code
    assert not socket_path.exists()
    assert dbt_prewarm._current.proc.wait(timeout=30) == 1


def test_with_no_waiting_dbt_the_launcher_runs_dbt_itself(tmp_path: Path) -> None:
    profiles = tmp_path / "fallback-profiles"
    gone = {dbt_prewarm.ENV_SOCKET: str(tmp_path / "no-such.sock")}  # used up, or never started
    done = _launch(["debug"], tmp_path, {**gone, "DBT_PROFILES_DIR": str(profiles)})
    _assert_dbt_debug_ran_as_called(done, tmp_path, profiles)


@pytest.mark.parametrize("level", ["info", "debug"])
def test_the_waiting_dbt_logs_at_the_level_it_is_asked_for(waiting, level: str, tmp_path: Path) -> None:
    """It gates the debug events no logger keeps (dbt_event_gate): asked for them, it writes them."""
    done = _launch(["--log-format", "json", "--log-level", level, "debug"], tmp_path,
                   {**waiting, "DBT_PROFILES_DIR": str(tmp_path)})
    events = [json.loads(line)["info"] for line in done.stdout.splitlines() if line.startswith("{")]
    assert dbt_prewarm._current.proc.wait(timeout=30) == 1  # the waiting dbt ran it
    assert {"MainReportVersion", "DebugCmdResult"} <= {e["name"] for e in events}
    debug = [e["name"] for e in events if e["level"] == "debug"]
    assert ("MainReportArgs" in debug) if level == "debug" else not debug


def test_a_waiting_dbt_whose_run_died_exits(tmp_path: Path) -> None:
    """The run's process is killed before dbt is needed: the waiting dbt does not linger."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from orchestration.lib import dbt_prewarm
        dbt_prewarm.start("duckdb")
        assert dbt_prewarm.environment()
        print(dbt_prewarm._current.proc.pid, dbt_prewarm._current.folder, flush=True)
        os._exit(0)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    pid_text, folder = run.stdout.split()
    pid = int(pid_text)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    assert not _alive(pid), f"the waiting dbt {pid} outlived its run"
    assert not Path(folder).exists()  # and took its socket folder with it


def test_a_run_sweeps_the_socket_folders_of_killed_runs() -> None:
    """SIGKILL to a run's process group takes its waiting dbt too, and nobody tidies; the next
    run removes the folders of processes that are gone, and no other."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    tmp = Path(tempfile.gettempdir())
    stale = Path(tempfile.mkdtemp(prefix=f"bridge-dbt-{gone}-", dir=tmp))
    (stale / "dbt.sock").write_text("")
    live = Path(tempfile.mkdtemp(prefix=f"bridge-dbt-{os.getppid()}-", dir=tmp))
    try:
        dbt_prewarm.start("duckdb")
        assert not stale.exists()
        assert live.exists()
    finally:
        dbt_prewarm.stop()
        shutil.rmtree(live, ignore_errors=True)
        shutil.rmtree(stale, ignore_errors=True)


def test_a_signal_to_the_launcher_reaches_the_dbt_it_handed_over_to(waiting, tmp_path: Path) -> None:
    """dagster-dbt stops a failed build by terminating the process it started: the launcher."""
    project = Path(__file__).resolve().parents[2] / "dbt_project"
    socket_path = Path(waiting[dbt_prewarm.ENV_SOCKET])
    env = {**os.environ, **waiting, "DBT_VERSION_CHECK": "false", "BRIDGE_WORK_DB": str(tmp_path / "w.duckdb")}
    # a full parse into a fresh target folder: seconds of work to interrupt
    launcher = subprocess.Popen(
        [LAUNCHER, "parse", "--no-partial-parse", "--target-path", str(tmp_path / "target"), "--profiles-dir", str(project)],
        cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while socket_path.exists() and time.monotonic() < deadline:  # handed over once the socket is used up
            time.sleep(0.05)
        assert not socket_path.exists(), "the launcher never reached the waiting dbt"
        time.sleep(0.5)  # the waiting process is now dbt, parsing
        launcher.terminate()
        assert launcher.wait(timeout=60) != 0
        assert dbt_prewarm._current.proc.wait(timeout=60) == -signal.SIGTERM
    finally:
        launcher.kill()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # an exited orphan may wait a moment for its new parent to reap it


def test_the_warm_up_stops_for_a_waiting_caller_and_at_a_failing_step(tmp_path: Path) -> None:
    import socket

    ran: list[int] = []
    steps = [lambda: ran.append(1), lambda: ran.append(2)]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "s"))
        server.listen(1)
        assert dbt_prewarm.warm_up(server, steps) == 2 and ran == [1, 2]

        def broken() -> None:
            raise RuntimeError("a dbt upgrade renamed something")

        ran.clear()
        assert dbt_prewarm.warm_up(server, [steps[0], broken, steps[1]]) == 1 and ran == [1]

        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as caller:
            caller.connect(str(tmp_path / "s"))  # pending: the build is waiting for dbt
            ran.clear()
            assert dbt_prewarm.warm_up(server, steps) == 0 and ran == []


def test_every_warm_up_step_works_on_this_dbt_and_the_prepared_project(tmp_path: Path) -> None:
    # in a new process, as the waiting dbt runs them: nothing of dbt built yet
    code = textwrap.dedent(f"""
        import socket
        import dbt.cli.main
        from dbt_common.dataclass_schema import dbtClassMixin
        from orchestration.lib import dbt_prewarm

        assert dbt_prewarm.PREPARED_PARSE.exists(), dbt_prewarm.PREPARED_PARSE
        steps = dbt_prewarm._warm_ups("duckdb")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind({str(tmp_path / "s")!r})
        server.listen(1)
        print(dbt_prewarm.warm_up(server, steps), len(steps), dbtClassMixin.json_schema.cache_info().currsize)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    ran, steps, schemas = map(int, done.stdout.split())
    assert ran == steps == 6 and schemas == 5


def test_the_prepared_parse_is_where_dbt_project_puts_it() -> None:
    from orchestration.defs.transformation.dbt import dbt_project

    assert dbt_prewarm.PREPARED_PARSE == dbt_project.manifest_path.parent / "partial_parse.msgpack"


def test_every_variable_the_dbt_project_reads_reaches_dbt() -> None:
    repo = Path(__file__).resolve().parents[2]
    read: set[str] = set()
    for path in (repo / "dbt_project").rglob("*"):
        if path.suffix in (".sql", ".yml") and "target" not in path.parts:
            read |= set(re.findall(r"env_var\(\s*['\"](\w+)['\"]", path.read_text(encoding="utf-8")))
    plugin = (repo / "orchestration" / "lib" / "dbt_work_file.py").read_text(encoding="utf-8")
    read |= set(re.findall(r"environ(?:\.get\(|\[)\s*['\"](\w+)['\"]", plugin))
    assert {"BRIDGE_WORK_DB", "BRIDGE_AS_OF", "BRIDGE_PG_PASSWORD", "LRS_ACCOUNT_HOMEPAGE"} <= read
    assert set(dbt_prewarm.dbt_visible(dict.fromkeys(read, "x"))) == read


SHOW_ENV_PROJECT = {
    "dbt_project.yml": "name: envcheck\nversion: '1.0'\nconfig-version: 2\nprofile: envcheck\nmacro-paths: [macros]\n",
    "profiles.yml": "envcheck:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n",
    "macros/show_env.sql": (
        "{% macro show_env(names) %}{% for n in names %}"
        "{{ log('ENV ' ~ n ~ '=' ~ env_var(n, 'absent'), info=True) }}{% endfor %}{% endmacro %}"
    ),
}


@pytest.mark.parametrize("handed_over", [True, False], ids=["waiting-dbt", "launcher-execs-dbt"])
def test_dbt_gets_its_own_variables_and_not_the_sources_secrets(
    handed_over: bool, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for name, text in SHOW_ENV_PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    given = {
        "HRIS_SCIM_TOKEN": "secret-token-marker", "LMS_CLIENT_SECRET": "secret-client-marker",
        "BRIDGE_WAREHOUSE": "postgresql://u:secret-pw-marker@127.0.0.1/w",
        "BRIDGE_WORK_DB": "/w/bridge.work.duckdb", "BRIDGE_PG_PASSWORD": "pg-pw",
        "DBT_ENV_CUSTOM_ENV_TEAM": "people-analytics", "LRS_ACCOUNT_HOMEPAGE": "https://lrs.example",
    }
    args = json.dumps({"names": sorted(given)})
    call = ["run-operation", "show_env", "--args", args, "--profiles-dir", str(tmp_path), "--target-path", str(tmp_path / "t")]
    if handed_over:
        env = request.getfixturevalue("waiting")
        done = _launch(call, tmp_path, {**given, **env})
        assert not Path(env[dbt_prewarm.ENV_SOCKET]).exists()  # the waiting dbt ran it
    else:
        done = _launch(call, tmp_path, {**given, dbt_prewarm.ENV_SOCKET: str(tmp_path / "none.sock")})
    assert done.returncode == 0, done.stdout + done.stderr
    seen = dict(re.findall(r"ENV (\w+)=(\S+)", done.stdout))
    assert seen == {
        "HRIS_SCIM_TOKEN": "absent", "LMS_CLIENT_SECRET": "absent", "BRIDGE_WAREHOUSE": "absent",
        "BRIDGE_WORK_DB": "/w/bridge.work.duckdb", "BRIDGE_PG_PASSWORD": "pg-pw",
        "DBT_ENV_CUSTOM_ENV_TEAM": "people-analytics", "LRS_ACCOUNT_HOMEPAGE": "https://lrs.example",
    }
