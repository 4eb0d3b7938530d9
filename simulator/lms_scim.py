"""The LMS's SCIM 2.0 endpoint (RFC 7643/7644), the one the bridge provisions (CONTRACT section 5).

A view over the LMS's own users (the REST `users` log: their spellings of e-mails, employee numbers
with leading zeros or missing, unknown external trainers, the ambiguous extra user) plus what SCIM
clients wrote. The LMS was loaded once from a CSV: it knows each user's e-mail, number, active flag
and its own spelling of their job title, nothing else, so a first provisioning updates everyone.
`userName`, `externalId` and `active` written over SCIM flow back into the REST `users` records.
"""
from __future__ import annotations

import json
import random
import re
from typing import Any, ClassVar

from simulator.catalogue import DEPARTMENTS
from simulator.clock import iso_ms
from simulator.http_common import BadRequest, Handler
from simulator.scim_feed import CORE, ENTERPRISE, ERROR, LIST_RESPONSE, SPC
from simulator.store import dumps
from simulator.titles import spelling_for

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_RESULTS = 1000
_EQ = re.compile(r'^\s*([A-Za-z.:\[\]"\s0-9_]+?)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_CORE_ATTRS = ("userName", "name", "displayName", "title", "emails", "active", "externalId")
_ENT_ATTRS = ("employeeNumber", "costCenter", "organization", "division", "department", "manager")


def _schema(sid: str, name: str, attrs: tuple[str, ...]) -> dict:
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"], "id": sid, "name": name,
            "attributes": [{"name": a, "type": "complex" if a in ("name", "emails", "manager") else
                            ("boolean" if a == "active" else "string"), "mutability": "readWrite",
                            "multiValued": a == "emails", "required": a == "userName"} for a in attrs]}


