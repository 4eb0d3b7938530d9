"""dbt models as Dagster assets, dbt tests as asset checks (dagster-dbt)."""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.resources import BridgeResource
from orchestration.lib import dbt_build, dbt_env, dbt_incremental
from orchestration.lib.crosswalk import land_crosswalk
from orchestration.lib.dbt_freshness import record_source_freshness
from orchestration.lib.dbt_project import project
from orchestration.lib.dbt_results import record_dbt_results
from orchestration.lib.quality import gx_engine

# The manifest is built by `bridge prepare` (`make`); `dagster dev` re-parses on load.
dbt_project = project()
dbt_project.prepare_if_dev()


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
    context: dg.AssetExecutionContext, dbt: DbtCliResource, bridge: BridgeResource
) -> Iterator[Any]:
    settings, paths = bridge.settings(), bridge.paths()
    with bridge.work() as con:
        rows = land_crosswalk(con, settings.title_crosswalk)
        stale = dbt_incremental.stale_models(con, dbt_incremental.load_manifest(dbt_project.manifest_path))
    if settings.title_crosswalk:
        context.log.info(f"job-title crosswalk from {settings.title_crosswalk}: {rows} rows")
    if stale:
        context.log.info(f"dbt build --full-refresh: incremental model(s) changed or never built here: {stale}")
    with dbt_build.ended_on_failure(dbt_build.start(context, dbt, settings, paths, full_refresh=bool(stale))) as build:
        # the checks after this step need GX: its import runs while dbt works in its own process
        gx_engine.warm_up()
        yield from build.stream()
    # dbt's results go to audit.dq_result, where the checks step and `publish` read them
    with bridge.work() as con:
        run_results = build.get_artifact("run_results.json")
        failed = record_dbt_results(con, context.run.run_id, run_results, build.manifest, pg_url=paths.pg_url)
        dbt_incremental.record_built(con, run_results, build.manifest)
    if failed:
        context.log.error(f"dbt build: {len(failed)} failing blocking test(s) or model error(s): {failed[:10]}")

    # ---- source freshness (orchestration/lib/dbt_freshness.py): recorded with the other checks;
    # same --vars as the build, so dbt reuses its parse
    freshness = dbt_build.invoke(dbt, ["source", "freshness", *dbt_build.dbt_vars(paths)], settings, paths,
                                 manifest=build.manifest).wait()
    with bridge.work() as con:
        stale = record_source_freshness(con, context.run.run_id, freshness.get_artifact("sources.json"),
                                        build.manifest)
    if stale:
        context.log.error(f"dbt source freshness: feed(s) past their error threshold: {stale}")


def dbt_resource() -> DbtCliResource:
    """The stock resource, running the venv's dbt (found whether or not the venv is on PATH)."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_env.DBT_EXECUTABLE)


def published_model_keys() -> list[dg.AssetKey]:
    return [k for k in warehouse_models.keys if k.path[0] in ("reporting", "restricted")]
