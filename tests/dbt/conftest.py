"""One dbt build of the project over the hand-made raw fixture, shared by the session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import raw_fixture
from dbt_helpers import DbtBuild, copy_project, dbt_env, run_dbt, unexpected_failures


@pytest.fixture(scope="session")
def dbt_build(tmp_path_factory) -> DbtBuild:
    root = tmp_path_factory.mktemp("dbt")
    project_dir = copy_project(root / "dbt_project")
    db_path = root / "work.duckdb"
    raw_fixture.build(db_path)
    env = dbt_env(db_path, project_dir)
    build = run_dbt(["build"], project_dir, env)
    run_results = json.loads((project_dir / "target" / "run_results.json").read_text())
    failures = unexpected_failures(project_dir / "target")
    assert not failures, f"dbt build failed ({failures}):\n{build.stdout[-6000:]}\n{build.stderr[-2000:]}"
    docs = run_dbt(["docs", "generate"], project_dir, env)
    assert docs.returncode == 0, f"dbt docs generate failed:\n{docs.stdout[-4000:]}"
    catalog = json.loads((project_dir / "target" / "catalog.json").read_text())
    return DbtBuild(project_dir, db_path, run_results, catalog)