class LmsDirectory:
    """The LMS's users as SCIM resources; call with the world's lock held."""

    def __init__(self, world) -> None:
        self.world = world
        self.overlay: dict[int, dict[str, Any]] = {}    # attributes written over SCIM, per LMS user id
        self._titles: dict[int, str | None] = {}
        self._cache: dict[int, tuple[int | None, bytes | None]] = {}   # id -> (REST log position, JSON)

    @property
    def log(self):
        return self.world.lms.logs["users"]

    def ids(self) -> list[int]:
        log = self.log
        return [rid for rid in log.latest if rid not in log.deleted]

    def _title(self, uid: int) -> str | None:
        if uid not in self._titles:
            idx, _ = self.world.lms.user_key.get(uid, (-1, ""))
            title = None
            if idx >= 0:  # the LMS's spelling of the title the person had when the LMS was loaded
                e = self.world.org.employees[idx]
                title = spelling_for(e.history[0].title, random.Random(f"lms-scim-{uid}"), 0.5, 0.15)
            self._titles[uid] = title
        return self._titles[uid]

    def resource_bytes(self, uid: int, base: str) -> bytes | None:
        """The user's JSON, cached until its REST record moves (every SCIM write puts one)."""
        pos = self.log.latest.get(uid)
        hit = self._cache.get(uid)
        if hit is not None and hit[0] == pos:
            return hit[1]
        res = self._build(uid, base)
        data = None if res is None else dumps(res)
        self._cache[uid] = (pos, data)
        return data

    def resource(self, uid: int, base: str) -> dict | None:
        data = self.resource_bytes(uid, base)
        return None if data is None else json.loads(data)

    def _build(self, uid: int, base: str) -> dict | None:
        rec = self.log.current(uid)
        if rec is None or rec.get("deleted"):
            return None
        res: dict[str, Any] = {"schemas": [CORE], "id": str(uid), "userName": rec.get("email"),
                               "emails": [{"value": rec.get("email"), "type": "work", "primary": True}],
                               "active": bool(rec.get("active", True))}
        if rec.get("employee_number"):
            res["externalId"] = rec["employee_number"]
            res["schemas"].append(ENTERPRISE)
            res[ENTERPRISE] = {"employeeNumber": rec["employee_number"]}
        if (title := self._title(uid)) is not None:
            res["title"] = title
        for key, value in self.overlay.get(uid, {}).items():
            if key == ENTERPRISE:
                if ENTERPRISE not in res["schemas"]:
                    res["schemas"].append(ENTERPRISE)
                res.setdefault(ENTERPRISE, {}).update(value)
            else:
                res[key] = value
        res["meta"] = {"resourceType": "User", "location": f"{base}/Users/{uid}",
                       "lastModified": iso_ms(self.world.lms.logs["users"].keys[self.log.latest[uid]])}
        return res

    def find(self, attr: str, value: str, base: str) -> list[dict]:
        attr = attr.replace(" ", "").lower()
        if attr == "username":   # the uniqueness index answers this one
            holder = self._names().get(value.strip().lower())
            return [self.resource(holder, base)] if holder is not None else []
        out = []
        for uid in self.ids():
            r = self.resource(uid, base)
            if attr == "externalid":
                hit = r.get("externalId") == value
            elif attr in ("emails.value", 'emails[typeeq"work"].value'):
                hit = any((e.get("value") or "").lower() == value.lower() for e in r.get("emails") or [])
            else:
                raise BadRequest(400, scim_error(400, f"filtering on {attr} is not supported", "invalidFilter"))
            if hit:
                out.append(r)
        return out

    def _names(self) -> dict[str, int]:
        """userName (trimmed, lower-cased: caseExact false) -> user id, rebuilt when the log moved."""
        log = self.log
        if getattr(self, "_names_at", -1) != len(log.keys):
            self._by_name = {}
            for rid, rec in log.current_items():
                if not rec.get("deleted") and isinstance(rec.get("email"), str):
                    self._by_name[rec["email"].strip().lower()] = rid
            self._names_at = len(log.keys)
        return self._by_name

    def taken(self, user_name: str, but: int | None = None) -> bool:
        holder = self._names().get(user_name.strip().lower())
        return holder is not None and holder != but

    # -- writes -------------------------------------------------------------------------------
    def create(self, body: dict, base: str) -> dict:
        user_name = body.get("userName")
        if not isinstance(user_name, str) or not user_name.strip():
            raise BadRequest(400, scim_error(400, "userName is required", "invalidValue"))
        if self.taken(user_name):
            raise BadRequest(409, scim_error(409, "userName is already in use", "uniqueness"))
        lms = self.world.lms
        uid = lms.new_id("users", 50_000)
        lms.user_key[uid] = (-1, "scim")
        self._titles[uid] = None
        self.overlay[uid] = {}
        self._write(uid, body, {"id": uid, "email": user_name, "employee_number": body.get("externalId"),
                                "active": body.get("active", True) is not False})
        return self.resource(uid, base)

    def patch(self, uid: int, body: dict, base: str) -> dict:
        if PATCH_OP not in (body.get("schemas") or []):
            raise BadRequest(400, scim_error(400, "not a PatchOp", "invalidSyntax"))
        current = self.resource(uid, base)
        if current is None:
            raise BadRequest(404, scim_error(404, f"User {uid} not found"))
        changes: dict[str, Any] = {}
        for op in body.get("Operations") or []:
            kind = str(op.get("op", "")).lower()
            if kind not in ("replace", "add"):
                raise BadRequest(400, scim_error(400, f"unsupported op {op.get('op')}", "invalidSyntax"))
            path, value = op.get("path"), op.get("value")
            if path is None and isinstance(value, dict):
                changes.update(value)
            elif isinstance(path, str):
                _set_path(changes, path, value)
            else:
                raise BadRequest(400, scim_error(400, "operation has no path and no object value", "noTarget"))
        if "active" in changes and not isinstance(changes["active"], bool):
            raise BadRequest(400, scim_error(400, "active must be a JSON boolean", "invalidValue"))
        if isinstance(changes.get("userName"), str) and self.taken(changes["userName"], but=uid):
            raise BadRequest(409, scim_error(409, "userName is already in use", "uniqueness"))
        rest = self.log.current(uid)
        self._write(uid, changes, {**rest, "email": changes.get("userName", rest.get("email")),
                                   "employee_number": changes.get("externalId", rest.get("employee_number")),
                                   "active": changes.get("active", rest.get("active"))})
        return self.resource(uid, base)

    def _write(self, uid: int, attrs: dict, rest: dict) -> None:
        over = self.overlay.setdefault(uid, {})
        for key, value in attrs.items():
            if key in ("schemas", "id", "meta", "active", "userName", "externalId"):
                continue               # kept in the REST record (the world terminates people there too)
            if key == ENTERPRISE and isinstance(value, dict):
                over.setdefault(ENTERPRISE, {}).update(value)
            elif key in _CORE_ATTRS:
                over[key] = value
        log = self.log
        ms = max(self.world.now_ms, log.keys[-1] if log.keys else 0) + 1
        rest["updated_at"] = iso_ms(ms)
        names = self._names()
        old = log.current(uid)
        log.put(uid, ms, dumps(rest))
        if old and isinstance(old.get("email"), str) and names.get(old["email"].strip().lower()) == uid:
            del names[old["email"].strip().lower()]
        if isinstance(rest.get("email"), str):
            names[rest["email"].strip().lower()] = uid
        self._names_at = len(log.keys)   # kept current by hand: no rebuild per write


