"""What dbt's process gets of the environment (orchestration/lib/dbt_env.py): its own
variables and the project's, never the sources' secrets, through dagster-dbt's stock resource."""

from __future__ import annotations

import json
import os
import re
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from dagster_dbt import DbtCliResource

from orchestration.lib import dbt_env
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehousePaths

REPO = Path(__file__).resolve().parents[2]

SHOW_ENV_PROJECT = {
    "dbt_project.yml": "name: envcheck\nversion: '1.0'\nconfig-version: 2\nprofile: envcheck\nmacro-paths: [macros]\n",
    "profiles.yml": "envcheck:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: ':memory:'\n",
    "macros/show_env.sql": (
        "{% macro show_env(names) %}{% for n in names %}"
        "{{ log('ENV ' ~ n ~ '=' ~ env_var(n, 'absent'), info=True) }}{% endfor %}{% endmacro %}"
    ),
}

SECRETS = {
    "HRIS_SCIM_TOKEN": "secret-token-marker",
    "LMS_CLIENT_SECRET": "secret-client-marker",
    "LRS_PASSWORD": "secret-lrs-marker",
    "BRIDGE_WAREHOUSE": "postgresql://u:secret-pw-marker@127.0.0.1:5/w",
}


def test_dbt_gets_its_own_variables_and_not_the_sources_secrets(tmp_path: Path, monkeypatch) -> None:
    for name, text in SHOW_ENV_PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    for name, value in {**SECRETS, "DBT_ENV_CUSTOM_ENV_TEAM": "people-analytics"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # the venv's dbt is found all the same
    settings = Settings.from_env(dotenv_path=None, require_sources=False)
    wanted = dbt_env.dbt_environment(settings)
    names = sorted([*SECRETS, "DBT_ENV_CUSTOM_ENV_TEAM", *wanted])
    dbt = DbtCliResource(project_dir=str(tmp_path), profiles_dir=str(tmp_path), dbt_executable=dbt_env.DBT_EXECUTABLE)
    with dbt_env.for_dbt(wanted):
        invocation = dbt.cli(["run-operation", "show_env", "--args", json.dumps({"names": names})],
                             target_path=tmp_path / "target")
    lines = [event.raw_event["info"]["msg"] for event in invocation.stream_raw_events()]
    assert invocation.is_successful()
    seen = dict(re.findall(r"ENV (\w+)=(\S+)", "\n".join(lines)))
    assert {name: seen[name] for name in SECRETS} == dict.fromkeys(SECRETS, "absent")
    assert seen["DBT_ENV_CUSTOM_ENV_TEAM"] == "people-analytics"
    # the Postgres target's variables, from BRIDGE_WAREHOUSE, without the URL itself
    assert seen["BRIDGE_PG_PASSWORD"] == "secret-pw-marker" and seen["BRIDGE_PG_PORT"] == "5"
    assert seen["BRIDGE_WORK_DB"] == str(WarehousePaths.for_settings(settings).work)
    # and this process's environment is as it was
    assert {name: os.environ.get(name) for name in SECRETS} == SECRETS
    assert os.environ["PATH"] == "/usr/bin:/bin"


def test_the_environment_is_restored_when_starting_dbt_fails(monkeypatch) -> None:
    monkeypatch.setenv("HRIS_SCIM_TOKEN", "secret-token-marker")
    seen: dict[str, str] = {}

    def start_dbt() -> None:
        with dbt_env.for_dbt({"BRIDGE_WORK_DB": "/w/x.duckdb"}):
            seen.update(os.environ)
            raise RuntimeError("dbt did not start")

    with pytest.raises(RuntimeError):
        start_dbt()
    assert "HRIS_SCIM_TOKEN" not in seen and seen["BRIDGE_WORK_DB"] == "/w/x.duckdb"
    assert os.environ["HRIS_SCIM_TOKEN"] == "secret-token-marker" and "BRIDGE_WORK_DB" not in os.environ


def test_every_variable_the_dbt_project_reads_reaches_dbt() -> None:
    read: set[str] = set()
    for path in (REPO / "dbt_project").rglob("*"):
        if path.suffix in (".sql", ".yml") and "target" not in path.parts:
            read |= set(re.findall(r"env_var\(\s*['\"](\w+)['\"]", path.read_text(encoding="utf-8")))
    plugin = (REPO / "orchestration" / "lib" / "dbt_work_file.py").read_text(encoding="utf-8")
    read |= set(re.findall(r"environ(?:\.get\(|\[)\s*['\"](\w+)['\"]", plugin))
    assert {"BRIDGE_WORK_DB", "BRIDGE_AS_OF", "BRIDGE_PG_PASSWORD", "LRS_ACCOUNT_HOMEPAGE"} <= read
    assert set(dbt_env.dbt_visible(dict.fromkeys(read, "x"))) == read


@contextmanager
def recording_proxy() -> Iterator[tuple[str, list[str]]]:
    """A loopback 'proxy' that records the first line of each request and closes: what dbt
    would have sent beyond loopback."""
    seen: list[str] = []

    class Recorder(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            seen.append(self.rfile.readline().decode("latin-1").strip())

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_dbt_started_for_the_bridge_calls_nothing_beyond_loopback() -> None:
    """dagster-dbt runs `dbt --version`, which asks PyPI for dbt's latest release."""
    assert {urlsplit(dbt_env.OFFLINE[name]).hostname for name in ("HTTP_PROXY", "HTTPS_PROXY")} == {"127.0.0.1"}
    with dbt_env.for_dbt():
        shown = subprocess.run(["dbt", "--version"], capture_output=True, text=True, timeout=300, check=True).stdout
    assert "installed: " in shown
    assert "latest version of dbt-core could not be determined" in shown


def test_the_proxy_stops_only_the_pypi_lookup_of_dbt_version(monkeypatch) -> None:
    """What is left for the proxy: `dbt --version` asks PyPI (no documented switch), and nothing else."""
    with recording_proxy() as (url, seen):
        monkeypatch.setitem(dbt_env.OFFLINE, "HTTP_PROXY", url)
        monkeypatch.setitem(dbt_env.OFFLINE, "HTTPS_PROXY", url)
        with dbt_env.for_dbt():
            shown = subprocess.run(["dbt", "--version"], capture_output=True, text=True, timeout=300, check=True).stdout
    assert "latest version of dbt-core could not be determined" in shown
    assert seen and all(line.startswith("CONNECT pypi.org:443 ") for line in seen), seen


@pytest.mark.parametrize("send_stats", ["false", "true"])
def test_usage_tracking_is_off_by_its_documented_switch(tmp_path: Path, monkeypatch, send_stats: str) -> None:
    """With DBT_SEND_ANONYMOUS_USAGE_STATS=false (dbt_environment) a dbt command sends nothing at
    all; with it on (the control) dbt's tracker would reach its collector."""
    for name, text in SHOW_ENV_PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    settings = Settings.from_env(dotenv_path=None, require_sources=False)
    wanted = dbt_env.dbt_environment(settings)
    if send_stats == "true":
        wanted = {k: v for k, v in wanted.items() if k != "DO_NOT_TRACK"} | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "true"}
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    monkeypatch.delenv("DBT_SEND_ANONYMOUS_USAGE_STATS", raising=False)
    with recording_proxy() as (url, seen):
        monkeypatch.setitem(dbt_env.OFFLINE, "HTTP_PROXY", url)
        monkeypatch.setitem(dbt_env.OFFLINE, "HTTPS_PROXY", url)
        with dbt_env.for_dbt(wanted):
            subprocess.run([dbt_env.DBT_EXECUTABLE, "run-operation", "show_env", "--args", '{"names": []}',
                            "--project-dir", str(tmp_path), "--profiles-dir", str(tmp_path)],
                           capture_output=True, text=True, timeout=300, check=True, cwd=tmp_path)
    if send_stats == "false":
        assert seen == []
    else:
        assert any("sinter-collect.com" in line for line in seen), seen
