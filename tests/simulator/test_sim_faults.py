"""Fault mode: faults happen, and a retrying client ends up with exactly the fault-free data."""
from __future__ import annotations

import requests
from sim_protocol import TIMEOUT, lms_token, rest_list, retrying, scim_users, xapi_statements


def test_faults_occur_and_retrying_gets_the_same_data(fresh):
    env = fresh.env
    clean_users = {u["id"] for u in scim_users(env, count=50)}
    clean_stmts, _, _ = xapi_statements(env, limit=500)
    token = lms_token(env)
    clean_obs = rest_list(env["LMS_URL"], "/api/v1/observations", token, limit=40)
    clean_ck = rest_list(env["CHECKINS_URL"], "/api/v1/objectives", env["CHECKINS_TOKEN"], limit=100)

    fresh.set_faults(0.25)
    users = scim_users(env, count=50, retry=True)
    stmts, _, _ = xapi_statements(env, limit=500, retry=True)
    token = retrying(lambda: lms_token(env))
    obs = rest_list(env["LMS_URL"], "/api/v1/observations", token, limit=40, retry=True)
    ck = rest_list(env["CHECKINS_URL"], "/api/v1/objectives", env["CHECKINS_TOKEN"], limit=100, retry=True)
    fresh.set_faults(0.0)

    faults = {k.rsplit(":", 1)[1] for k, v in fresh.stats().items() if k.startswith("fault:") and v}
    assert faults <= {"500", "502", "503", "429", "drop", "stall", "truncate", "duplicate"}
    assert len(faults) >= 5
    # re-delivery happens (a page served twice) but keyed by id nothing is lost or invented
    assert {u["id"] for u in users} == clean_users
    assert {s["id"] for s in stmts} == {s["id"] for s in clean_stmts}
    assert {r["id"]: r for r in obs} == {r["id"]: r for r in clean_obs}
    assert {r["id"]: r for r in ck} == {r["id"]: r for r in clean_ck}
    assert len(stmts) + len(obs) + len(ck) > len(clean_stmts) + len(clean_obs) + len(clean_ck) or \
        "duplicate" not in faults


def test_token_expiry_gives_401_then_refresh_works(fresh):
    env = fresh.env
    token = lms_token(env)
    url = f"{env['LMS_URL']}/api/v1/courses"
    ok = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert ok.status_code == 200
    fresh.expire_tokens()
    expired = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert expired.status_code == 401
    again = requests.get(url, headers={"Authorization": f"Bearer {lms_token(env)}"}, timeout=TIMEOUT)
    assert again.status_code == 200 and again.json()["data"]
    bad = requests.post(f"{env['LMS_URL']}/oauth/token", timeout=TIMEOUT,
                        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"})
    assert bad.status_code == 401


def test_no_filter_mode(fresh):
    env = fresh.env
    h = {"Authorization": f"Bearer {env['HRIS_SCIM_TOKEN']}"}
    fresh.set_filter(False)
    spc = requests.get(f"{env['HRIS_SCIM_URL']}/ServiceProviderConfig", headers=h, timeout=TIMEOUT).json()
    assert spc["filter"]["supported"] is False
    r = requests.get(f"{env['HRIS_SCIM_URL']}/Users", headers=h, timeout=TIMEOUT,
                     params={"filter": 'meta.lastModified gt "2026-01-01T00:00:00Z"'})
    assert r.status_code == 400 and r.json()["scimType"] == "invalidFilter"
    fresh.set_filter(True)
    r = requests.get(f"{env['HRIS_SCIM_URL']}/Users", headers=h, timeout=TIMEOUT,
                     params={"filter": 'meta.lastModified gt "2026-01-01T00:00:00Z"'})
    assert r.status_code == 200 and 0 < r.json()["totalResults"]
