"""dbt models as Dagster assets, dbt tests as asset checks (dagster-dbt)."""


import importlib.metadata
import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from packaging import version

from orchestration.lib.dagster_dbt_import import import_dagster_dbt

import_dagster_dbt()  # before any other import of it: this process need not import dbt-core

from dagster_dbt import (
    DagsterDbtProjectPreparer,
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.defs.resources import BridgeResource
from orchestration.lib import dbt_prewarm, pg_warehouse
from orchestration.lib.crosswalk import land_crosswalk
from orchestration.lib.dbt_freshness import record_source_freshness
from orchestration.lib.dbt_results import record_dbt_results
from orchestration.lib.quality import early, gx_engine
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehousePaths

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What the dbt subprocess needs (the Postgres password only for the postgres target)."""
    paths = WarehousePaths.for_settings(settings)
    env = {
        "BRIDGE_WORK_DB": str(paths.work),
        "LRS_ACCOUNT_HOMEPAGE": settings.sources.get("LRS_ACCOUNT_HOMEPAGE", ""),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DO_NOT_TRACK": "1",
        # No dbt.log: dagster-dbt repeats each of dbt's lines in the run's own log (Dagster's
        # event log; logs/sync-*.log), and a second JSON rendering of every event costs ~1 s
        # of a build's Python. An operator can set it (e.g. to debug) to have one again.
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "none"),
    }
    if settings.as_of:
        env["BRIDGE_AS_OF"] = settings.as_of.isoformat()
    if paths.pg_url:
        from orchestration.lib.postgres.connection import parse_warehouse_url
        from orchestration.lib.postgres.roles import WRITER_ROLE

        env.update(parse_warehouse_url(paths.pg_url).dbt_env())
        env["BRIDGE_PG_ROLE"] = WRITER_ROLE
    return env


def _parse_environment() -> None:
    """`dbt parse` renders profiles.yml, which names BRIDGE_WORK_DB; give it a value even
    when the sources are not configured (parsing touches no database)."""
    settings = Settings.from_env(require_sources=False)
    for key, value in dbt_environment(settings).items():
        os.environ.setdefault(key, value)


class BridgeDbtCli(DbtCliResource):
    """DbtCliResource that has dbt imported by the time the build starts (dbt_prewarm), and
    skips two fixed costs of each call that the bridge does not use."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # not `dbt --version`, which asks PyPI for a newer release (no network beyond
        # loopback), nor dbt.version, which imports dbt-core into this process
        return version.parse(importlib.metadata.version("dbt-core"))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        super().setup_for_execution(context)
        # Resources are set up when the run starts: dbt imports while the sources extract.
        dbt_prewarm.start(Settings.from_env(require_sources=False).dbt_target)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        dbt_prewarm.stop()

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        # dagster-dbt opens a dbt adapter in this process (parsing every macro, ~4 s before
        # dbt starts) only for fetch_row_counts/fetch_column_metadata, which we do not call.
        return None


class BridgeDbtProjectPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (`dbt parse`), run through BridgeDbtCli: the stock resource
    would try to open a dbt adapter in this process, where dbt-core is not imported."""

    def _prepare_manifest(self, project: DbtProject) -> None:
        BridgeDbtCli(project_dir=project).cli(self._prepare_project_cli_args, target_path=project.target_path).wait()
        self._invalidate_seeds_in_partial_parse(project)


_parse_environment()
# dbt runs as a subprocess: find the `dbt` installed beside this interpreter (the venv's).
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=Settings.from_env(require_sources=False).dbt_target,
)


def _manifest_is_stale() -> bool:
    """A manifest older than any project file describes another project: rebuild it rather
    than fail mid-run on a node it does not know."""
    if not dbt_project.manifest_path.exists():
        return True
    built = dbt_project.manifest_path.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests", "snapshots"):
        sources.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return any(p.stat().st_mtime > built for p in sources if p.exists())


# The manifest is built once (`make` runs `bridge prepare`), not at every import.
_preparer = BridgeDbtProjectPreparer()
_preparer.prepare_if_dev(dbt_project)
if _manifest_is_stale():
    _preparer.prepare(dbt_project)


class BridgeDbtTranslator(DagsterDbtTranslator):
    """Keys mirror the warehouse: raw/<table> for sources, <schema>/<model> for models."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # source hris.users is the table raw.hris__users, the asset the connectors land
            return dg.AssetKey(["raw", dbt_resource_props["identifier"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "raw"
        return dbt_resource_props["schema"]


translator = BridgeDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def warehouse_models(
    context: dg.AssetExecutionContext, dbt: BridgeDbtCli, bridge: BridgeResource
) -> Iterator[Any]:
    settings = bridge.settings()
    os.environ.update(dbt_environment(settings))
    # Failing tests must not raise mid-stream: their results are recorded for the audit
    # trail first; Dagster then blocks everything downstream of a failed blocking test.
    # Unit tests prove the SQL, not the night's data: CI runs them (tests/dbt), a nightly
    # build need not repeat them (dbt's own advice for production runs).
    paths = bridge.paths()
    dbt_vars: list[str] = []
    if paths.pg_url:
        # Marts build into <schema>__build; publish swaps them in (write-audit-publish).
        pg_warehouse.prepare_run(paths.pg_url)
        dbt_vars = ["--vars", json.dumps({"publish_suffix": "__build"})]
    args = ["build", "--exclude-resource-type", "unit_test", *dbt_vars]
    # One target folder per warehouse, kept between runs (artifacts of concurrent warehouses
    # never mix); a new one starts from the parse `bridge prepare` made, which is valid for
    # every DuckDB warehouse (see orchestration/lib/dbt_work_file.py): a full parse is ~8 s.
    _seed_partial_parse(paths.dbt_target)
    invocation = None
    try:
        with bridge.work() as con:
            rows = land_crosswalk(con, settings.title_crosswalk)
            os.environ.update(dbt_prewarm.environment())
            try:
                invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=paths.dbt_target)
            finally:
                os.environ.pop(dbt_prewarm.ENV_SOCKET, None)  # the waiting dbt serves one invocation
            # dbt starts up (adapter, parse: ~1 s) while this connection reads the raw feeds'
            # frames; it attaches the work file once this one lets go (dbt_work_file).
            early.start(con, context.run.run_id, early.raw_suite_names())
        # The checks after this step need GX: its import (~5 s of one core) runs while dbt
        # works in its own process; started only now, it does not slow (GIL) what dbt waits for.
        gx_engine.warm_up()
        if settings.title_crosswalk:
            context.log.info(f"job-title crosswalk from {settings.title_crosswalk}: {rows} rows")
        yield from invocation.stream()
    finally:
        # Never leave dbt running (and holding the DuckDB write lock) if this step fails.
        if invocation is not None and invocation.process.poll() is None:
            invocation.process.terminate()
            invocation.process.wait(timeout=30)
    run_results = invocation.get_artifact("run_results.json")
    with bridge.work() as con:
        failed = record_dbt_results(con, context.run.run_id, run_results, invocation.manifest)
    if failed:
        context.log.error(f"dbt build: {len(failed)} failing blocking test(s) or model error(s): {failed[:10]}")

    # ---- source freshness (orchestration/lib/dbt_freshness.py): recorded with the other checks;
    # same --vars as the build, so dbt reuses its parse
    freshness = dbt.cli(["source", "freshness", *dbt_vars], raise_on_error=False, manifest=invocation.manifest,
                        target_path=paths.dbt_target).wait()
    with bridge.work() as con:
        stale = record_source_freshness(con, context.run.run_id, freshness.get_artifact("sources.json"),
                                        invocation.manifest)
    if stale:
        context.log.error(f"dbt source freshness: feed(s) past their error threshold: {stale}")


def dbt_resource() -> BridgeDbtCli:
    """The dbt resource, run through `bridge-dbt`, which hands each invocation to the dbt
    the resource started with the run (dbt_prewarm)."""
    return BridgeDbtCli(project_dir=dbt_project, dbt_executable=str(Path(sys.executable).parent / "bridge-dbt"))


def _seed_partial_parse(target: Path) -> None:
    cache = target / "partial_parse.msgpack"
    if not cache.exists() and dbt_prewarm.PREPARED_PARSE.exists():
        # dbt still checks it (profile, vars, file checksums) and re-parses what differs
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dbt_prewarm.PREPARED_PARSE, cache)


def published_model_keys() -> list[dg.AssetKey]:
    return [k for k in warehouse_models.keys if k.path[0] in ("reporting", "restricted")]
