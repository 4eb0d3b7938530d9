"""Resources built from the environment (docs/contract.md section 1)."""


from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehousePaths, connect_work


class BridgeResource(dg.ConfigurableResource):
    """Settings and the work database. Reads the environment (and `.env`) when used, so a
    missing variable fails the first step with one line naming it."""

    dotenv_path: str = ".env"

    def settings(self) -> Settings:
        return Settings.from_env(dotenv_path=self.dotenv_path)

    def paths(self) -> WarehousePaths:
        settings = self.settings()
        return WarehousePaths.for_settings(settings)

    @contextmanager
    def work(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection: DuckDB has one writer process per file, and dbt runs in
        a subprocess, so no step may hold the file open across another's work."""
        from connectors.landing import ensure_schema

        con = connect_work(self.paths())
        try:
            ensure_schema(con)
            yield con
        finally:
            con.close()


def trigger_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> str:
    tags = context.run.tags
    if "dagster/schedule_name" in tags:
        return "schedule"
    if "dagster/sensor_name" in tags:
        return "sensor"
    return tags.get("bridge/trigger", "manual")
