"""dbt-duckdb plugin: dbt works in the file BRIDGE_WORK_DB names, attached as catalog `bridge`.

dbt discards its partial-parse cache whenever the profile's connection settings change, and
a DuckDB `path` is one of them: with the path in profiles.yml, every new warehouse (and every
copy of one) paid a full parse, about 8 s, on its first sync. The profile therefore names a
constant path that cannot be opened, and this plugin connects to memory instead and attaches
the run's real file under a constant name, so one parse serves every warehouse.

The run's process starts dbt while it still holds the file (it reads the raw feeds' frames
for their suites as dbt parses), so attaching waits for the file to be free, as a database
client waits out a lock; a lock held longer fails with DuckDB's error naming its holder.
"""

from __future__ import annotations

import os
import time
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from connectors.duck import temp_directory_for

CATALOG = "bridge"  # the profile's `database`
LOCK_WAIT_SECONDS = 120.0


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        # Called just before dbt-duckdb connects to creds.path; the profile's placeholder
        # path (under /dev/null) would fail loudly if this plugin were ever left out.
        creds.path = ":memory:"
        # spills beside the work file (BRIDGE_WORK_DB), set here and not in the profile: a
        # per-warehouse value in the profile would void the partial-parse cache as `path` did
        path = os.environ.get("BRIDGE_WORK_DB")
        if path:
            config["temp_directory"] = str(temp_directory_for(path))

    def configure_connection(self, conn: Any) -> None:
        path = os.environ.get("BRIDGE_WORK_DB")
        if not path:
            raise RuntimeError("BRIDGE_WORK_DB is not set: dbt does not know which warehouse file to build in")
        attach_when_free(conn, path)
        conn.execute(f"use {CATALOG}")

    def configure_cursor(self, cursor: Any) -> None:
        # each cursor is a connection of its own, with its own default catalog
        cursor.execute(f"use {CATALOG}")


def attach_when_free(conn: Any, path: str, timeout: float = LOCK_WAIT_SECONDS) -> None:
    """Attach `path` as CATALOG, waiting up to `timeout` for another process's lock on it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute(f"attach '{path.replace(chr(39), chr(39) * 2)}' as {CATALOG}")
            return
        except duckdb.IOException as exc:
            if "Conflicting lock" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.05)
