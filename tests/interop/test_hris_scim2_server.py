"""The HRIS feed against scim2-server, a SCIM 2.0 server nobody on this project wrote.

Started with a bearer token and a service-provider configuration whose `filter.maxResults` is
smaller than the bridge's page size; users are created over plain SCIM POST with the enterprise
extension (managers first), changed by PATCH, and read back by the bridge: what lands in raw must
be what the server holds.
"""
from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import duckdb
import pytest
import requests

from connectors.config import HttpSettings, ScimConfig
from connectors.sync import extract_source
from tests.third_party import scim2_server

LOG = logging.getLogger("test.interop.scim")
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
    import json
    rows = con.execute("""select record_id, payload from raw.hris__users
                          qualify row_number() over (partition by record_id order by batch_seq desc) = 1
                              and not is_deleted""").fetchall()
    return {rid: json.loads(payload) for rid, payload in rows}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with scim2_server(tmp_path_factory.mktemp("scim2-server"), token=TOKEN, service_provider_config=SPC) as url:
        yield url


def test_full_then_incremental_pull_lands_what_the_server_holds(server: str, tmp_path: Path) -> None:
    scim = Scim(server)
    created = [scim.post(person(0, None))]                         # the director first: managers before reports
    for i in range(1, 5):
        created.append(scim.post(person(i, created[0]["id"])))
    for i in range(5, PEOPLE):
        created.append(scim.post(person(i, created[1 + i % 4]["id"])))
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
