"""The README's walk-through as a new user types it, in a fresh folder: `bridge demo`, then
`bridge status`, `bridge audit` and `bridge report` on what it published."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.simulator]

BRIDGE = str(Path(sys.executable).parent / "bridge")


def test_the_readme_commands_in_order(tmp_path):
    # the user's own folder: no .env, no simulator, no warehouse; the dbt project is the clone's
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DAGSTER_DISABLE_TELEMETRY": "1"}

    def bridge(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([BRIDGE, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=1800, check=False)

    demo = bridge("demo")
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "simulator stopped" in demo.stdout
    published = tmp_path / "warehouse" / "bridge.duckdb"
    assert f"published warehouse: {published} (restricted:" in demo.stdout
    run_id = re.search(r"^run (\S+): full log in", demo.stdout, flags=re.MULTILINE).group(1)

    status = bridge("status")
    assert status.returncode == 0, status.stderr
    assert run_id in status.stdout and "publication=published" in status.stdout

    audit = bridge("audit", "--run-id", run_id, "--format", "json")
    assert audit.returncode == 0, audit.stderr
    report = json.loads(audit.stdout)
    assert report["publication"]["status"] == "published"
    assert {e["source"] for e in report["extracts"]} == {"hris", "xapi", "lms", "checkins", "payroll"}

    site = bridge("report", "--out", str(tmp_path / "site"))
    assert site.returncode == 0, site.stderr
    assert (tmp_path / "site" / "index.html").exists()
