"""The Dagster instance a `bridge sync` runs in: the one DAGSTER_HOME configures, or, without
it, Dagster's ephemeral in-memory instance with an event log that keeps one connection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import sqlalchemy as db
from dagster._core.instance import InstanceType
from dagster._core.launcher.sync_in_memory_run_launcher import SyncInMemoryRunLauncher
from dagster._core.run_coordinator import DefaultRunCoordinator
from dagster._core.storage.event_log import InMemoryEventLogStorage
from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
from dagster._core.storage.root import TemporaryLocalArtifactStorage
from dagster._core.storage.runs import InMemoryRunStorage


class HeldConnectionEventLog(InMemoryEventLogStorage):
    """Dagster's in-memory event log, storing through the one connection it already holds.

    The stock class opens a new SQLite connection, with two PRAGMAs, for every statement,
    and another to ask whether a table exists: about 1.5 ms of each of the ~1,100 events a
    nightly run stores (planned assets and checks, materializations, check results). The
    in-memory database lives exactly as long as that held connection, and the stock class
    already serialises every statement under one lock, so nothing else changes."""

    def __init__(self, inst_data=None, preload=None):
        super().__init__(inst_data=inst_data, preload=preload)
        self._schema_facts: dict[str, bool] = {}  # has_table and asset_keys columns, once
        # once per connection (a PRAGMA inside a transaction is ignored)
        self._held_conn.execute(db.text("PRAGMA foreign_keys=ON;")).close()
        self._held_conn.commit()

    @contextmanager
    def _connect(self) -> Iterator[db.Connection]:
        with self._db_lock, self._held_conn.begin():
            yield self._held_conn

    def has_table(self, table_name: str) -> bool:
        # the schema is created once, in __init__, and never altered (asked from inside
        # _connect too, so through a connection of its own: the lock is not reentrant)
        if table_name not in self._schema_facts:
            self._schema_facts[table_name] = super().has_table(table_name)
        return self._schema_facts[table_name]

    def _has_asset_key_col_on_connection(self, conn: db.Connection, column_name: str) -> bool:
        # asked (a PRAGMA table_info) for every asset event stored and asset record read
        key = f"asset_keys.{column_name}"
        if key not in self._schema_facts:
            self._schema_facts[key] = super()._has_asset_key_col_on_connection(conn, column_name)
        return self._schema_facts[key]


def ephemeral() -> dg.DagsterInstance:
    """As `DagsterInstance.ephemeral()`, with HeldConnectionEventLog."""
    return dg.DagsterInstance(
        instance_type=InstanceType.EPHEMERAL,
        local_artifact_storage=TemporaryLocalArtifactStorage(),
        run_storage=InMemoryRunStorage(),
        event_storage=HeldConnectionEventLog(),
        compute_log_manager=NoOpComputeLogManager(),
        run_coordinator=DefaultRunCoordinator(),
        run_launcher=SyncInMemoryRunLauncher(),
    )


def for_sync() -> dg.DagsterInstance:
    """DAGSTER_HOME's instance when set (the run shows in the UI), else an ephemeral one."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else ephemeral()
