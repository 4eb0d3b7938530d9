"""How the simulated servers speak: the `reference` dialect (the default, unchanged) and `foreign`,
a second dialect of every feed, inside the contract and as far from the reference as it allows.

The world is generated the same way in both (integer record ids, epoch-ms times); a dialect decides
only how it is served: ids, timestamp text, which optional keys appear, key order, extra fields,
page sizes and caps, cursor tokens, e-mail spelling, names, payroll file layout. The truth files map
ids through the same dialect, so they name records as the dialect serves them.

`foreign` (see simulator/README.md, "Dialects"):
- ids: SCIM users numeric-looking with leading zeros (listed in id order, not creation order);
  LMS and check-in records prefixed strings (`crs-1001`, `usr_0050001`, `CHK-10`), UUIDs and
  zero-padded numbers, by resource;
- timestamps with offsets other than `Z` (`+05:30`, `-03:30`, `+00:00`, ...) and 0 to 6
  fractional digits (fewer than three digits truncate the millisecond: a stamp is never later
  than the instant);
- optional (null) fields absent; unknown fields and a SCIM extension present; keys in reverse order;
- small pages and caps below what a client asks; the LMS/check-in cursor an opaque standard-base64
  token (`+`, `/`, `=`);
- payroll: a BOM on every file, CRLF, every field quoted, columns in another order, an extra
  `remarks` column whose text holds commas and line breaks;
- non-ASCII names, job-title spellings with non-breaking and thin spaces; HRIS e-mails with
  plus-addressing, some upper-case.
"""
from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

from simulator.clock import iso_ms, parse_iso
from simulator.store import dumps


class Reference:
    """The simulator as it always spoke (every method the identity, every knob the old value)."""

    name = "reference"
    scim_max_results = 200        # advertised in ServiceProviderConfig and enforced
    scim_page_cap = 200           # most a page holds, whatever was asked
    scim_default_count = 100
    rest_default_limit = 100
    rest_max_limit = 1000
    rest_page_cap = 1000
    xapi_max_limit = 5000
    payroll_bom_always = False
    payroll_quote_all = False
    more_prefix = "/xapi/statements?more="
    xapi_layout = "reference"
    null_end_cursor = True        # the last REST page says `"next_cursor": null` (else: no key)
    empty_resources = True        # an empty SCIM page has `"Resources": []` (else: no key, RFC 7644 3.4.2)

    # -- ids --------------------------------------------------------------------------------------
    def scim_id(self, seed: int, employee_number: str, taken: set[str]) -> str:
        h = hashlib.sha1(f"scim|{seed}|{employee_number}".encode()).hexdigest()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def rest_id(self, resource: str, n: Any) -> Any:
        return n

    def scim_sort_key(self, e) -> Any:
        return e.idx          # creation order

    # -- text -------------------------------------------------------------------------------------
    def stamp(self, ms: int) -> str:
        return iso_ms(ms)

    def person_name(self, given: str, family: str) -> tuple[str, str]:
        return given, family

    def email_local(self, base: str, idx: int) -> str:
        return base

    def hris_email(self, email: str, idx: int) -> str:
        return email

    def title_spelling(self, title: str, key: int) -> str:
        return title

    # -- records ----------------------------------------------------------------------------------
    def scim_user(self, res: dict) -> dict:
        return res

    def rest_payloads(self, resource: str, payloads: list[bytes]) -> list[bytes]:
        return payloads

    def encode_cursor(self, pos: int) -> str:
        text = base64.urlsafe_b64encode(json.dumps({"p": pos}, separators=(",", ":")).encode()).decode()
        return text.rstrip("=")

    def decode_cursor(self, text: str) -> int:
        pad = "=" * (-len(text) % 4)
        return int(json.loads(base64.urlsafe_b64decode(text + pad))["p"])

    def payroll_columns(self, columns: tuple[str, ...]) -> tuple[str, ...]:
        return columns

    def payroll_remarks(self, row_no: int) -> str | None:
        return None


