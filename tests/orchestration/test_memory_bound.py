"""BRIDGE_MEMORY_LIMIT: every DuckDB the bridge opens has the limit of its share and a place
to spill, dbt's connection included (orchestration/lib/warehouse.py MemoryBudget). Limits
are compared as DuckDB reads them back (current_setting), never by parsing its display."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from connectors import xapi
from orchestration.lib import dbt_env
from orchestration.lib.report.db import PublishedDb
from orchestration.lib.settings import Settings, SettingsError
from orchestration.lib.warehouse import (
    MemoryBudget,
    WarehousePaths,
    connect_read_only,
    connect_scratch,
    connect_work,
)

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, **extra: str) -> Settings:
    env = {"BRIDGE_WAREHOUSE": str(tmp_path / "wh" / "bridge.duckdb"), **extra}
    return Settings.from_env(env, dotenv_path=None, require_sources=False)


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return con.execute("select current_setting(?)", [name]).fetchone()[0]


def _as_duckdb_shows(limit: str) -> str:
    """What DuckDB reports for a database opened with `limit`."""
    con = duckdb.connect(config={"memory_limit": limit})
    try:
        return _setting(con, "memory_limit")
    finally:
        con.close()


@pytest.mark.parametrize(("text", "expected"), [("1GB", 10**9), ("512MiB", 512 * 2**20), ("2 gib", 2 * 2**30),
                                                 ("1.5GB", 1_500_000_000)])
def test_the_setting_is_read_as_duckdb_reads_sizes(tmp_path: Path, text: str, expected: int) -> None:
    assert _settings(tmp_path, BRIDGE_MEMORY_LIMIT=text).get("BRIDGE_MEMORY_LIMIT") == expected


@pytest.mark.parametrize("value", ["lots", "1XB", "100MB", "-1GB", "1048576"])
def test_a_bad_or_tiny_limit_is_refused_naming_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="BRIDGE_MEMORY_LIMIT"):
        _settings(tmp_path, BRIDGE_MEMORY_LIMIT=value)


def test_the_shares_never_add_up_to_more_than_the_whole() -> None:
    for total in (512 * 2**20, 2**30, 3 * 10**9 + 7):
        budget = MemoryBudget(total)
        assert budget.dbt + budget.work + budget.scratch <= total
        assert xapi.DECODER_MEMORY <= budget.scratch      # the page decoder is a scratch database


def test_every_connection_of_the_run_keeps_to_its_share(tmp_path: Path) -> None:
    paths = WarehousePaths.for_settings(_settings(tmp_path, BRIDGE_MEMORY_LIMIT="800MiB"))
    assert paths.memory.total == 800 * 2**20
    work = connect_work(paths)
    try:
        assert _setting(work, "memory_limit") == _as_duckdb_shows("300MiB")     # three eighths
        assert Path(_setting(work, "temp_directory")) == paths.work.with_name(paths.work.name + ".tmp")
        work.execute("create table t as select 1 as x")
        with work.cursor() as other:      # a feed's cursor shares the instance and its one limit
            assert _setting(other, "memory_limit") == _as_duckdb_shows("300MiB")
    finally:
        work.close()
    scratch = connect_scratch(paths)
    try:
        assert _setting(scratch, "memory_limit") == _as_duckdb_shows("100MiB")  # one eighth
        assert Path(_setting(scratch, "temp_directory")) == paths.work.with_name(paths.work.name + ".tmp")
    finally:
        scratch.close()
    reader = connect_read_only(paths, paths.work)
    try:
        assert _setting(reader, "memory_limit") == _as_duckdb_shows("300MiB")
    finally:
        reader.close()
    with PublishedDb(paths.work, paths.memory.scratch) as report:
        assert _setting(report.con, "memory_limit") == _as_duckdb_shows("100MiB")


def test_no_module_opens_duckdb_but_through_the_helper() -> None:
    """Every DuckDB the bridge opens has a limit: only connectors/duck.py calls duckdb.connect
    (dbt's connection is opened by dbt-duckdb, bounded by the profile below)."""
    callers = [str(p.relative_to(ROOT)) for folder in ("connectors", "orchestration")
               for p in (ROOT / folder).rglob("*.py") if re.search(r"duckdb\.connect\(", p.read_text())]
    assert callers == ["connectors/duck.py"]


def test_dbt_gets_half_and_spills_beside_the_work_file(tmp_path: Path) -> None:
    """The profile's `settings: memory_limit` comes from BRIDGE_DBT_MEMORY_LIMIT, which the
    bridge sets to dbt's share; the work-file plugin gives dbt-duckdb's connection its
    temp_directory (the profile names no per-warehouse path)."""
    from dbt.adapters.duckdb.plugins import BasePlugin

    settings = _settings(tmp_path)
    assert WarehousePaths.for_settings(settings).memory.total == 2**30
    env = dbt_env.dbt_environment(settings)
    assert env["BRIDGE_DBT_MEMORY_LIMIT"] == "512MiB"
    assert dbt_env.dbt_visible(env)["BRIDGE_DBT_MEMORY_LIMIT"] == "512MiB"   # it reaches dbt's process
    profile = (ROOT / "dbt_project" / "profiles.yml").read_text()
    # the profile's fallback is the default's share, so an unset variable keeps the bound
    assert "memory_limit: \"{{ env_var('BRIDGE_DBT_MEMORY_LIMIT', '512MiB') }}\"" in profile
    smaller = dbt_env.dbt_environment(_settings(tmp_path, BRIDGE_MEMORY_LIMIT="600MiB"))
    assert smaller["BRIDGE_DBT_MEMORY_LIMIT"] == "300MiB"

    with pytest.MonkeyPatch.context() as env_vars:
        env_vars.setenv("BRIDGE_WORK_DB", env["BRIDGE_WORK_DB"])
        plugin = BasePlugin.create("orchestration.lib.dbt_work_file", config={})
        creds = type("Creds", (), {"path": "/dev/null/bridge.duckdb"})()
        config: dict = {}
        plugin.update_connection_config(creds, config)
    assert creds.path == ":memory:"
    assert config["temp_directory"] == env["BRIDGE_WORK_DB"] + ".tmp"
