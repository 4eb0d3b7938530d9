"""The HRIS feed against scim2-server, a SCIM 2.0 server nobody on this project wrote.

Started with a bearer token and a service-provider configuration whose `filter.maxResults` is
smaller than the bridge's page size; users are created over plain SCIM POST with the enterprise
extension (managers first), changed by PATCH, and read back by the bridge: what lands in raw must
be what the server holds.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest
import requests

from connectors.config import HttpSettings, ScimConfig
from connectors.sync import extract_source
from orchestration.lib.extract_findings import ABSENCE_CHECK, record_extract_findings
from orchestration.lib.settings import SOURCE_VARIABLES, Settings
from orchestration.lib.source_config import bridge_sources
from tests.interop.dbt_run import run_models
from tests.third_party import scim2_server

LOG = logging.getLogger("test.interop.scim")
REPO = Path(__file__).resolve().parents[2]
TOKEN = "interop-scim-Tok3n"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_RESULTS = 7         # the server's cap; the bridge asks for 200 a page
PEOPLE = 30
HTTP = HttpSettings(connect_timeout=5, read_timeout=30, max_attempts=3, backoff_initial=0.05, backoff_max=0.2)
SPC = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "patch": {"supported": True},
    "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
    "filter": {"supported": True, "maxResults": MAX_RESULTS},
    "changePassword": {"supported": False},
    "sort": {"supported": False},
    "etag": {"supported": False},
    "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                               "description": "Authentication scheme using the OAuth Bearer Token Standard"}],
}

pytestmark = pytest.mark.interop


class Scim:
    """Plain SCIM calls, as an HR system's own tooling would make them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"})

    def post(self, user: dict) -> dict:
        resp = self.http.post(f"{self.base}/Users", json=user, timeout=10)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def patch(self, user_id: str, operations: list[dict]) -> dict:
        resp = self.http.patch(f"{self.base}/Users/{user_id}", timeout=10,
                               json={"schemas": [PATCH_OP], "Operations": operations})
        assert resp.status_code in (200, 204), resp.text
        return self.get(user_id)

    def get(self, user_id: str) -> dict:
        resp = self.http.get(f"{self.base}/Users/{user_id}", timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def all_users(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        start = 1
        while True:
            page = self.http.get(f"{self.base}/Users", params={"startIndex": start, "count": MAX_RESULTS},
                                 timeout=10).json().get("Resources") or []
            if not page:
                return out
            out.update({u["id"]: u for u in page})
            start += len(page)


def person(i: int, manager_id: str | None) -> dict:
    ent = {"employeeNumber": f"{i:05d}", "department": f"Dept {i % 4}", "division": "Operations",
           "costCenter": f"CC{i % 3}"}
    if manager_id:
        ent["manager"] = {"value": manager_id}
    return {"schemas": [CORE, ENT], "userName": f"person{i}@example.org", "externalId": f"ext-{i}",
            "name": {"givenName": f"Given{i}", "familyName": f"Family{i}"}, "displayName": f"Person {i}",
            "title": "Engineer" if i else "Director", "active": True,
            "emails": [{"value": f"person{i}@example.org", "type": "work", "primary": True}], ENT: ent}


def landed(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    rows = con.execute("""select record_id, payload from raw.hris__users
                          qualify row_number() over (partition by record_id order by batch_seq desc) = 1
                              and not is_deleted""").fetchall()
    return {rid: json.loads(payload) for rid, payload in rows}


@pytest.fixture
def server(tmp_path: Path):
    with scim2_server(tmp_path / "scim2-server", token=TOKEN, service_provider_config=SPC) as url:
        yield url


def populate(scim: Scim, people: int = PEOPLE) -> list[dict]:
    """Managers first: the director, four managers reporting to them, then staff under the managers."""
    created = [scim.post(person(0, None))]
    for i in range(1, 5):
        created.append(scim.post(person(i, created[0]["id"])))
    for i in range(5, people):
        created.append(scim.post(person(i, created[1 + i % 4]["id"])))
    return created


def staged_users(work: Path, tmp: Path) -> dict[str, tuple]:
    """stg_hris__users built by the project's own dbt models on the landed raw layer."""
    rows = run_models(work, tmp, "+stg_hris__users", """
        select scim_id, employee_number_raw, source_title, department, manager_scim_id, employment_type,
               location, is_scim_active
        from {schema}.stg_hris__users""")
    return {r[0]: r[1:] for r in rows}


def test_full_then_incremental_pull_lands_what_the_server_holds(server: str, tmp_path: Path) -> None:
    scim = Scim(server)
    created = populate(scim)
    config = ScimConfig(base_url=server, token=TOKEN, http=HTTP)      # page_size 200 > maxResults 7

    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    [full] = extract_source(con, "hris", config, "run-1", date(2026, 6, 1), LOG)
    assert full.mode == "full"
    assert full.records == PEOPLE and full.pages == -(-PEOPLE // MAX_RESULTS)
    assert landed(con) == scim.all_users()

    changed = {
        created[7]["id"]: scim.patch(created[7]["id"], [{"op": "replace", "path": "title", "value": "Lead Engineer"}]),
        created[8]["id"]: scim.patch(created[8]["id"], [{"op": "replace", "path": f"{ENT}:department",
                                                         "value": "Dept 9"}]),
        created[9]["id"]: scim.patch(created[9]["id"], [{"op": "replace", "path": f"{ENT}:employeeNumber",
                                                         "value": "00909"}]),
    }
    new = scim.post(person(PEOPLE, created[2]["id"]))
    changed[new["id"]] = new

    [incr] = extract_source(con, "hris", config, "run-2", date(2026, 6, 2), LOG)
    assert incr.mode == "incremental"
    assert incr.records == len(changed)         # the filter returned exactly the changed users
    server_now = scim.all_users()
    assert landed(con) == server_now
    assert landed(con)[created[9]["id"]][ENT]["employeeNumber"] == "00909"     # opaque: leading zeros kept
    con.close()


def settings_for(server: str, **extra: str) -> Settings:
    """The bridge's own settings path (environment -> Settings -> connector config)."""
    env = {name: "http://127.0.0.1:9/unused" if name.endswith("_URL") else "unused" for name in SOURCE_VARIABLES}
    env.update({"HRIS_SCIM_URL": server, "HRIS_SCIM_TOKEN": TOKEN, **extra})
    return Settings.from_env(env, dotenv_path=None)


def test_attribute_map_reads_a_server_that_keeps_the_employee_number_elsewhere(server: str, tmp_path: Path) -> None:
    """An HRIS that keeps the employee number in externalId, the kind of contract in userType and the
    place of work in the primary address: BRIDGE_SCIM_ATTRIBUTES (YAML) says so, staging reads it."""
    scim = Scim(server)
    users = []
    for i in range(6):
        user = person(i, None)
        user["externalId"] = f"E-{i:04d}"
        user["userType"] = "contractor" if i % 2 else "full_time"
        user["addresses"] = [{"type": "home", "locality": "Elsewhere"},
                             {"type": "work", "locality": f"Site {i % 2}", "primary": True}]
        users.append(scim.post(user))
    mapping = tmp_path / "scim_attributes.yaml"
    mapping.write_text("employeeNumber: urn:ietf:params:scim:schemas:core:2.0:User:externalId\n"
                       "employmentType: userType\nlocation: addresses.locality\n")
    config = bridge_sources(settings_for(server, BRIDGE_SCIM_ATTRIBUTES=str(mapping))).hris
    config = replace(config, http=HTTP)
    work = tmp_path / "work.duckdb"
    con = duckdb.connect(str(work))
    extract_source(con, "hris", config, "run-1", date(2026, 6, 1), LOG)
    raw = landed(con)
    con.close()
    for user in users:      # everything the server sent is kept; the mapped values sit at the contract's paths
        assert {k: v for k, v in raw[user["id"]].items() if k in user} == \
            {**user, ENT: {**user[ENT], "employeeNumber": user["externalId"]}}
    staged = staged_users(work, tmp_path)
    assert staged == {u["id"]: (u["externalId"], u["title"], u[ENT]["department"], None, u["userType"],
                                f"Site {i % 2}", True) for i, u in enumerate(users)}


def test_a_token_that_sees_part_of_the_hris_terminates_no_one(server: str, tmp_path: Path) -> None:
    scim = Scim(server)
    created = populate(scim)
    config = ScimConfig(base_url=server, token=TOKEN, http=HTTP, full_refresh_days=1)
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    extract_source(con, "hris", config, "run-1", date(2026, 6, 1), LOG)
    gone = created[-3:]                      # 3 of 30 (10 %) no longer listed, as a narrowed token would show
    for user in gone:
        assert scim.http.delete(f"{server}/Users/{user['id']}", timeout=10).status_code == 204

    results = extract_source(con, "hris", config, "run-2", date(2026, 6, 2), LOG)
    [finding] = record_extract_findings(con, "run-2", results, config.max_absence_termination_rate)
    assert results[0].mode == "full" and results[0].absent_held == 3
    assert con.execute("select count(*) from raw.hris__users where is_deleted").fetchone()[0] == 0
    row = con.execute("select severity, success, unexpected_count, observed_value from audit.dq_result "
                      "where run_id = 'run-2' and check_name = ?", [ABSENCE_CHECK]).fetchone()
    assert row[:3] == ("blocking", False, 3) and row[3].startswith("3 of 30 active users") and not finding.success

    wider = replace(config, max_absence_termination_rate=0.2)     # HR confirmed the leavers
    results = extract_source(con, "hris", wider, "run-3", date(2026, 6, 2), LOG)    # same day: full again
    [finding] = record_extract_findings(con, "run-3", results, wider.max_absence_termination_rate)
    assert results[0].mode == "full" and finding.success
    deleted = {r[0] for r in con.execute("select record_id from raw.hris__users where is_deleted").fetchall()}
    assert deleted == {u["id"] for u in gone}
    con.close()


def test_rfc_7643_enterprise_user_lands_as_the_server_holds_it(server: str, tmp_path: Path) -> None:
    """RFC 7643 8.3's full enterprise user (addresses, phone numbers, x509 certificates...), sent over
    plain SCIM POST: every attribute the server keeps lands raw as served."""
    rfc = json.loads((REPO / "tests/connectors/fixtures/scim/rfc7643-8.3-enterprise-user.json").read_text())
    sent = {k: v for k, v in rfc.items() if k not in ("id", "meta")}     # the server assigns those
    scim = Scim(server)
    held = scim.post(sent)
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    [res] = extract_source(con, "hris", ScimConfig(base_url=server, token=TOKEN, http=HTTP), "run-1",
                           date(2026, 6, 1), LOG)
    assert res.records == 1 and landed(con) == {held["id"]: scim.get(held["id"])}
    assert landed(con)[held["id"]][ENT]["employeeNumber"] == rfc[ENT]["employeeNumber"]
    con.close()
