"""Who may read what in the PostgreSQL warehouse.

Group roles (NOLOGIN; people and services log in as their own users, members of these):
- `bridge_hr_reporting`: USAGE + SELECT on `reporting` only;
- `bridge_auditor`: `audit` and `reporting`, read only;
- `bridge_compensation`: `restricted`;
- `bridge_writer`: the pipeline; owns raw, staging, intermediate, seeds, snapshots, the
  build and published schemas and `audit`. Only the owner writes: no other role holds
  INSERT, UPDATE, DELETE or TRUNCATE anywhere, so `audit` is append-only for everyone else.

Default privileges (FOR ROLE writer IN SCHEMA ...) make tables the writer creates later
readable by the right roles. They are attached to a schema's OID, and the swap replaces
`reporting`/`restricted` with what were the build schemas, so `grant_readers` re-applies
schema USAGE, table SELECT and default privileges inside the swap transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import psycopg2.errors
import psycopg2.extensions

from orchestration.lib.postgres.connection import quote_ident, transaction

WRITER_ROLE = "bridge_writer"
HR_REPORTING_ROLE = "bridge_hr_reporting"
AUDITOR_ROLE = "bridge_auditor"
COMPENSATION_ROLE = "bridge_compensation"
GROUP_ROLES = (HR_REPORTING_ROLE, AUDITOR_ROLE, COMPENSATION_ROLE)

# schema -> roles that may read it (and nothing else)
READERS: dict[str, tuple[str, ...]] = {
    "reporting": (HR_REPORTING_ROLE, AUDITOR_ROLE),
    "restricted": (COMPENSATION_ROLE,),
    "audit": (AUDITOR_ROLE,),
}
WRITER_SCHEMAS = ("raw", "staging", "intermediate", "seeds", "snapshots", "audit", "reporting", "restricted")


def _existing_roles(cur: psycopg2.extensions.cursor, names: Iterable[str]) -> set[str]:
    cur.execute("select rolname from pg_roles where rolname = any(%s)", (list(names),))
    return {r[0] for r in cur.fetchall()}


def _create_role(cur: psycopg2.extensions.cursor, role: str) -> None:
    cur.execute("savepoint create_role")
    try:
        cur.execute(f"create role {quote_ident(role)} nologin")
    except psycopg2.errors.DuplicateObject:  # created meanwhile by a concurrent session
        cur.execute("rollback to savepoint create_role")
    cur.execute("release savepoint create_role")


def ensure_roles(
    pg_con: psycopg2.extensions.connection,
    writer_role: str = WRITER_ROLE,
    *,
    writer_members: Sequence[str] = (),
) -> None:
    """Create the roles and writer-owned schemas if missing and (re)apply every grant.

    Idempotent; run by an administrator (superuser, or CREATEROLE + database owner).
    `writer_members` are the login users the pipeline runs as (they `SET ROLE` to the
    writer, see connection.connect(role=...))."""
    with transaction(pg_con) as cur:
        have = _existing_roles(cur, (*GROUP_ROLES, writer_role))
        for role in (*GROUP_ROLES, writer_role):
            if role not in have:
                _create_role(cur, role)
        cur.execute("select rolsuper from pg_roles where rolname = current_user")
        if not cur.fetchone()[0]:
            # a non-superuser may only hand objects to, and set defaults for, roles it belongs to
            cur.execute(f"grant {quote_ident(writer_role)} to current_user")
        for member in writer_members:
            cur.execute(f"grant {quote_ident(writer_role)} to {quote_ident(member)}")
        cur.execute(
            f"grant create, connect, temporary on database {quote_ident(_current_db(cur))} "
            f"to {quote_ident(writer_role)}"
        )
        for schema in WRITER_SCHEMAS:
            cur.execute(
                f"create schema if not exists {quote_ident(schema)} authorization {quote_ident(writer_role)}"
            )
            cur.execute(f"alter schema {quote_ident(schema)} owner to {quote_ident(writer_role)}")
            cur.execute(f"revoke all on schema {quote_ident(schema)} from public")
        grant_readers(cur, READERS, writer_role=writer_role)


def _current_db(cur: psycopg2.extensions.cursor) -> str:
    cur.execute("select current_database()")
    return cur.fetchone()[0]


def grant_readers(
    cur: psycopg2.extensions.cursor,
    schemas: Iterable[str],
    *,
    writer_role: str = WRITER_ROLE,
    tables: bool = True,
    schema_level: bool = True,
    tables_in: Mapping[str, str] | None = None,
) -> None:
    """Grant each schema's reader roles SELECT on its tables (revoking any write privilege
    they might hold) and USAGE plus default SELECT on future tables. Roles that do not
    exist (ensure_roles never ran, e.g. a developer database) are skipped. Runs in the
    caller's transaction.

    The swap splits this in two: table grants on the build schemas before it locks
    anything (`tables_in={"reporting": "reporting__build", ...}`, `schema_level=False`),
    and only the cheap schema-level part while it holds the locks (`tables=False`)."""
    schemas = [s for s in schemas if s in READERS]
    present = _existing_roles(cur, [r for s in schemas for r in READERS[s]] + [writer_role])
    for schema in schemas:
        readers = [r for r in READERS[schema] if r in present]
        if not readers:
            continue
        who = ", ".join(quote_ident(r) for r in readers)
        if tables:
            t = quote_ident((tables_in or {}).get(schema, schema))
            cur.execute(f"grant select on all tables in schema {t} to {who}")
            cur.execute(
                f"revoke insert, update, delete, truncate, references, trigger "
                f"on all tables in schema {t} from public, {who}"
            )
        if schema_level:
            s = quote_ident(schema)
            cur.execute(f"grant usage on schema {s} to {who}")
            if writer_role in present:
                cur.execute(
                    f"alter default privileges for role {quote_ident(writer_role)} in schema {s} "
                    f"grant select on tables to {who}"
                )
