"""Suppression of erased people: the records the sources still hold about them never land again.

An erasure (orchestration/lib/erasure.py) stores salted hashes (HMAC-SHA256 with
`BRIDGE_PSEUDONYM_KEY`) of the person's identifiers in `bridge_state.suppressed_identifier`,
never the identifiers. Where the lander stages a batch, `Suppressor.apply` compares the
identifier fields of each staged record with that list:

- a record *about* a suppressed person (their SCIM user, LMS user, payroll row, xAPI
  statement whose actor is them, an assessment of them, their check-in) is dropped and counted;
- a record that only *refers* to them (a rating they gave, a check-in they managed, a user
  they manage) keeps the other person's side: the reference becomes their pseudonym
  (`erased-<hmac>`), exactly as the erasure rewrote the version already landed, so the
  record's hash matches and no new version is appended.

The same code rewrites the raw version logs at erasure time (any table with a `payload`
JSON column), so what was erased and what is suppressed later cannot drift apart.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import duckdb

from .errors import ConfigError

KEY_VARIABLE = "BRIDGE_PSEUDONYM_KEY"

# identifier kinds; a hash is taken over "<kind>:<normalised value>"
EMPLOYEE_NUMBER, EMAIL, SCIM_ID, LMS_USER_ID, MBOX_SHA1 = "employee_number", "email", "scim_id", "lms_user_id", \
    "mbox_sha1sum"
# a name form (given, family, full, display name), matched as whole words in free text only
NAME = "name"
# the longest name form looked for in free text, in words
MAX_NAME_WORDS = 5

_ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@dataclass(frozen=True)
class Field:
    path: str           # JSON path in the record (a `[*]` path yields a list)
    kind: str


@dataclass(frozen=True)
class StreamFields:
    subject: tuple[Field, ...] = ()     # a match drops the record
    reference: tuple[Field, ...] = ()   # a match pseudonymises the value (and its display siblings)
    free_text: tuple[str, ...] = ()     # JSON paths of text written by people: names in it are pseudonymised


STREAM_FIELDS: dict[tuple[str, str], StreamFields] = {
    ("hris", "users"): StreamFields(
        subject=(Field("$.id", SCIM_ID), Field(f'$."{_ENT}".employeeNumber', EMPLOYEE_NUMBER),
                 Field("$.emails[*].value", EMAIL), Field("$.userName", EMAIL)),
        reference=(Field(f'$."{_ENT}".manager.value', SCIM_ID),)),
    ("lms", "users"): StreamFields(
        subject=(Field("$.id", LMS_USER_ID), Field("$.employee_number", EMPLOYEE_NUMBER), Field("$.email", EMAIL))),
    ("lms", "assignments"): StreamFields(subject=(Field("$.user_id", LMS_USER_ID),)),
    ("lms", "assessments"): StreamFields(subject=(Field("$.subject_user_id", LMS_USER_ID),),
                                         reference=(Field("$.rater_user_id", LMS_USER_ID),)),
    ("lms", "reviews"): StreamFields(subject=(Field("$.user_id", LMS_USER_ID),),
                                     reference=(Field("$.reviewer_user_id", LMS_USER_ID),)),
    ("lms", "observations"): StreamFields(subject=(Field("$.subject_user_id", LMS_USER_ID),),
                                          reference=(Field("$.author_user_id", LMS_USER_ID),),
                                          free_text=("$.text",)),
    ("checkins", "checkins"): StreamFields(subject=(Field("$.employee_email", EMAIL),),
                                           reference=(Field("$.manager_email", EMAIL),),
                                           free_text=("$.note", "$.impediment")),
    ("checkins", "objectives"): StreamFields(reference=(Field("$.owner_email", EMAIL),)),
    ("xapi", "statements"): StreamFields(
        subject=(Field("$.actor.mbox", EMAIL), Field("$.actor.mbox_sha1sum", MBOX_SHA1),
                 Field("$.actor.account.name", EMPLOYEE_NUMBER))),
    ("payroll", "rows"): StreamFields(subject=(Field("$.employee_number", EMPLOYEE_NUMBER),)),
}

# keys beside a pseudonymised reference that name the same person (SCIM's manager.displayName)
_DISPLAY_SIBLINGS = ("displayName", "display", "$ref")


def normalise(kind: str, value: str) -> str:
    """The form an identifier is hashed in: employee numbers without leading zeros (as dbt
    matches them), e-mails lower-cased without `mailto:`, other ids trimmed."""
    text = str(value).strip()
    if kind == EMPLOYEE_NUMBER:
        return text.lstrip("0") or ("0" if text else "")
    if kind == EMAIL:
        text = text.lower()
        return text.removeprefix("mailto:")
    if kind == MBOX_SHA1:
        return text.lower()
    if kind == NAME:    # case-insensitively, whatever the script: "Zoë Ångström" is "ZOË ÅNGSTRÖM"
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())
    return text


# in free text: e-mail addresses, and words (letters of any script, digits, inner ' ’ or -)
_EMAIL_RX = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_WORD_RX = re.compile(r"\w+(?:['’-]\w+)*")


def identifier_hash(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{normalise(kind, value)}".encode(), hashlib.sha256).hexdigest()


def pseudonym(key: bytes, employee_number: str) -> str:
    """The stable stand-in for an erased person in other people's records."""
    digest = hmac.new(key, f"person:{normalise(EMPLOYEE_NUMBER, employee_number)}".encode(), hashlib.sha256)
    return f"erased-{digest.hexdigest()[:16]}"


