"""Interoperability: the bridge provisions scim2-server (PyPI), an independent SCIM 2.0 server,
from a published warehouse through creates, updates, a manager change, a termination, a rehire and
a plan held by a safeguard; afterwards the server holds exactly the desired state."""

from __future__ import annotations

import json
from datetime import date

import requests

from connectors.scim_provision import ENTERPRISE, ScimTarget, ScimTargetConfig
from orchestration.lib.provisioning import run as provisioning
from orchestration.lib.provisioning.config import ProvisioningConfig
from tests.provisioning.conftest import SCIM2_TOKEN, people_db, person, work_db

AS_OF = date(2026, 12, 1)


def team() -> dict[str, tuple]:
    return {p[0]: p for p in (
        person("00001", "ann.chief@example.org", "Ann Chief", "Chief Executive Officer", "Board", "Corporate",
               "CC100"),
        person("00002", "bo.lead@example.org", "Bo Lead", "Engineering Manager", manager="00001"),
        person("00003", "cy.dev@example.org", "Cy Dev", "Software Engineer", manager="00002"),
        person("00004", "di.dev@example.org", "Di Dev", "Software Engineer", manager="00002"),
        person("00005", "ed.ops@example.org", "Ed Ops", "Operations Analyst", "Service", "Operations", "CC300",
               manager="00001"),
        person("00006", "fay.gone@example.org", "Fay Gone", "Analyst", active=False, term="2025-01-31"),
    )}


def server_users(base: str) -> dict[str, dict]:
    with ScimTarget(ScimTargetConfig(base, SCIM2_TOKEN, page_size=2)) as t:   # pages of 2: paging for real
        return {u["id"]: u for u in t.all_users()}


def assert_server_holds(base: str, people: dict[str, tuple], admin_id: str, admin_before: dict) -> None:
    users = server_users(base)
    assert users[admin_id] == admin_before                       # never touched: the bridge cannot match it
    by_number = {u.get("externalId"): u for u in users.values() if u.get("externalId")}
    for en, p in people.items():
        _, email, name, _, title, dept, div, cc, manager, active, term, _ = p
        u = by_number.get(en)
        if u is None:
            assert not active and en == "00006"                     # a leaver is never created
            continue
        ent = u[ENTERPRISE]
        assert (u["userName"], u["displayName"], u["name"]["formatted"], u["title"], u["active"],
                u["emails"][0]["value"]) == (email, name, name, title, active and term is None, email), en
        assert (ent["employeeNumber"], ent["department"], ent["division"], ent["costCenter"]) == (en, dept, div, cc)
        if manager:
            assert ent["manager"]["value"] == by_number[manager]["id"], en
    assert len(users) == 1 + sum(1 for en in people if en != "00006")


def test_the_bridge_provisions_scim2_server(scim2_server: str, tmp_path, webhook) -> None:
    hook_url, alerts = webhook
    headers = {"Authorization": f"Bearer {SCIM2_TOKEN}", "Content-Type": "application/scim+json"}
    admin = requests.post(f"{scim2_server}/Users", headers=headers, timeout=5, data=json.dumps({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "lms-admin"})).json()
    admin_before = server_users(scim2_server)[admin["id"]]
    cfg = ProvisioningConfig(mode="apply", url=scim2_server, token=SCIM2_TOKEN, page_size=2)
    work = work_db()
    people = team()

    def run(run_id: str, **kw) -> provisioning.Outcome:
        con = people_db(list(people.values()), tmp_path / "published.duckdb")
        try:
            return provisioning.provision(work, con, cfg, run_id, AS_OF, apply=True, webhook_url=hook_url, **kw)
        finally:
            con.close()

    # 1. creates (no LMS user yet: the change rate has no one to measure against)
    first = run("r1")
    assert first.plan.counts()["create"] == 5 and first.report.statuses == {"applied": 5}
    assert first.report.read_back_differences == []
    assert_server_holds(scim2_server, people, admin["id"], admin_before)

    # 2. an update, a manager change and a termination: 2 of 5 users change title/manager (40%),
    #    over BRIDGE_PROVISIONING_MAX_CHANGE_RATE 10%: the whole plan is held and nothing is sent
    people["00003"] = people["00003"][:4] + ("Senior Software Engineer",) + people["00003"][5:]
    people["00004"] = people["00004"][:8] + ("00001",) + people["00004"][9:]
    people["00005"] = people["00005"][:9] + (False, "2026-11-30", None)
    before = server_users(scim2_server)
    held = run("r2")
    assert held.held and held.report is None and server_users(scim2_server) == before
    assert {ch.action for ch in held.plan.changes} == {"update", "deactivate"}
    assert work.execute("select distinct status from audit.provisioning_result where run_id = 'r2'").fetchall() \
        == [("held",)]
    assert work.execute("select success from audit.dq_result where run_id = 'r2' and check_name = ?",
                        [provisioning.SAFEGUARD_CHECK]).fetchall() == [(False,)]
    assert [a["run_id"] for a in alerts] == ["r2"] and alerts[0]["blocking_checks"] == [provisioning.SAFEGUARD_CHECK]

    # ... applied after review
    reviewed = run("r3", allow_over_threshold=True)
    assert sorted((ch.action, ch.employee_number) for ch in reviewed.plan.changes) == [
        ("deactivate", "00005"), ("update", "00003"), ("update", "00004")]
    assert reviewed.report.statuses == {"applied": 3} and reviewed.report.read_back_differences == []
    assert_server_holds(scim2_server, people, admin["id"], admin_before)

    # 3. a rehire is a reactivation
    people["00005"] = people["00005"][:9] + (True, None, None)
    rehire = run("r4")
    assert [(ch.action, ch.fields) for ch in rehire.plan.changes] == [("reactivate", [("active", False, True)])]
    assert_server_holds(scim2_server, people, admin["id"], admin_before)

    # 4. applying again sends nothing: the server's resources keep their versions
    versions = {uid: u["meta"].get("version") or u["meta"]["lastModified"] for uid, u in
                server_users(scim2_server).items()}
    again = run("r5")
    assert again.plan.changes == [] and again.report.statuses == {}
    assert {uid: u["meta"].get("version") or u["meta"]["lastModified"] for uid, u in
            server_users(scim2_server).items()} == versions
