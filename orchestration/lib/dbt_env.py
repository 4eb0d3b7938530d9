"""What dbt's process gets of the environment.

dagster-dbt starts dbt with a copy of this process's environment (`DbtCliResource.cli`), and
this process holds the sources' tokens and passwords and the warehouse URL, which dbt never
needs. So while dagster-dbt starts dbt, the environment is narrowed to what dbt reads
(`for_dbt`), then restored: dbt's own variables (DBT_*, which includes dbt's names for a
project's own: DBT_ENV_SECRET_*, DBT_ENV_CUSTOM_ENV_*), those the dbt project reads
(profiles.yml, macros/time.sql, int_identity__source_records, the sources' freshness thresholds) and the system's basics.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from connectors import duck
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehousePaths

DBT_ENV_PREFIXES = ("DBT_", "BRIDGE_PG_", "BRIDGE_FRESHNESS_", "PG", "PYTHON", "LC_", "DAGSTER")
DBT_ENV_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "VIRTUAL_ENV", "DO_NOT_TRACK",
    "BRIDGE_WORK_DB", "BRIDGE_AS_OF", "LRS_ACCOUNT_HOMEPAGE", "BRIDGE_DBT_MEMORY_LIMIT",
})
# No network beyond loopback. What dbt-core 1.10/1.11 contacts, and what stops it:
# - anonymous usage tracking (Snowplow): the documented switch, DBT_SEND_ANONYMOUS_USAGE_STATS
#   =false (dbt_environment; also `flags: send_anonymous_usage_stats: false` in
#   dbt_project.yml, and DO_NOT_TRACK=1): with it dbt sends nothing;
# - `dbt --version`, which dagster-dbt runs once per run: it always asks PyPI for the latest
#   dbt-core and of each adapter. No documented flag turns that off (dbt-labs/dbt-core#6992;
#   DBT_VERSION_CHECK / --no-version-check is about `require-dbt-version`, not the network).
# So dbt's process also sends HTTP(S) through a closed loopback port (the standard proxy
# variables): only that PyPI lookup is left for it to stop; it fails at once and dbt prints
# no latest version. dbt needs no HTTP otherwise (no `dbt deps` at run time).
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
# The dbt installed beside this interpreter (the venv's), whether or not the venv is on PATH.
VENV_BIN = Path(sys.executable).parent
DBT_EXECUTABLE = str(VENV_BIN / "dbt")


def dbt_visible(env: Mapping[str, str]) -> dict[str, str]:
    """The part of `env` dbt's process gets (DBT_ENV_PREFIXES, DBT_ENV_NAMES)."""
    return {k: v for k, v in env.items() if k in DBT_ENV_NAMES or k.startswith(DBT_ENV_PREFIXES)}


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What a run's dbt needs (the Postgres password only for the postgres target)."""
    paths = WarehousePaths.for_settings(settings)
    env = {
        "BRIDGE_WORK_DB": str(paths.work),
        # dbt's share of BRIDGE_MEMORY_LIMIT (profiles.yml `settings:`)
        "BRIDGE_DBT_MEMORY_LIMIT": duck.limit_text(paths.memory.dbt),
        "LRS_ACCOUNT_HOMEPAGE": settings.sources.get("LRS_ACCOUNT_HOMEPAGE", ""),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
        # No dbt.log: dagster-dbt repeats each of dbt's lines in the run's own log (Dagster's
        # event log; logs/sync-*.log). An operator can set it (e.g. `debug`) to have one again.
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


@contextmanager
def for_dbt(extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """The process environment narrowed to dbt_visible() plus `extra`, OFFLINE, with the venv's
    `bin` first on PATH, for the block that starts dbt (`DbtCliResource.cli`, a preparer), then
    put back as it was. Steps run one at a time (the in-process executor), so nothing else
    of the run reads the environment meanwhile."""
    saved = dict(os.environ)
    narrowed = {**dbt_visible(saved), **(extra or {}), **OFFLINE}
    narrowed["PATH"] = os.pathsep.join([str(VENV_BIN), narrowed.get("PATH", os.defpath)])
    try:
        os.environ.clear()
        os.environ.update(narrowed)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
