"""Provisioning the LMS from a PostgreSQL warehouse: the nightly sync with
BRIDGE_LMS_PROVISIONING=apply leaves the simulator's LMS as its truth says, the plan and its
results land in Postgres' audit schema, and `bridge provision` reads what Postgres published."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import pg_rows, scratch_database
from tests.provisioning.test_prov_simulator import writes
from tests.provisioning.truth_people import assert_lms_as_truth_says, lms_users

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.simulator]

BRIDGE = [sys.executable, "-m", "orchestration.cli"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from simulator import Simulator

    with Simulator("pilot", seed=23, workdir=tmp_path_factory.mktemp("pg-prov-sim")) as s:
        yield s


def bridge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*BRIDGE, *args], env=env, capture_output=True, text=True, timeout=1200, check=False)


@pytest.fixture(scope="module")
def provisioned(sim, pg_server, tmp_path_factory: pytest.TempPathFactory):
    """One nightly sync into a fresh Postgres database that provisions the LMS as it goes."""
    with scratch_database(pg_server, "bridge_prov") as target:
        url = target.url(with_password=True)
        env = {**os.environ, **sim.env, "BRIDGE_WAREHOUSE": url,
               "BRIDGE_WORK_DIR": str(tmp_path_factory.mktemp("pg-prov-work")),
               "BRIDGE_LMS_PROVISIONING": "apply",
               "BRIDGE_PROVISIONING_MAX_CHANGE_RATE": "1.0"}   # a first provisioning changes everyone
        for unset in ("BRIDGE_ALERT_WEBHOOK_URL", "BRIDGE_PROVISIONING_SCOPE"):
            env.pop(unset, None)
        before = lms_users(sim.env)
        synced = bridge(env, "sync")
        assert synced.returncode == 0, synced.stdout[-3000:] + synced.stderr[-3000:]
        yield url, env, before



def test_the_nightly_sync_on_postgres_provisions_the_lms_as_the_truth_says(sim, provisioned) -> None:
    before = provisioned[2]
    assert assert_lms_as_truth_says(sim.truth_dir, before, lms_users(sim.env)) > 150
    sent = writes(sim)
    assert sent.get("PATCH", 0) > 150 and "DELETE" not in sent and "PUT" not in sent


def test_the_plan_and_its_results_are_in_the_postgres_audit_schema(provisioned, tmp_path: Path) -> None:
    url, env, _ = provisioned
    [(run_id,)] = pg_rows(url, "select run_id from audit.publication where status = 'published'")
    planned = pg_rows(url, "select action, count(distinct employee_number) from audit.provisioning_change "
                           "where run_id = %s and action not in ('skip', 'conflict') group by 1", (run_id,))
    results = dict(pg_rows(url, "select status, count(*) from audit.provisioning_result where run_id = %s "
                                "group by 1", (run_id,)))
    by_action = dict(planned)
    assert by_action.get("update", 0) > 150
    assert results == {"applied": sum(by_action.values())}
    # one result per planned user, under the same employee numbers
    assert pg_rows(url, "select count(*) from (select distinct employee_number from audit.provisioning_change "
                        "where run_id = %(r)s and action not in ('skip', 'conflict') except "
                        "select employee_number from audit.provisioning_result where run_id = %(r)s) x",
                   {"r": run_id}) == [(0,)]
    checks = pg_rows(url, "select check_name, success from audit.dq_result where run_id = %s and check_name in "
                          "('provisioning_safeguards', 'provisioning_read_back') order by 1", (run_id,))
    assert checks == [("provisioning_read_back", True), ("provisioning_safeguards", True)]
    # an auditor's machine has no work file: `bridge audit` reads them from Postgres, as the Audit page does
    audit = bridge({**env, "BRIDGE_WORK_DIR": str(tmp_path)}, "audit", "--run-id", run_id)
    assert audit.returncode == 0, audit.stderr[-2000:]
    assert "provisioning the LMS: planned" in audit.stdout and f"update applied {by_action['update']}" in audit.stdout
    page = (Path(env["BRIDGE_WORK_DIR"]) / "report" / "audit.html").read_text(encoding="utf-8")
    assert 'id="provisioning"' in page and 'data-status="applied"' in page


def test_bridge_provision_plans_and_applies_from_what_postgres_published(sim, provisioned, tmp_path: Path) -> None:
    url, env, _ = provisioned
    token = sim.env["LMS_SCIM_TOKEN"]
    plain = bridge(env, "provision", "--plan")
    assert plain.returncode == 0, plain.stdout[-3000:] + plain.stderr[-3000:]
    assert "create 0, update 0, reactivate 0, deactivate 0" in plain.stdout

    # someone edits a title in the LMS by hand: the plan (on a machine with no work file) puts it back
    base = sim.env["LMS_SCIM_URL"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    drifted = next(u for u in lms_users(sim.env).values() if u.get("externalId") and u["active"])
    resp = requests.patch(f"{base}/Users/{drifted['id']}", headers=headers, timeout=10, data=json.dumps(
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
         "Operations": [{"op": "replace", "path": "title", "value": "Chief Vibes Officer"}]}))
    assert resp.status_code == 200
    sent = writes(sim)
    plan = bridge({**env, "BRIDGE_WORK_DIR": str(tmp_path / "elsewhere")}, "provision", "--plan")
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
    assert "create 0, update 1, reactivate 0, deactivate 0" in plan.stdout
    [line] = [ln for ln in plan.stdout.splitlines() if ln.strip().startswith("update ")]
    assert drifted["externalId"] in line and "Chief Vibes Officer" in line and drifted["title"] in line
    assert token not in plan.stdout + plan.stderr
    assert writes(sim) == sent      # a plan sends nothing

    applied = bridge(env, "provision", "--apply")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    assert "applied 1" in applied.stdout and token not in applied.stdout
    assert lms_users(sim.env)[drifted["id"]]["title"] == drifted["title"]
    # the apply's result is appended to Postgres' audit schema, under the latest publication
    assert pg_rows(url, "select r.status from audit.provisioning_result r join audit.publication p using (run_id) "
                        "where p.status = 'published' and r.employee_number = %s order by r.attempted_at",
                   (drifted["externalId"],)) == [("applied",), ("applied",)]
