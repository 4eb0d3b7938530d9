"""The attributes the bridge writes to an LMS user (CONTRACT section 5): where each lives in a
SCIM User, how it is compared, how it is sent, and which declaration lets it be written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.scim_provision import CORE, ENTERPRISE, Capabilities


def number_key(value: Any) -> str | None:
    """Employee numbers compare after trimming and removing leading zeros (CONTRACT section 3)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text.lstrip("0") or "0"


def email_key(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()


def work_email(resource: dict[str, Any]) -> str | None:
    """The primary e-mail, else the first `work` one, else the first (as the HRIS reader picks)."""
    first = work = None
    for e in resource.get("emails") or ():      # one pass: a plan reads this of every LMS user, twice
        if not isinstance(e, dict) or not isinstance(value := e.get("value"), str):
            continue
        if e.get("primary") is True:
            return value
        if work is None and e.get("type") == "work":
            work = value
        if first is None:
            first = value
    return work if work is not None else first


def _ent(resource: dict[str, Any]) -> dict[str, Any]:
    ent = resource.get(ENTERPRISE)
    return ent if isinstance(ent, dict) else {}


def _manager(resource: dict[str, Any]) -> str | None:
    m = _ent(resource).get("manager")
    if isinstance(m, dict):
        m = m.get("value")
    return str(m) if m not in (None, "") else None


def _active(resource: dict[str, Any]) -> bool:
    value = resource.get("active", True)
    if isinstance(value, str):           # some servers answer "true"/"false"
        return value.strip().lower() != "false"
    return value is not False


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Field:
    name: str                                   # as written in audit.provisioning_change.field
    read: Callable[[dict[str, Any]], Any]       # current value from a SCIM resource
    schema: str                                 # CORE or ENTERPRISE
    attribute: str                              # the declared top-level attribute that must exist
    case_insensitive: bool = False              # RFC 7643: userName and emails are caseExact=false

    def supported(self, caps: Capabilities) -> bool:
        if self.schema == CORE:
            return self.attribute in caps.core_attributes
        return caps.enterprise and self.attribute in caps.enterprise_attributes

    def same(self, current: Any, desired: Any) -> bool:
        if current == desired and type(current) is type(desired):
            return True
        if self.name == "active":
            return bool(current) == bool(desired)
        if self.case_insensitive and isinstance(current, str) and isinstance(desired, str):
            return current.lower() == desired.lower()
        return _text(current) == _text(desired)

    def operation(self, value: Any) -> dict[str, Any]:
        """One PATCH `replace` operation (RFC 7644 3.5.2.3), JSON booleans for `active`."""
        if self.name == "emails.work":
            return {"op": "replace", "path": "emails", "value": [{"value": value, "type": "work", "primary": True}]}
        if self.schema == ENTERPRISE:
            path = f"{ENTERPRISE}:{self.attribute}"
            return {"op": "replace", "path": path, "value": {"value": value} if self.name == "manager" else value}
        return {"op": "replace", "path": self.name, "value": bool(value) if self.name == "active" else value}


FIELDS: tuple[Field, ...] = (
    Field("userName", lambda r: r.get("userName"), CORE, "userName", case_insensitive=True),
    Field("externalId", lambda r: r.get("externalId"), CORE, "externalId"),
    Field("displayName", lambda r: r.get("displayName"), CORE, "displayName"),
    Field("name.formatted", lambda r: (r.get("name") or {}).get("formatted") if isinstance(r.get("name"), dict)
          else None, CORE, "name"),
    Field("title", lambda r: r.get("title"), CORE, "title"),
    Field("emails.work", work_email, CORE, "emails", case_insensitive=True),
    Field("active", _active, CORE, "active"),
    Field("employeeNumber", lambda r: _ent(r).get("employeeNumber"), ENTERPRISE, "employeeNumber"),
    Field("department", lambda r: _ent(r).get("department"), ENTERPRISE, "department"),
    Field("division", lambda r: _ent(r).get("division"), ENTERPRISE, "division"),
    Field("costCenter", lambda r: _ent(r).get("costCenter"), ENTERPRISE, "costCenter"),
    Field("manager", _manager, ENTERPRISE, "manager"),
)
BY_NAME = {f.name: f for f in FIELDS}
_AT = {f.name: i for i, f in enumerate(FIELDS)}
USER_NAME, EXTERNAL_ID, WORK_EMAIL, ACTIVE = _AT["userName"], _AT["externalId"], _AT["emails.work"], _AT["active"]


def read_fields(resource: dict[str, Any]) -> tuple[Any, ...]:
    """Every field's current value, in FIELDS order (a plan reads this once of every LMS user)."""
    return tuple(f.read(resource) for f in FIELDS)


# the changes the rate safeguard counts: what moves people between frameworks and reporting lines
RATE_FIELDS = frozenset(("title", "department", "division", "manager"))


def new_resource(values: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    """A POST body from the desired values of the supported fields (None values left out)."""
    res: dict[str, Any] = {"schemas": [CORE, *([ENTERPRISE] if caps.enterprise else [])]}
    for name, value in values.items():
        if value is None:
            continue
        f = BY_NAME[name]
        if f.name == "name.formatted":
            res["name"] = {"formatted": value}
        elif f.name == "emails.work":
            res["emails"] = [{"value": value, "type": "work", "primary": True}]
        elif f.schema == ENTERPRISE:
            res.setdefault(ENTERPRISE, {})[f.attribute] = {"value": value} if f.name == "manager" else value
        else:
            res[f.name] = bool(value) if f.name == "active" else value
    return res
