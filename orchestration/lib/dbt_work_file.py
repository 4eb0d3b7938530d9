"""dbt-duckdb plugin: dbt works in the file BRIDGE_WORK_DB names, attached as catalog `bridge`.

dbt discards its partial-parse cache whenever the profile's connection settings change, and
a DuckDB `path` is one of them: with the path in profiles.yml, every new warehouse (and every
copy of one) paid a full parse, about 8 s, on its first sync. The profile therefore names a
constant path that cannot be opened, and this plugin connects to memory instead and attaches
the run's real file under a constant name, so one parse serves every warehouse.
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

CATALOG = "bridge"  # the profile's `database`


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        # Called just before dbt-duckdb connects to creds.path; the profile's placeholder
        # path (under /dev/null) would fail loudly if this plugin were ever left out.
        creds.path = ":memory:"

    def configure_connection(self, conn: Any) -> None:
        path = os.environ.get("BRIDGE_WORK_DB")
        if not path:
            raise RuntimeError("BRIDGE_WORK_DB is not set: dbt does not know which warehouse file to build in")
        conn.execute(f"attach '{path.replace(chr(39), chr(39) * 2)}' as {CATALOG}")
        conn.execute(f"use {CATALOG}")

    def configure_cursor(self, cursor: Any) -> None:
        # each cursor is a connection of its own, with its own default catalog
        cursor.execute(f"use {CATALOG}")