# the foreign dialect's id shapes, by resource (n is the world's integer id)
_REST_IDS = {
    "users": lambda n: f"usr_{n:07d}",
    "competency_frameworks": lambda n: str(uuid.uuid5(uuid.NAMESPACE_URL, f"framework/{n}")),
    "competencies": lambda n: f"cmp-{n}",
    "job_profiles": lambda n: f"{n:06d}",
    "courses": lambda n: f"crs-{n}",
    "assignments": lambda n: str(uuid.uuid5(uuid.NAMESPACE_URL, f"assignment/{n}")),
    "assessments": lambda n: f"{n:010d}",
    "reviews": lambda n: f"rev_{n}",
    "observations": lambda n: str(uuid.uuid5(uuid.NAMESPACE_URL, f"observation/{n}")).upper(),
    "objectives": lambda n: f"{n:06d}",
    "checkins": lambda n: f"CHK-{n}",      # no padding: text order is not number order
}
# fields holding another record's id, per resource: field -> resource it refers to
_REFS = {
    "user_id": "users", "subject_user_id": "users", "rater_user_id": "users", "reviewer_user_id": "users",
    "author_user_id": "users", "course_id": "courses", "framework_id": "competency_frameworks",
    "competency_id": "competencies", "objective_id": "objectives", "parent_id": "objectives",
}
_STAMPS = ("updated_at", "assigned_at", "submitted_at", "observed_at")
_OFFSETS = (330, -210, 0, 120, -300, 545, -600, 60, 840, -720)    # minutes east of UTC
_NAMES = {
    "Zoe": "Zoë", "Chloe": "Chloé", "Ines": "Inès", "Elif": "Elif", "Farid": "Farîd", "Jonas": "Jonáš",
    "Hugo": "Hugó", "Lena": "Léna", "Noor": "Nóor", "Sara": "Sára", "Ivan": "Иван", "Yusuf": "Yūsuf",
    "Muller": "Müller", "Ozturk": "Öztürk", "Nguyen": "Nguyễn", "Yilmaz": "Yılmaz", "Horvat": "Horváth",
    "Dubois": "Dubois-Lefèvre", "Andersen": "Åndersen", "Kowalski": "Kowalski-Żak", "Ivanova": "Иванова",
    "Garcia": "García", "Haddad": "Ḥaddād", "Papadopoulos": "Παπαδόπουλος", "Murphy": "Ó Murchú",
    "Dijkstra": "Dĳkstra", "Weber": "Weber–Łęcka", "Silva": "Silva São", "Kramer": "Krämer",
}
_REMARKS = ("Relocated, see HR ticket", "Bonus paid, quarterly\r\nreview pending",
            'Allowance "travel", capped', "Split shift,\nnight premium")


