"""Writing to an LMS's SCIM 2.0 endpoint (RFC 7643/7644): the bridge's one outbound client.

It shares the readers' HTTP layer (retries on 5xx/429 with Retry-After, timeouts, redaction of
the token). It knows SCIM, not the bridge's plan: capabilities, a full paged read of the Users,
one user by id, create (POST), update (PATCH with `replace` operations). It never DELETEs.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import quote

from .config import HttpSettings
from .errors import HttpStatusError, SourceError
from .http import BearerAuth, HttpClient

SOURCE = "lms_scim"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_JSON = {"Content-Type": "application/scim+json", "Accept": "application/scim+json, application/json"}
_EMAIL = re.compile(r"[^\s\"'<>@]+@[^\s\"'<>@]+")


@dataclass(frozen=True)
class ScimTargetConfig:
    base_url: str                   # ends before /Users
    token: str = field(repr=False)
    page_size: int = 200
    http: HttpSettings = field(default_factory=HttpSettings)


@dataclass(frozen=True)
class Capabilities:
    """What the LMS declares about itself (RFC 7643 sections 5-7)."""
    filter_supported: bool
    patch_supported: bool
    core_attributes: frozenset[str]         # top-level attribute names of the core User schema
    enterprise: bool                        # the User resource type carries the enterprise extension
    enterprise_attributes: frozenset[str]


@dataclass
class ScimFailure:
    """Why one write failed: the status and the server's scimType/detail (e-mail addresses masked)."""
    status: int | None
    scim_type: str | None
    detail: str

    def text(self) -> str:
        kind = f" {self.scim_type}" if self.scim_type else ""
        return f"HTTP {self.status}{kind}: {self.detail}" if self.status else self.detail


def scim_failure(exc: SourceError) -> ScimFailure:
    """A failure fit for an audit row: never a response body verbatim (it may hold personal data)."""
    scim_type, detail = None, exc.detail
    if isinstance(exc, HttpStatusError) and exc.body:
        try:
            body = json.loads(exc.body)
        except ValueError:
            body = None
        if isinstance(body, dict):
            scim_type = body.get("scimType") if isinstance(body.get("scimType"), str) else None
            if isinstance(body.get("detail"), str):
                detail = _EMAIL.sub("<e-mail>", body["detail"])[:300]
    return ScimFailure(exc.status, scim_type, detail)


class ScimTarget:
    """One LMS's SCIM endpoint, as the bridge writes to it."""

    def __init__(self, config: ScimTargetConfig) -> None:
        self.config = config
        self.http = HttpClient(SOURCE, config.base_url, BearerAuth(config.token), config.http, headers=SCIM_JSON)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- capabilities -----------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        spc = self.http.get_json("capabilities", "ServiceProviderConfig").body or {}
        schemas = _resources(self.http.get_json("capabilities", "Schemas", ok_404=True).body)
        types = _resources(self.http.get_json("capabilities", "ResourceTypes", ok_404=True).body)
        by_id = {s.get("id"): s for s in schemas if isinstance(s, dict)}
        user_type = next((t for t in types if isinstance(t, dict) and
                          (t.get("name") == "User" or t.get("schema") == CORE)), None)
        extensions = {e.get("schema") for e in (user_type or {}).get("schemaExtensions", []) if isinstance(e, dict)}
        # externalId is common to every resource (RFC 7643 3.1), not listed in the User schema
        core = _attribute_names(by_id.get(CORE)) | {"externalId"}
        if not by_id:
            # /Schemas is optional to serve; the core User schema is not (RFC 7643 section 4.1)
            core = frozenset(("userName", "name", "displayName", "title", "emails", "active", "externalId"))
        enterprise = ENTERPRISE in extensions and (ENTERPRISE in by_id or not by_id)
        ent_attrs = _attribute_names(by_id.get(ENTERPRISE)) if ENTERPRISE in by_id else frozenset(
            ("employeeNumber", "costCenter", "organization", "division", "department", "manager"))
        return Capabilities(
            filter_supported=bool((spc.get("filter") or {}).get("supported")),
            patch_supported=bool((spc.get("patch") or {}).get("supported")),
            core_attributes=core,
            enterprise=enterprise,
            enterprise_attributes=ent_attrs if enterprise else frozenset(),
        )

    # -- reading ----------------------------------------------------------------------------
    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """Every user, page by page (1-based index paging; stop on an empty page, as the HRIS reader)."""
        start = 1
        while True:
            body = self.http.get_json("users", "Users", params={"startIndex": start,
                                                                "count": self.config.page_size}).body
            if not isinstance(body, dict):
                raise SourceError(SOURCE, "users", "ListResponse is not an object; nothing planned",
                                  path="/Users")
            resources = [r for r in body.get("Resources") or [] if isinstance(r, dict)]
            if not resources:
                return
            yield resources
            start += len(resources)
            total = body.get("totalResults")
            if isinstance(total, int) and start > total:
                return

    def all_users(self) -> list[dict[str, Any]]:
        return [u for page in self.pages() for u in page]

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        return self.http.get_json("users", f"Users/{quote(user_id, safe='')}", ok_404=True).body

    def find(self, attribute: str, value: str) -> list[dict[str, Any]]:
        """Users whose attribute equals value (`filter=attribute eq "value"`)."""
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        body = self.http.get_json("users", "Users", params={"filter": f'{attribute} eq "{escaped}"'}).body
        return [r for r in (body or {}).get("Resources") or [] if isinstance(r, dict)]

    # -- writing ----------------------------------------------------------------------------
    def create(self, resource: dict[str, Any]) -> dict[str, Any]:
        """POST /Users. Raises HttpStatusError (409: the userName is taken) or SourceError."""
        return self.http.request_json("POST", "users", "Users", data=json.dumps(resource).encode(),
                                      headers=SCIM_JSON).body

    def patch(self, user_id: str, operations: list[dict[str, Any]]) -> dict[str, Any] | None:
        """PATCH /Users/{id} with `replace` operations (idempotent, so a retry is safe)."""
        body = {"schemas": [PATCH_OP], "Operations": operations}
        return self.http.request_json("PATCH", "users", f"Users/{quote(user_id, safe='')}",
                                      data=json.dumps(body).encode(), headers=SCIM_JSON).body


def _resources(body: Any) -> list[Any]:
    if isinstance(body, dict):
        return list(body.get("Resources") or [])
    return list(body) if isinstance(body, list) else []


def _attribute_names(schema: dict | None) -> frozenset[str]:
    if not schema:
        return frozenset()
    return frozenset(a["name"] for a in schema.get("attributes") or [] if isinstance(a, dict) and a.get("name"))
