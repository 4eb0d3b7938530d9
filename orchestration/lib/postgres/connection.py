"""Opening the PostgreSQL warehouse named by `BRIDGE_WAREHOUSE=postgresql://...`.

The URL may carry a password; it never appears in an error, a log line or a repr:
every message built here goes through `redact` first, and psycopg2's own errors are
re-raised without their original text chained (a DSN parse error can quote the DSN).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

SCHEMES = ("postgresql", "postgres")
VARIABLE = "BRIDGE_WAREHOUSE"
MASK = "***"


class WarehouseConfigError(ValueError):
    """The setting is malformed; the message names the variable, never the password."""


class WarehouseConnectionError(RuntimeError):
    """The server could not be reached or refused us; the message is redacted."""


@dataclass(frozen=True)
class PgTarget:
    host: str
    port: int
    user: str
    dbname: str
    password: str | None = field(default=None, repr=False)
    options: dict[str, str] = field(default_factory=dict)

    def dsn_kwargs(self) -> dict[str, str | int]:
        kwargs: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.dbname,
            **self.options,
        }
        if self.password is not None:
            kwargs["password"] = self.password
        return kwargs

    def url(self, *, with_password: bool = False) -> str:
        """The URL again; masked unless asked (pass the unmasked one only to a driver)."""
        auth = quote(self.user, safe="")
        if self.password is not None:
            auth += ":" + (quote(self.password, safe="") if with_password else MASK)
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(self.options.items()))
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{auth}@{host}:{self.port}/{quote(self.dbname, safe='')}" + (
            f"?{query}" if query else ""
        )

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt_project/profiles.yml's `postgres` target reads."""
        env = {
            "BRIDGE_PG_HOST": self.host,
            "BRIDGE_PG_PORT": str(self.port),
            "BRIDGE_PG_USER": self.user,
            "BRIDGE_PG_DBNAME": self.dbname,
        }
        if self.password is not None:
            env["BRIDGE_PG_PASSWORD"] = self.password
        return env

    def redact(self, text: str) -> str:
        return redact(text, self.password)


def is_postgres_url(value: str) -> bool:
    return value.split("://", 1)[0].lower() in SCHEMES and "://" in value


_URL_PASSWORD = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)", re.IGNORECASE
)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(text: str, password: str | None = None) -> str:
    """Mask a known password (raw and URL-encoded) and any `user:pw@` or `password=` in text."""
    if password:
        for variant in {password, quote(password, safe=""), quote(password)}:
            text = text.replace(variant, MASK)
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    return _KV_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", text)


def parse_warehouse_url(url: str, *, variable: str = VARIABLE) -> PgTarget:
    """Parse `postgresql://user[:password]@host[:port]/dbname[?key=value...]`.

    Host, user and database are required: a nightly job must not silently fall back to
    libpq's defaults (the OS user, a local socket)."""
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as exc:  # bad port and the like; the message may quote the URL
        raise WarehouseConfigError(
            f"{variable}: malformed PostgreSQL URL {redact(url)!r} ({redact(str(exc))})"
        ) from None
    problems = []
    if parts.scheme.lower() not in SCHEMES:
        problems.append(f"scheme must be postgresql://, got {parts.scheme or 'none'!r}")
    if not parts.hostname:
        problems.append("no host")
    if not parts.username:
        problems.append("no user")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname:
        problems.append("no database name (…/dbname)")
    if parts.fragment:
        problems.append("unexpected '#' fragment")
    password = unquote(parts.password) if parts.password is not None else None
    if problems:
        raise WarehouseConfigError(f"{variable}: {'; '.join(problems)} in {redact(url, password)!r}")
    return PgTarget(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        dbname=dbname,
        password=password,
        options=dict(parse_qsl(parts.query)),
    )


def connect(
    target: PgTarget | str,
    *,
    role: str | None = None,
    autocommit: bool = False,
    application_name: str = "hris-lms-bridge",
    connect_timeout: int = 10,
) -> psycopg2.extensions.connection:
    """Open a psycopg2 connection; with `role`, `SET ROLE` so every object created is owned
    by that role (the writer) and its default privileges apply."""
    if isinstance(target, str):
        target = parse_warehouse_url(target)
    try:
        con = psycopg2.connect(
            **target.dsn_kwargs(), application_name=application_name, connect_timeout=connect_timeout
        )
    except psycopg2.Error as exc:
        raise WarehouseConnectionError(
            f"cannot connect to PostgreSQL warehouse {target.url()}: {target.redact(str(exc)).strip()}"
        ) from None
    try:
        if role is not None:
            with con.cursor() as cur:
                cur.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
            con.commit()
        con.autocommit = autocommit
    except psycopg2.Error as exc:
        con.close()
        raise WarehouseConnectionError(
            f"connected to {target.url()} but could not switch to role {role!r}: "
            f"{target.redact(str(exc)).strip()}"
        ) from None
    return con


@contextmanager
def transaction(con: psycopg2.extensions.connection) -> Iterator[psycopg2.extensions.cursor]:
    """One transaction on a connection that has none open; commits or rolls back whole.

    Refusing an already-open transaction keeps us from committing a caller's half-done work."""
    if con.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        raise RuntimeError("the PostgreSQL connection already has a transaction open")
    was_autocommit = con.autocommit
    con.autocommit = False
    try:
        with con.cursor() as cur:
            yield cur
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.autocommit = was_autocommit


def quote_ident(name: str) -> str:
    """SQL identifier quoting without needing a connection (psycopg2.sql does the same)."""
    return '"' + name.replace('"', '""') + '"'
