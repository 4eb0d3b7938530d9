"""The nightly `dbt build`, started through dagster-dbt's DbtCliResource as it starts dbt."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource

from orchestration.lib import dbt_env, pg_warehouse
from orchestration.lib.dbt_project import PREPARED_PARSE
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehousePaths


def dbt_vars(paths: WarehousePaths) -> list[str]:
    """The --vars of every dbt command of a run: on Postgres, marts build into <schema>__build;
    publish swaps them in (write-audit-publish)."""
    return ["--vars", json.dumps({"publish_suffix": "__build"})] if paths.pg_url else []


def build_args(paths: WarehousePaths, *, full_refresh: bool = False) -> list[str]:
    """`dbt build`'s arguments. Failing tests must not raise mid-stream: their results are
    recorded for the audit trail first; Dagster then blocks everything downstream of a failed
    blocking test. Unit tests prove the SQL, not the night's data: CI runs them (tests/dbt),
    a nightly build need not repeat them (dbt's own advice for production runs).
    `full_refresh`: rebuild the incremental models from all of raw (orchestration/lib/dbt_incremental.py)."""
    return ["build", "--exclude-resource-type", "unit_test", *(["--full-refresh"] if full_refresh else []),
            *dbt_vars(paths)]


def start(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: Settings,
          paths: WarehousePaths, *, full_refresh: bool = False) -> DbtCliInvocation:
    """Start `dbt build` (the assets of the step's context) in its own process."""
    if paths.pg_url:
        pg_warehouse.prepare_run(paths.pg_url)  # empty build schemas: a blocked run's leftovers go
    # One target folder per warehouse, kept between runs (artifacts of concurrent warehouses
    # never mix); a new one starts from the parse `bridge prepare` made, which is valid for
    # every DuckDB warehouse (see orchestration/lib/dbt_work_file.py): a full parse is ~8 s.
    seed_partial_parse(paths.dbt_target)
    return invoke(dbt, build_args(paths, full_refresh=full_refresh), settings, paths, context=context)


def invoke(dbt: DbtCliResource, args: list[str], settings: Settings, paths: WarehousePaths, *,
           context: dg.AssetExecutionContext | None = None, manifest: Mapping[str, Any] | None = None,
           ) -> DbtCliInvocation:
    """Start one dbt command in the warehouse's target folder, with dbt's variables and none
    of the sources' secrets (dbt_env.for_dbt); failures are the caller's to read."""
    with dbt_env.for_dbt(dbt_env.dbt_environment(settings)):
        # the target as the settings say now, not as they were when the definitions loaded
        return dbt.cli([*args, "--target", settings.dbt_target], context=context, manifest=manifest,
                       raise_on_error=False, target_path=paths.dbt_target)


@contextmanager
def ended_on_failure(invocation: DbtCliInvocation) -> Iterator[DbtCliInvocation]:
    """Never leave dbt running (and holding the DuckDB write lock) if the step fails."""
    try:
        yield invocation
    finally:
        if invocation.process.poll() is None:
            invocation.process.terminate()
            invocation.process.wait(timeout=30)


def seed_partial_parse(target: Path, prepared: Path = PREPARED_PARSE) -> None:
    """dbt's partial-parse file (target/partial_parse.msgpack), copied from the prepared
    project into a new target folder; dbt checks it (profile, vars, file checksums) and
    re-parses what differs."""
    cache = target / "partial_parse.msgpack"
    if not cache.exists() and prepared.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(prepared, cache)
