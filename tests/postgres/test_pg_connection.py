"""BRIDGE_WAREHOUSE parsing and password redaction (no server needed)."""

from __future__ import annotations

import socket

import pytest

from orchestration.lib.postgres.connection import (
    WarehouseConfigError,
    WarehouseConnectionError,
    connect,
    parse_warehouse_url,
    redact,
)

SECRET = "s3cr#t:p@ss"
URL = "postgresql://bridge:s3cr%23t%3Ap%40ss@db.internal:6543/warehouse?sslmode=require"


def test_parse_decodes_every_part() -> None:
    target = parse_warehouse_url(URL)
    assert (target.host, target.port, target.user, target.dbname) == (
        "db.internal",
        6543,
        "bridge",
        "warehouse",
    )
    assert target.password == SECRET and target.options == {"sslmode": "require"}
    assert SECRET not in repr(target) and "s3cr" not in target.url()
    assert target.url(with_password=True) == URL
    assert target.dbt_env()["BRIDGE_PG_PASSWORD"] == SECRET and target.dbt_env()["BRIDGE_PG_PORT"] == "6543"


@pytest.mark.parametrize(
    "bad, problem",
    [
        ("mysql://u:s3cr3tpw@h/db", "scheme"),
        ("postgresql://u:s3cr3tpw@/db", "no host"),
        ("postgresql://h:5432/db", "no user"),
        ("postgresql://u:s3cr3tpw@h:5432", "no database"),
        ("postgresql://u:s3cr3tpw@h:notaport/db", "malformed"),
    ],
)
def test_malformed_url_names_the_variable_not_the_password(bad: str, problem: str) -> None:
    with pytest.raises(WarehouseConfigError) as err:
        parse_warehouse_url(bad)
    message = str(err.value)
    assert message.startswith("BRIDGE_WAREHOUSE:") and problem in message
    assert "s3cr3tpw" not in message and "\n" not in message


def test_connection_failure_is_redacted() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(WarehouseConnectionError) as err:
        connect(f"postgresql://bridge:s3cr%23t%3Ap%40ss@127.0.0.1:{port}/warehouse", connect_timeout=2)
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message and "***" in message
    assert SECRET not in message and "s3cr%23t" not in message and err.value.__cause__ is None


def test_redact_masks_urls_and_keyword_passwords() -> None:
    text = "dsn postgresql://u:hunter2@h/db and host=h password='hunter 3' user=u"
    assert redact(text) == "dsn postgresql://u:***@h/db and host=h password=*** user=u"
    assert redact("boom: s3cr#t:p@ss", SECRET) == "boom: ***"