def key_from(value: str | None, *, needed_for: str) -> bytes:
    if not value:
        raise ConfigError(f"{KEY_VARIABLE} is not set; it is required {needed_for}")
    return value.encode()


@dataclass
class Suppressor:
    """Matches identifier values against a set of salted hashes (hash -> pseudonym)."""
    key: bytes
    hashes: dict[str, str]
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    free_text: dict[str, int] = field(default_factory=dict)     # table -> records whose text named someone

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, key_text: str | None) -> Suppressor | None:
        """The warehouse's suppression list; None when nobody was erased. A list without the key
        is a configuration error: landing unfiltered would bring erased people back."""
        rows = con.execute("select identifier_hash, pseudonym from bridge_state.suppressed_identifier").fetchall()
        if not rows:
            return None
        return cls(key_from(key_text, needed_for="to sync a warehouse from which people were erased"),
                   dict(rows))

    def match(self, kind: str, value: Any) -> str | None:
        """The pseudonym when `value` is a suppressed identifier of `kind`."""
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        text = str(value)      # REST ids may be JSON numbers; ids are compared as text
        if not text.strip():
            return None
        return self.hashes.get(identifier_hash(self.key, kind, text))

    def scrub_text(self, text: str) -> str:
        """`text` with every suppressed e-mail and name form (the longest run of up to
        MAX_NAME_WORDS words separated by spaces that is one) replaced by its pseudonym."""
        text = _EMAIL_RX.sub(lambda m: self.match(EMAIL, m.group()) or m.group(), text)
        words = list(_WORD_RX.finditer(text))
        out, last, i = [], 0, 0
        while i < len(words):
            for n in range(min(MAX_NAME_WORDS, len(words) - i), 0, -1):
                run = words[i:i + n]
                if any(text[a.end():b.start()].strip() for a, b in pairwise(run)):
                    continue    # a name's words are separated by spaces only
                alias = self.match(NAME, text[run[0].start():run[-1].end()])
                if alias:
                    out += [text[last:run[0].start()], alias]
                    last, i = run[-1].end(), i + n
                    break
            else:
                i += 1
        return "".join(out) + text[last:]

    def _named_in(self, con: duckdb.DuckDBPyConnection, table: str, path: str) -> list[str]:
        """Distinct values of a free-text field in `table` that name a suppressed person."""
        rows = con.execute(f"select distinct json_extract_string(payload, '{path}') from {table} "
                           f"where json_extract_string(payload, '{path}') is not null").fetchall()
        return [v for (v,) in rows if self.scrub_text(v) != v]

    def _matching(self, con: duckdb.DuckDBPyConnection, table: str, f: Field) -> dict[str, str]:
        """Raw values of one field in `table` that are suppressed -> pseudonym."""
        if f.path.endswith("[*].value"):
            sql = f"select distinct unnest(json_extract_string(payload, '{f.path}')) from {table}"
        else:
            sql = f"select distinct json_extract_string(payload, '{f.path}') from {table}"
        found = {}
        for (value,) in con.execute(sql).fetchall():
            p = self.match(f.kind, value)
            if p:
                found[value] = p
        return found

    @staticmethod
    def _where(f: Field, values: Iterable[str]) -> tuple[str, list]:
        if f.path.endswith("[*].value"):
            return f"list_has_any(json_extract_string(payload, '{f.path}'), ?::varchar[])", [list(values)]
        return f"json_extract_string(payload, '{f.path}') in (select unnest(?::varchar[]))", [list(values)]

    def _any(self, matches: dict[Field, dict[str, str]]) -> tuple[str, list]:
        clauses, params = [], []
        for f, values in matches.items():
            w, p = self._where(f, values)
            clauses.append(w)
            params.extend(p)
        return " or ".join(clauses), params

    def apply(self, con: duckdb.DuckDBPyConnection, table: str, source: str, stream: str, *,
              rehash: bool = False, dry_run: bool = False) -> tuple[int, int]:
        """Drop the records about suppressed people from `table` and pseudonymise references to
        them, in identifier fields and in free text. `rehash` also recomputes `record_hash` (a raw
        version log). Returns (dropped, pseudonymised); with `dry_run` only counts. The records
        whose free text named someone are counted in `free_text[table]` too."""
        spec = STREAM_FIELDS.get((source, stream))
        if spec is None:
            return 0, 0
        dropped = 0
        subjects = {f: self._matching(con, table, f) for f in spec.subject}
        subjects = {f: v for f, v in subjects.items() if v}
        if subjects:
            where, params = self._any(subjects)
            verb = "select count(*) from" if dry_run else "delete from"
            dropped = int(con.execute(f"{verb} {table} where {where}", params).fetchall()[0][0])
        rewritten = 0
        refs = {f: self._matching(con, table, f) for f in spec.reference}
        texts = {Field(p, NAME): self._named_in(con, table, p) for p in spec.free_text}
        refs = {f: v for f, v in (refs | texts).items() if v}
        if refs:
            where, params = self._any(refs)
            rows = con.execute(f"select rowid, payload::varchar from {table} where {where}",
                               params).fetchall()
            rewritten = len(rows)
            if any(texts.values()):
                where, params = self._any({f: v for f, v in texts.items() if v})
                named = con.execute(f"select count(*) from {table} where {where}", params).fetchall()[0][0]
                self.free_text[table] = self.free_text.get(table, 0) + int(named)
            if rows and not dry_run:
                new = [(rid, self.rewrite(text, spec)) for rid, text in rows]
                hash_set = (", record_hash = sha256(n.payload || case when coalesce(is_deleted, false) "
                            "then '|1' else '|0' end)") if rehash else ""
                con.execute(f"""
                    update {table} as t set payload = n.payload::json{hash_set}
                    from (select unnest(?::bigint[]) as rid, unnest(?::varchar[]) as payload) n
                    where t.rowid = n.rid""", [[r[0] for r in new], [r[1] for r in new]])
        key = (source, stream)
        self.counts[key] = self.counts.get(key, 0) + dropped
        return dropped, rewritten

    def rewrite(self, text: str, spec: StreamFields) -> str:
        """The record with every suppressed reference (and its display siblings) replaced by the
        pseudonym. Deterministic: the same record always gives the same text (and hash)."""
        record = json.loads(text)
        for f in spec.reference:
            parts = _path_parts(f.path)
            parent = record
            for part in parts[:-1]:
                parent = parent.get(part) if isinstance(parent, dict) else None
            if not isinstance(parent, dict):
                continue
            p = self.match(f.kind, parent.get(parts[-1]))
            if p:
                parent[parts[-1]] = p
                for sibling in _DISPLAY_SIBLINGS:
                    if sibling in parent:
                        parent[sibling] = p
        for path in spec.free_text:
            parts = _path_parts(path)
            parent = record
            for part in parts[:-1]:
                parent = parent.get(part) if isinstance(parent, dict) else None
            if isinstance(parent, dict) and isinstance(parent.get(parts[-1]), str):
                parent[parts[-1]] = self.scrub_text(parent[parts[-1]])
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False)

    def keep_ids(self, kind: str, ids: list[str]) -> list[str]:
        """The ids that are not suppressed."""
        return [i for i in ids if not self.match(kind, i)]


def _path_parts(path: str) -> list[str]:
    """'$."urn:x".manager.value' -> ['urn:x', 'manager', 'value'] (the simple paths above only)."""
    parts, rest = [], path.removeprefix("$.")
    while rest:
        if rest.startswith('"'):
            end = rest.index('"', 1)
            parts.append(rest[1:end])
            rest = rest[end + 1:].removeprefix(".")
        else:
            head, _, rest = rest.partition(".")
            parts.append(head)
    return parts