def _mix(n: int) -> int:
    return (n * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF


class Foreign(Reference):
    name = "foreign"
    scim_max_results = 50
    scim_page_cap = 37            # fewer than asked even within the advertised maximum
    scim_default_count = 20
    rest_default_limit = 50
    rest_max_limit = 250
    rest_page_cap = 97
    xapi_max_limit = 1000
    payroll_bom_always = True
    payroll_quote_all = True
    more_prefix = "/xapi/statements?format=exact&more="     # the IRL carries a parameter of its own
    xapi_layout = "foreign"
    null_end_cursor = False
    empty_resources = False

    def __init__(self) -> None:
        self._served: dict[tuple[str, bytes], bytes] = {}

    # -- ids --------------------------------------------------------------------------------------
    def scim_id(self, seed: int, employee_number: str, taken: set[str]) -> str:
        n = int(hashlib.sha1(f"scim|{seed}|{employee_number}".encode()).hexdigest()[:12], 16) % 10_000_000
        while f"{n:08d}" in taken:
            n = (n + 7919) % 10_000_000
        return f"{n:08d}"       # '00042137': a number to the eye, an opaque id to the contract

    def rest_id(self, resource: str, n: Any) -> Any:
        make = _REST_IDS.get(resource)
        return make(n) if make is not None and isinstance(n, int) else n

    def scim_sort_key(self, e) -> Any:
        return e.scim_id       # id order: a new hire lands in the middle of the listing

    # -- text -------------------------------------------------------------------------------------
    def stamp(self, ms: int) -> str:
        sec, milli = divmod(int(ms), 1000)
        h = _mix(sec)
        digits, offset = h % 7, _OFFSETS[(h >> 8) % len(_OFFSETS)]
        local = iso_ms(sec * 1000 + offset * 60_000)[:19]
        frac = f"{milli:03d}000"[:digits]
        sign = "+" if offset >= 0 else "-"
        return f"{local}{'.' + frac if digits else ''}{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"

    def person_name(self, given: str, family: str) -> tuple[str, str]:
        return _NAMES.get(given, given), _NAMES.get(family, family)

    def email_local(self, base: str, idx: int) -> str:
        return f"{base}+{('work', 'hr', 'x1')[idx % 3]}" if idx % 4 == 1 else base

    def hris_email(self, email: str, idx: int) -> str:
        if idx % 3 == 0:
            return email.upper()
        if idx % 3 == 1:
            local, dom = email.split("@")
            return local.title() + "@" + dom.upper()
        return email

    def title_spelling(self, title: str, key: int) -> str:
        """Same words, other spaces: a non-breaking or thin space where the reference has a space."""
        if " " in title and key % 5 == 0:
            return title.replace(" ", "\u00a0" if key % 2 else "\u2009", 1)
        return title

    # -- records ----------------------------------------------------------------------------------
    def scim_user(self, res: dict) -> dict:
        res = _drop_nulls(res)
        ext = "urn:example:acme:scim:schemas:extension:workforce:2.0:User"
        res["schemas"] = [*res["schemas"], ext]
        res[ext] = {"badgeId": f"B-{res['id'][-5:]}", "shiftPattern": "5x8", "pronouns": "they/them"}
        res["x-acme-replica"] = "eu-west-2"
        work = res["emails"][0]
        res["emails"] = [{"value": f"home.{res['id']}@mail.example.net", "type": "home"}, work]
        return dict(reversed(list(res.items())))

    def rest_payloads(self, resource: str, payloads: list[bytes]) -> list[bytes]:
        out = []
        for p in payloads:
            key = (resource, p)
            done = self._served.get(key)
            if done is None:
                done = self._served[key] = dumps(self._rest_record(resource, json.loads(p), p))
            out.append(done)
        return out

    def _rest_record(self, resource: str, rec: dict, payload: bytes) -> dict:
        out: dict = {}
        for k, v in rec.items():
            if v is None:
                continue                     # optional and unknown: absent, not null
            if k == "id":
                v = self.rest_id(resource, v)
            elif k in _REFS:
                v = self.rest_id(_REFS[k], v)
            elif k in _STAMPS and isinstance(v, str):
                v = self.stamp(parse_iso(v))
            elif k in ("requirements", "competencies") and isinstance(v, list):
                v = [{kk: self.rest_id("competencies", vv) if kk == "competency_id" else vv
                      for kk, vv in reversed(list(item.items()))} for item in v]
            out[k] = v
        if not rec.get("deleted"):
            out["_links"] = {"self": {"href": f"/api/v1/{resource}/{out.get('id')}"}}
            out["x_vendor_etag"] = hashlib.blake2s(payload, digest_size=6).hexdigest()
        return dict(reversed(list(out.items())))

    def encode_cursor(self, pos: int) -> str:
        # standard base64 with padding: '+', '/' and '=' must survive the client's URL encoding
        salt = hashlib.sha256(f"cursor|{pos}".encode()).digest()[:2]
        return base64.b64encode(b"\xfb\xff\xbf" + pos.to_bytes(8, "big") + salt).decode()   # '+/+/...=='

    def decode_cursor(self, text: str) -> int:
        raw = base64.b64decode(text, validate=True)
        if len(raw) != 13 or raw[:3] != b"\xfb\xff\xbf":
            raise ValueError("not a cursor")
        return int.from_bytes(raw[3:11], "big")

    def payroll_columns(self, columns: tuple[str, ...]) -> tuple[str, ...]:
        cols = list(columns)
        return (*cols[::-2], *cols[-2::-2], "remarks")

    def payroll_remarks(self, row_no: int) -> str | None:
        return _REMARKS[row_no % len(_REMARKS)] if row_no % 9 == 4 else ""


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


DIALECTS = {"reference": Reference, "foreign": Foreign}


def get(name: str) -> Reference:
    try:
        return DIALECTS[name]()
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; known: {sorted(DIALECTS)}") from None