def _set_path(changes: dict, path: str, value: Any) -> None:
    if path.startswith(ENTERPRISE + ":"):
        changes.setdefault(ENTERPRISE, {})[path[len(ENTERPRISE) + 1:]] = value
    elif path.startswith(CORE + ":"):
        _set_path(changes, path[len(CORE) + 1:], value)
    elif "." in path and "[" not in path:
        parent, child = path.split(".", 1)
        changes.setdefault(parent, {})[child] = value
    elif path in _CORE_ATTRS:
        changes[path] = value
    else:
        raise BadRequest(400, scim_error(400, f"unsupported path {path}", "invalidPath"))


def scim_error(status: int, detail: str, scim_type: str | None = None) -> dict:
    body = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


def service_provider_config(base: str, filter_supported: bool) -> dict:
    return {"schemas": [SPC], "patch": {"supported": True}, "bulk": {"supported": False, "maxOperations": 0,
                                                                      "maxPayloadSize": 0},
            "filter": {"supported": filter_supported, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": False}, "sort": {"supported": False}, "etag": {"supported": False},
            "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                                       "description": "Bearer token", "primary": True}],
            "meta": {"location": f"{base}/ServiceProviderConfig", "resourceType": "ServiceProviderConfig"}}


def _list(resources: list, total: int | None = None, start: int = 1) -> bytes:
    return dumps({"schemas": [LIST_RESPONSE], "totalResults": len(resources) if total is None else total,
                  "startIndex": start, "itemsPerPage": len(resources), "Resources": resources})


class LmsScimHandler(Handler):
    server_name = "lms_scim"
    fault_paths = ("/scim/v2/Users",)
    SCIM: ClassVar[dict[str, str]] = {"Content-Type": "application/scim+json"}

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def route(self, method: str, path: str, query: dict[str, str]):
        app = self.app
        if self.bearer() != app.creds["LMS_SCIM_TOKEN"]:
            raise BadRequest(401, scim_error(401, "Bearer token missing or invalid"),
                             {"WWW-Authenticate": 'Bearer realm="lms-scim"'})
        base = app.env["LMS_SCIM_URL"]
        world = app.world
        with world.lock:
            directory = app.lms_directory()
            if path == "/scim/v2/ServiceProviderConfig" and method == "GET":
                return 200, service_provider_config(base, world.filter_supported), self.SCIM
            if path == "/scim/v2/Schemas" and method == "GET":
                return 200, _list([_schema(CORE, "User", _CORE_ATTRS),
                                   _schema(ENTERPRISE, "EnterpriseUser", _ENT_ATTRS)]), self.SCIM
            if path == "/scim/v2/ResourceTypes" and method == "GET":
                return 200, _list([{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                                    "id": "User", "name": "User", "endpoint": "/Users", "schema": CORE,
                                    "schemaExtensions": [{"schema": ENTERPRISE, "required": False}]}]), self.SCIM
            if path == "/scim/v2/Users":
                if method == "POST":
                    return 201, directory.create(self._json(), base), self.SCIM
                if method != "GET":
                    raise BadRequest(405, scim_error(405, f"{method} not allowed on /Users"))
                return 200, self._users(directory, query, base), self.SCIM
            if path.startswith("/scim/v2/Users/"):
                try:
                    uid = int(path.rsplit("/", 1)[1])
                except ValueError:
                    raise BadRequest(404, scim_error(404, "User not found")) from None
                if method == "GET":
                    res = directory.resource(uid, base)
                    if res is None:
                        raise BadRequest(404, scim_error(404, f"User {uid} not found"))
                    return 200, res, self.SCIM
                if method == "PATCH":
                    return 200, directory.patch(uid, self._json(), base), self.SCIM
                raise BadRequest(405, scim_error(405, f"{method} is not allowed here"))  # no PUT, no DELETE
        raise BadRequest(404, scim_error(404, f"no resource at {method} {path}"))

    def _json(self) -> dict:
        try:
            body = json.loads(self.body or b"{}")
        except ValueError:
            raise BadRequest(400, scim_error(400, "body is not JSON", "invalidSyntax")) from None
        if not isinstance(body, dict):
            raise BadRequest(400, scim_error(400, "body is not an object", "invalidSyntax"))
        return body

    def _users(self, directory: LmsDirectory, query: dict[str, str], base: str) -> bytes:
        flt = query.get("filter")
        if flt:
            if not self.app.world.filter_supported:
                raise BadRequest(400, scim_error(400, "filtering is not supported", "invalidFilter"))
            m = _EQ.match(flt)
            if not m:
                raise BadRequest(400, scim_error(400, "only `attribute eq \"value\"` filters", "invalidFilter"))
            return _list(directory.find(m.group(1), m.group(2).replace('\\"', '"'), base))
        try:
            start = max(1, int(query.get("startIndex") or 1))
            count = max(0, min(int(query.get("count") or 100), MAX_RESULTS))
        except ValueError:
            raise BadRequest(400, scim_error(400, "startIndex and count are integers", "invalidValue")) from None
        ids = directory.ids()
        page = [b for uid in ids[start - 1:start - 1 + count] if (b := directory.resource_bytes(uid, base))]
        return (b'{"schemas":["' + LIST_RESPONSE.encode() + b'"],"totalResults":' + str(len(ids)).encode()
                + b',"startIndex":' + str(start).encode() + b',"itemsPerPage":' + str(len(page)).encode()
                + b',"Resources":[' + b",".join(page) + b"]}")


def expected_rows(world) -> list[list[str]]:
    """What a correct provisioning of everyone leaves in the LMS, per HRIS-known person: `active`
    (a user with these attributes), `inactive` (their user deactivated), `unchanged` (absent from the
    HRIS: not evidence of a termination) or `none` (never had a user and is not active)."""
    org, lms = world.org, world.lms
    rows = []
    for e in org.employees:
        if not world.hris_known(e):
            continue
        st = e.state
        d = DEPARTMENTS[st.dept]
        mgr = org.employees[st.manager].employee_number if st.manager >= 0 else ""
        if e.absent:
            expect = "unchanged"
        elif e.active:
            expect = "active"
        else:
            expect = "inactive" if e.idx in lms.user_of else "none"
        rows.append([e.employee_number, expect, e.email, st.title, d.name, d.division, d.cost_center, mgr])
    return rows


def write_lms_truth(world) -> None:
    """truth/lms_provisioning.csv and truth/lms_untouched_users.csv (simulator/README.md)."""
    import csv

    out = world.workdir / "truth"
    out.mkdir(parents=True, exist_ok=True)
    untouched = [[str(uid), reason] for uid, (idx, reason) in world.lms.user_key.items()
                 if idx < 0 and reason != "scim"]
    for name, header, rows in (
        ("lms_provisioning.csv", ["employee_number", "expect", "user_name", "title", "department", "division",
                                  "cost_center", "manager_employee_number"], expected_rows(world)),
        ("lms_untouched_users.csv", ["lms_user_id", "reason"], untouched),
    ):
        tmp = out / f"{name}.part"
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        tmp.replace(out / name)
