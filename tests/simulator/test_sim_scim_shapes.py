"""SCIM responses have the shapes of the RFC 7643/7644 examples in tests/connectors/fixtures/scim/."""
from __future__ import annotations

import json
from pathlib import Path

import requests

FIXTURES = Path(__file__).resolve().parents[1] / "connectors" / "fixtures" / "scim"


def _types(value):
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(value[0])] if value else []
    return type(value).__name__


def _get(sim, path, **params):
    env = sim.env
    r = requests.get(f"{env['HRIS_SCIM_URL']}{path}", params=params, timeout=5,
                     headers={"Authorization": f"Bearer {env['HRIS_SCIM_TOKEN']}"})
    assert r.status_code == 200
    return r.json()


def test_user_has_rfc_enterprise_user_shape(pilot):
    rfc = json.loads((FIXTURES / "rfc7643-8.3-enterprise-user.json").read_text())
    user = _get(pilot, "/Users", startIndex=1, count=3)["Resources"][1]
    for key in ("schemas", "id", "externalId", "userName", "name", "displayName", "title", "emails", "active", "meta"):
        assert key in user
        assert type(user[key]) is type(rfc[key]), key
    ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    assert set(user[ent]) <= set(rfc[ent]) and "employeeNumber" in user[ent]
    assert set(user[ent]["manager"]) <= set(rfc[ent]["manager"])
    assert set(rfc["meta"]) >= set(user["meta"]) >= {"resourceType", "created", "lastModified", "location"}
    assert set(user["emails"][0]) == set(rfc["emails"][0])
    assert user["schemas"][:2] == rfc["schemas"]
    assert user["meta"]["location"].endswith(f"/Users/{user['id']}")


def test_service_provider_config_and_list_shapes(pilot):
    rfc = json.loads((FIXTURES / "rfc7643-8.5-service-provider-config.json").read_text())
    spc = _get(pilot, "/ServiceProviderConfig")
    assert spc["schemas"] == rfc["schemas"]
    for key in ("patch", "bulk", "filter", "changePassword", "sort", "etag"):
        assert _types(spc[key]).keys() == _types(rfc[key]).keys(), key
    assert spc["filter"]["maxResults"] == rfc["filter"]["maxResults"]
    lst = json.loads((FIXTURES / "rfc7644-3.4.2-list-response-partial.json").read_text())
    page = _get(pilot, "/Users", startIndex=2, count=5)
    assert page["schemas"] == lst["schemas"]
    assert set(lst) <= set(page) and page["startIndex"] == 2 and page["itemsPerPage"] == 5
    one = _get(pilot, f"/Users/{page['Resources'][0]['id']}")
    assert one == page["Resources"][0]
