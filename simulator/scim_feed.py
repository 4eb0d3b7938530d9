"""SCIM 2.0 User resources (RFC 7643) built from the HRIS truth, with the employment extension."""
from __future__ import annotations

import hashlib

from simulator.catalogue import DEPARTMENTS, ORGANIZATION, TITLE_BY_NAME, TITLES
from simulator.clock import day_str
from simulator.org import Employee, Org
from simulator.store import dumps

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EMPLOYMENT = "urn:hris-lms-bridge:scim:extension:employment:1.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
MAX_RESULTS = 200


def user_resource(e: Employee, org: Org, base_url: str) -> dict:
    st = e.state
    dept = DEPARTMENTS[st.dept]
    title = TITLE_BY_NAME[st.title]
    ent: dict = {"employeeNumber": e.employee_number, "costCenter": dept.cost_center,
                 "organization": ORGANIZATION, "division": dept.division, "department": dept.name}
    if st.manager >= 0:
        m = org.employees[st.manager]
        ent["manager"] = {"value": m.scim_id, "$ref": f"{base_url}/Users/{m.scim_id}",
                          "displayName": f"{m.given} {m.family}"}
    emp = {"hireDate": day_str(e.hire_day), "terminationDate": day_str(e.term_day) if e.term_day else None,
           "employmentType": e.employment_type, "fte": st.fte, "location": dept.location,
           "frontline": dept.frontline and e.role in ("staff", "lead"), "jobCode": job_code(title.name)}
    version = hashlib.sha1(f"{e.scim_id}{e.modified_ms}".encode()).hexdigest()[:16]
    dialect = org.dialect
    res = {
        "schemas": [CORE, ENTERPRISE, EMPLOYMENT],
        "id": e.scim_id,
        "externalId": e.employee_number,
        "userName": e.user_name,
        "name": {"formatted": f"{e.given} {e.family}", "givenName": e.given, "familyName": e.family},
        "displayName": f"{e.given} {e.family}",
        "title": st.title,
        "userType": "Contractor" if e.employment_type == "contractor" else "Employee",
        "emails": [{"value": dialect.hris_email(e.email, e.idx), "type": "work", "primary": True}],
        "active": st.active,
        ENTERPRISE: ent,
        EMPLOYMENT: emp,
        "meta": {"resourceType": "User", "created": dialect.stamp(e.created_ms),
                 "lastModified": dialect.stamp(e.modified_ms),
                 "location": f"{base_url}/Users/{e.scim_id}", "version": f'W/"{version}"'},
    }
    res = dialect.scim_user(res)
    apply_extra(res, e.extra)
    return res


def apply_extra(res: dict, extra: dict) -> None:
    """Injected dirt: `set` overrides dotted paths, `drop` removes them."""
    for path, value in extra.get("set", {}).items():
        node, *rest = path.split("|") if "|" in path else (path,)
        if rest:
            res.setdefault(node, {})[rest[0]] = value
        else:
            res[node] = value
    for path in extra.get("drop", ()):
        if "|" in path:
            node, key = path.split("|", 1)
            if isinstance(res.get(node), dict):
                res[node].pop(key, None)
        else:
            res.pop(path, None)


def user_bytes(e: Employee, org: Org, base_url: str) -> bytes:
    if e.scim_cache is None:
        e.scim_cache = dumps(user_resource(e, org, base_url))
    return e.scim_cache


_JOB_CODES = {t.name: f"J{1000 + i}" for i, t in enumerate(TITLES)}


def job_code(title: str) -> str:
    return _JOB_CODES[title]


def service_provider_config(base_url: str, filter_supported: bool, max_results: int = MAX_RESULTS) -> dict:
    return {
        "schemas": [SPC],
        "documentationUri": "https://hris.example-corp.com/help/scim",
        "patch": {"supported": False},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": filter_supported, "maxResults": max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                                   "description": "Authentication scheme using the OAuth Bearer Token Standard",
                                   "specUri": "http://www.rfc-editor.org/info/rfc6750", "primary": True}],
        "meta": {"location": f"{base_url}/ServiceProviderConfig", "resourceType": "ServiceProviderConfig"},
    }


def error(status: int, detail: str, scim_type: str | None = None) -> dict:
    body = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body
