"""Helpers shared by the dbt tests: a private project copy, the environment, the runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import raw_fixture

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


@dataclass
class DbtBuild:
    project_dir: Path
    db_path: Path
    run_results: dict
    catalog: dict | None

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.db_path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def one(self, sql: str, params: list | None = None):
        rows = self.query(sql, params)
        assert len(rows) == 1, f"expected one row from {sql!r}, got {rows}"
        return rows[0]


def dbt_env(db_path: Path, project_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "BRIDGE_WORK_DB": str(db_path),
        "BRIDGE_AS_OF": raw_fixture.AS_OF,
        "LRS_ACCOUNT_HOMEPAGE": raw_fixture.HOMEPAGE,
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DO_NOT_TRACK": "1",
    })
    return env


def copy_project(dest: Path) -> Path:
    """A private copy, so target/ and logs/ never land in the repository and the
    fixture's crosswalk can stand in for the demo organisation's."""
    shutil.copytree(DBT_PROJECT, dest, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (dest / "seeds" / "job_title_crosswalk.csv").write_text(raw_fixture.CROSSWALK_CSV)
    return dest


def run_dbt(args: list[str], project_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(DBT), *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)],
                          cwd=project_dir, env=env, check=False, capture_output=True, text=True, timeout=600)


# The fixture's objectives 6 and 7 are each other's parent on purpose: the blocking test
# for cycles must catch them, and is the only node allowed to fail.
EXPECTED_FAILURES = {"objective_cascade_has_no_cycles"}


def unexpected_failures(target_dir: Path) -> list[str]:
    """Nodes of the last build that errored or failed, other than EXPECTED_FAILURES; also
    fails when an expected failure did not happen (the fixture would prove nothing)."""
    import json

    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    failed = {r["unique_id"].split(".")[2]: r["status"] for r in results if r["status"] in ("error", "fail")}
    missing = [f"{name} (expected to fail)" for name in EXPECTED_FAILURES if failed.get(name) != "fail"]
    return sorted(name for name in failed if name not in EXPECTED_FAILURES) + missing
