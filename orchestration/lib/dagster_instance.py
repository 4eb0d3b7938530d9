"""The Dagster instance a `bridge sync` runs in."""

from __future__ import annotations

import os

import dagster as dg


def for_sync() -> dg.DagsterInstance:
    """DAGSTER_HOME's instance when set (the run shows in the UI), else Dagster's ephemeral one."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
