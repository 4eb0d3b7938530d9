"""The dbt project as dagster-dbt sees it, and its manifest (`bridge prepare`, run by `make`)."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtProject

from orchestration.lib import dbt_env

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The parse `bridge prepare` made: a new warehouse's dbt target folder starts from it
# (dbt still checks it against the project and re-parses what differs).
PREPARED_PARSE = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"


def project() -> DbtProject:
    """The project, with no target: each dbt command names its warehouse's target when it runs
    (dbt_build.invoke), so a process that loaded the definitions under one BRIDGE_WAREHOUSE
    never builds into another. Parsing uses the profile's default."""
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare(dbt_project: DbtProject) -> Path:
    """Build the manifest with dagster-dbt's preparer (`dbt parse`); returns its path.
    Parsing opens no database: dbt needs no warehouse, only the venv's dbt on PATH."""
    with dbt_env.for_dbt():
        DagsterDbtProjectPreparer().prepare(dbt_project)
    return dbt_project.manifest_path
