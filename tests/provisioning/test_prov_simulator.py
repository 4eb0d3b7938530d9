"""Provisioning the simulator's LMS over SCIM: its truth says what a correct provisioning leaves."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
import requests

from connectors.config import HttpSettings
from connectors.errors import AuthError
from connectors.scim_provision import ENTERPRISE, ScimTarget, ScimTargetConfig
from orchestration.lib.provisioning import run as provisioning
from orchestration.lib.provisioning.apply import apply_plan
from orchestration.lib.provisioning.audit_rows import write_results
from orchestration.lib.provisioning.config import ProvisioningConfig
from tests.provisioning.conftest import person, work_db
from tests.provisioning.truth_people import assert_lms_as_truth_says, people_from_truth
from tests.provisioning.truth_people import lms_users as truth_lms_users
from tests.waiting import wait_until

FAST = HttpSettings(read_timeout=2.0, max_attempts=10, backoff_initial=0.01, backoff_max=0.05, retry_after_cap=0.05)


def config(sim, **kw) -> ProvisioningConfig:
    return ProvisioningConfig(**{"mode": "apply", "url": sim.env["LMS_SCIM_URL"], "token": sim.env["LMS_SCIM_TOKEN"],
                                 "max_deactivations": 1000, "max_change_rate": 1.0, "page_size": 40, **kw})


def as_of(sim) -> date:
    return date.fromisoformat(sim.env["BRIDGE_AS_OF"])


def lms_users(sim) -> dict[str, dict]:
    return truth_lms_users(sim.env)


def writes(sim) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, n in sim.stats().items():
        if key.startswith("lms_scim:") and not key.startswith("lms_scim:GET"):
            method = key.split(":", 1)[1].split(" ")[0]
            out[method] = out.get(method, 0) + n
    return out


def add_new_hires(people: duckdb.DuckDBPyConnection, manager: str) -> None:
    """A new team (manager and two reports) the LMS has never seen: created, managers first."""
    people.executemany("insert into reporting.dim_employee values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        person("990003", "new.dev@example-corp.com", "New Dev", "Software Engineer", manager="990001"),
        person("990001", "new.lead@example-corp.com", "New Lead", "Engineering Manager", manager=manager),
        person("990002", "new.qa@example-corp.com", "New QA", "QA Engineer", manager="990001"),
    ])


def test_apply_leaves_what_the_truth_says_and_a_second_apply_sends_nothing(sim) -> None:
    people = people_from_truth(sim.truth_dir)
    ceo = people.execute("select employee_number from reporting.dim_employee "
                         "where manager_employee_number is null and is_active").fetchone()[0]
    add_new_hires(people, ceo)
    before = lms_users(sim)
    work = work_db()
    out = provisioning.provision(work, people, config(sim), "run-1", as_of(sim), apply=True, http=FAST)

    counts = out.plan.counts()
    assert counts["create"] == 3 and counts["update"] > 100 and counts["conflict"] == 0
    assert out.plan.lms_users == len(before)                      # every page read (page size 40)
    assert out.report.statuses == {"applied": len(out.plan.changes)}
    assert out.report.read_back_differences == []
    # the plan was recorded before anything was sent, one result per change
    assert work.execute("select count(distinct employee_number) from audit.provisioning_change "
                        "where run_id = 'run-1' and action <> 'skip'").fetchone()[0] == len(out.plan.changes)
    assert work.execute("select count(*) from audit.provisioning_result where run_id = 'run-1'").fetchone()[0] \
        == len(out.plan.changes)

    after = lms_users(sim)
    assert assert_lms_as_truth_says(sim.truth_dir, before, after) > 150
    by_number = {u["externalId"]: u for u in after.values() if u.get("externalId")}
    assert by_number["990003"][ENTERPRISE]["manager"]["value"] == by_number["990001"]["id"]

    sent = writes(sim)
    assert sent["POST"] == 3 and "DELETE" not in sent and "PUT" not in sent
    again = provisioning.provision(work, people, config(sim), "run-2", as_of(sim), apply=True, http=FAST)
    assert again.plan.changes == [] and writes(sim) == sent


def test_faults_are_retried_and_a_user_that_fails_does_not_stop_the_others(sim) -> None:
    people = people_from_truth(sim.truth_dir)
    trainer = next(u for u in lms_users(sim).values() if "partner-academy" in u["userName"])
    victim = people.execute("select employee_number from reporting.dim_employee where is_active "
                            "order by employee_number limit 1").fetchone()[0]
    # the HRIS gives one person an address an unknown LMS user already holds: that PATCH gets a 409
    people.execute("update reporting.dim_employee set email = ? where employee_number = ?",
                   [trainer["userName"], victim])
    sim.set_faults(0.2)
    work = work_db()
    out = provisioning.provision(work, people, config(sim), "run-f", as_of(sim), apply=True, http=FAST)
    sim.set_faults(0.0)
    assert out.report.statuses["failed"] == 1 and out.report.statuses["applied"] == len(out.plan.changes) - 1
    assert sum(v for k, v in sim.stats().items() if k.startswith("fault:lms_scim")) > 0
    [row] = work.execute("select employee_number, http_status, error from audit.provisioning_result "
                         "where status = 'failed'").fetchall()
    assert row[0] == victim and row[1] == 409 and "uniqueness" in row[2] and "@" not in row[2]
    # the next run plans again from what the LMS holds: only the failed user is left
    again = provisioning.provision(work, people, config(sim), "run-g", as_of(sim), apply=False, http=FAST)
    assert [ch.employee_number for ch in again.plan.changes] == [victim]


def test_a_409_on_create_is_a_conflict_unless_the_user_is_our_own_earlier_create(sim) -> None:
    people = people_from_truth(sim.truth_dir)
    add_new_hires(people, None)
    cfg = config(sim)
    plan, caps = provisioning.compute_plan(people, cfg, as_of(sim), FAST)
    headers = {"Authorization": f"Bearer {cfg.token}", "Content-Type": "application/scim+json"}
    # between plan and apply, someone else takes one address, and our own lost create lands another
    for user_name, ext in (("new.qa@example-corp.com", "somebody-else"), ("new.dev@example-corp.com", "990003")):
        resp = requests.post(f"{cfg.url}/Users", headers=headers, timeout=5,
                             data=json.dumps({"schemas": [], "userName": user_name, "externalId": ext}))
        assert resp.status_code == 201
    work = work_db()
    report = apply_plan(plan, caps, lambda: ScimTarget(provisioning.target_config(cfg, FAST)), "run-c",
                        record=lambda rows: write_results(work, rows))
    results = {r[0]: r[1:] for r in work.execute(
        "select employee_number, status, http_status from audit.provisioning_result").fetchall()}
    assert results["990002"] == ("failed", 409)
    assert results["990003"] == ("unchanged", 409)
    assert results["990001"] == ("applied", 201)
    assert [(n.action, n.employee_number) for n in report.conflicts] == [("conflict", "990002")]


def test_a_process_killed_mid_apply_loses_nothing(sim, tmp_path: Path) -> None:
    people_file = tmp_path / "people.duckdb"
    src = people_from_truth(sim.truth_dir)
    src.execute(f"attach '{people_file}' as f")
    src.execute("create schema f.reporting")
    src.execute("create table f.reporting.dim_employee as select * from reporting.dim_employee")
    src.close()
    work_file = tmp_path / "work.duckdb"
    script = f"""
