"""Shared test set-up: no telemetry, no network beyond loopback."""

import os

for key, value in {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(key, value)


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test` runs two workers, `--dist loadgroup`), a module runs
    on one worker: module fixtures (a simulator, a synced warehouse) and the order of a
    module's tests hold. Everything needing PostgreSQL shares one worker, so one session
    starts (and stops) the throwaway server."""
    import pytest

    for item in items:
        if any(m.name == "xdist_group" for m in item.iter_markers()):
            continue
        module = item.nodeid.split("::")[0]
        group = "postgres" if item.get_closest_marker("postgres") or module.startswith("tests/postgres/") else module
        item.add_marker(pytest.mark.xdist_group(group))
