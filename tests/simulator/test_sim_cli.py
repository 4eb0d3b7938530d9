"""`python -m simulator serve` writes ready.json, serves, and exits cleanly on SIGTERM."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_serve_until_sigterm(tmp_path):
    work = tmp_path / "w"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--profile", "pilot", "--seed", "3",
                             "--workdir", str(work), "--no-filter"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def ready_or_exited() -> bool:
            assert proc.poll() is None, f"the simulator exited: {proc.stderr.read().decode()}"
            return (work / "ready.json").exists()

        wait_until(ready_or_exited, "the simulator never wrote ready.json")
        ready = json.loads((work / "ready.json").read_text())
        assert ready["pid"] == proc.pid
        spc = requests.get(ready["env"]["HRIS_SCIM_URL"] + "/ServiceProviderConfig", timeout=5,
                           headers={"Authorization": "Bearer " + ready["env"]["HRIS_SCIM_TOKEN"]}).json()
        assert spc["filter"]["supported"] is False
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_cli_rejects_non_loopback_host(tmp_path):
    from simulator.cli import main
    assert main(["serve", "--workdir", str(tmp_path), "--host", "0.0.0.0"]) == 2
    with pytest.raises(SystemExit):
        main(["serve", "--profile", "huge", "--workdir", str(tmp_path)])


def test_cli_main_defaults_to_serve(tmp_path, monkeypatch):
    from simulator import cli

    seen = {}

    class FakeApp:  # stands in for the servers: only the argument handling is under test here
        def __init__(self, profile, seed, workdir, faults, no_filter, host, dialect, history_years):
            seen.update(profile=profile, seed=seed, faults=faults, no_filter=no_filter, dialect=dialect,
                        history_years=history_years)
            raise SystemExit(0)

    import simulator.app
    monkeypatch.setattr(simulator.app, "SimApp", FakeApp)
    with pytest.raises(SystemExit):
        cli.main(["--profile", "standard", "--seed", "9", "--workdir", str(tmp_path), "--faults", "0.1"])
    assert seen == {"profile": "standard", "seed": 9, "faults": 0.1, "no_filter": False, "dialect": "reference",
                    "history_years": 1}
    with pytest.raises(SystemExit):
        cli.main(["--workdir", str(tmp_path), "--dialect", "foreign"])
    assert seen["dialect"] == "foreign"
    with pytest.raises(SystemExit):
        cli.main(["--workdir", str(tmp_path), "--dialect", "klingon"])


def _command_lines() -> list[str]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                out.append((p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:  # the process ended while we looked
                pass
    return out


def test_a_simulator_not_ready_in_time_is_stopped_and_the_error_names_its_log(tmp_path):
    from simulator import Simulator

    sim = Simulator("pilot", seed=5, workdir=tmp_path / "slow", startup_timeout=0)
    with pytest.raises(TimeoutError, match=re.escape(str(sim.workdir / "simulator.log"))):
        sim.start()
    assert sim.proc is None
    assert not [c for c in _command_lines() if str(sim.workdir) in c]   # no simulator left running
    sim.stop()   # stopping again is harmless
