"""When the nightly build rebuilds its incremental models (orchestration/lib/dbt_incremental.py):
a changed model, macro, upstream model or seed, a failed build, an erasure."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import dbt_incremental

MANIFEST = Path(__file__).resolve().parents[2] / "dbt_project" / "target" / "manifest.json"
XAPI = "model.hris_lms_bridge.stg_xapi__statements"
UNVOIDED = "model.hris_lms_bridge.int_learning__statements_unvoided"
CHECKINS = "model.hris_lms_bridge.stg_checkins__checkins"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("create schema bridge_state")
    return c


def _built(manifest: dict, *uids: str, status: str = "success") -> dict:
    return {"results": [{"unique_id": u, "status": status} for u in uids]}


def test_the_project_has_incremental_models(manifest) -> None:
    assert {XAPI, UNVOIDED, CHECKINS} <= set(dbt_incremental.fingerprints(manifest))


def test_nothing_recorded_means_a_full_refresh_and_a_recorded_build_none(con, manifest) -> None:
    every = sorted(u.rsplit(".", 1)[-1] for u in dbt_incremental.fingerprints(manifest))
    assert dbt_incremental.stale_models(con, manifest) == every
    dbt_incremental.record_built(con, _built(manifest, *dbt_incremental.fingerprints(manifest)), manifest)
    assert dbt_incremental.stale_models(con, manifest) == []


def test_a_failed_model_keeps_no_record(con, manifest) -> None:
    ok = [u for u in dbt_incremental.fingerprints(manifest) if u != CHECKINS]
    dbt_incremental.record_built(con, {"results": [*_built(manifest, *ok)["results"],
                                                   {"unique_id": CHECKINS, "status": "error"}]}, manifest)
    assert dbt_incremental.stale_models(con, manifest) == ["stg_checkins__checkins"]


def test_changed_code_upstream_or_in_a_macro_makes_the_model_stale(con, manifest) -> None:
    dbt_incremental.record_built(con, _built(manifest, *dbt_incremental.fingerprints(manifest)), manifest)

    changed = copy.deepcopy(manifest)
    changed["nodes"][XAPI]["checksum"]["checksum"] = "0" * 64      # its SQL changed
    # downstream of it too: the unvoided statements were built from the old parse
    assert {"stg_xapi__statements", "int_learning__statements_unvoided"} <= set(
        dbt_incremental.stale_models(con, changed))
    assert "stg_checkins__checkins" not in dbt_incremental.stale_models(con, changed)

    changed = copy.deepcopy(manifest)
    changed["macros"]["macro.hris_lms_bridge.json_text_columns"]["macro_sql"] += " "
    assert "stg_checkins__checkins" in dbt_incremental.stale_models(con, changed)

    changed = copy.deepcopy(manifest)
    changed["nodes"][CHECKINS]["config"]["unique_key"] = "objective_id"
    # and what is built on it: the learning events resolve actors through identity links,
    # which read the check-ins' e-mails
    assert dbt_incremental.stale_models(con, changed) == ["int_learning__events", "stg_checkins__checkins"]


def test_forget_makes_every_model_stale(con, manifest) -> None:
    dbt_incremental.record_built(con, _built(manifest, *dbt_incremental.fingerprints(manifest)), manifest)
    dbt_incremental.forget(con)
    assert len(dbt_incremental.stale_models(con, manifest)) == len(dbt_incremental.fingerprints(manifest))