import duckdb
from datetime import date
from connectors.config import HttpSettings
from connectors.landing import ensure_schema
from orchestration.lib.provisioning import run
from orchestration.lib.provisioning.config import ProvisioningConfig
work = duckdb.connect({str(work_file)!r}); ensure_schema(work)
people = duckdb.connect({str(people_file)!r}, read_only=True)
cfg = ProvisioningConfig(mode="apply", url={sim.env["LMS_SCIM_URL"]!r}, token={sim.env["LMS_SCIM_TOKEN"]!r},
                         max_change_rate=1.0, workers=1)
run.provision(work, people, cfg, "killed", date.fromisoformat({sim.env["BRIDGE_AS_OF"]!r}), apply=True,
              http=HttpSettings(retry_after_cap=0.3, backoff_initial=0.3, backoff_max=0.3))
"""
    sim.set_faults(0.3)                                        # slow enough to be caught in the middle
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[2])
    def mid_apply() -> bool:
        assert proc.poll() is None, "the apply ended before it was killed"
        return writes(sim).get("PATCH", 0) >= 15

    wait_until(mid_apply, "the apply never sent 15 PATCHes", interval=0.05)
    proc.kill()
    proc.wait()
    sim.set_faults(0.0)
    con = duckdb.connect(str(work_file))
    planned = con.execute("select count(distinct employee_number) from audit.provisioning_change "
                          "where run_id = 'killed'").fetchone()[0]
    assert planned > 100                                         # the whole plan was recorded first
    con.close()
    people = duckdb.connect(str(people_file), read_only=True)
    work = work_db()
    resumed = provisioning.provision(work, people, config(sim), "next", as_of(sim), apply=True, http=FAST)
    assert 0 < len(resumed.plan.changes) < planned             # what was applied is not planned again
    assert resumed.report.statuses == {"applied": len(resumed.plan.changes)}
    assert provisioning.provision(work, people, config(sim), "last", as_of(sim), apply=False,
                                  http=FAST).plan.changes == []


def test_the_token_is_never_logged_recorded_or_raised(sim, caplog: pytest.LogCaptureFixture) -> None:
    token = sim.env["LMS_SCIM_TOKEN"]
    people = people_from_truth(sim.truth_dir)
    sim.set_faults(0.2)
    work = work_db()
    with caplog.at_level(logging.DEBUG):
        provisioning.provision(work, people, config(sim), "run-s", as_of(sim), apply=True, http=FAST)
    sim.set_faults(0.0)
    assert "retry" in caplog.text and token not in caplog.text
    for table in ("provisioning_change", "provisioning_result", "dq_result"):
        text = work.execute(f"select coalesce(string_agg(t::varchar, ' '), '') from audit.{table} t").fetchone()[0]
        assert text and token not in text
    with pytest.raises(AuthError) as refused, \
            ScimTarget(ScimTargetConfig(sim.env["LMS_SCIM_URL"], "wrong-" + token)) as t:
        t.capabilities()
    assert token not in str(refused.value) and refused.value.status == 401
