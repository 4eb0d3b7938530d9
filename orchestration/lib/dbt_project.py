"""The dbt project as dagster-dbt sees it, and its manifest (`bridge prepare`, run by `make`)."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtProject

from orchestration.lib import dbt_env
from orchestration.lib.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The parse `bridge prepare` made: a new warehouse's dbt target folder starts from it
# (dbt still checks it against the project and re-parses what differs).
PREPARED_PARSE = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"


def project() -> DbtProject:
    """The project for the target the environment names (`duckdb` unless BRIDGE_WAREHOUSE is Postgres)."""
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target=Settings.from_env(require_sources=False).dbt_target,
    )


def prepare(dbt_project: DbtProject) -> Path:
    """Build the manifest with dagster-dbt's preparer (`dbt parse`); returns its path.
    Parsing opens no database: dbt needs no warehouse, only the venv's dbt on PATH."""
    with dbt_env.for_dbt():
        DagsterDbtProjectPreparer().prepare(dbt_project)
    return dbt_project.manifest_path
