"""Erasure in a PostgreSQL warehouse (lighter than the DuckDB end-to-end test: the raw and audit
mirror of a small work file, not a whole sync): the mirrored raw and audit tables lose the
person, keep the others' records with the pseudonym, and are rewritten by VACUUM FULL."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import psycopg2
import pytest

from connectors.landing import DuckDBLander, RecordSpec
from orchestration.lib import erasure, pg_warehouse
from tests.conftest import scratch_database

pytestmark = pytest.mark.postgres

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USERS = [
    {"id": "scim-ann", "userName": "ann.lee@example.org", "name": {"givenName": "Ann", "familyName": "Lee"},
     "emails": [{"value": "Ann.Lee@example.org", "primary": True}], ENT: {"employeeNumber": "000427"}},
    {"id": "scim-bob", "userName": "bob.ray@example.org", "emails": [{"value": "bob.ray@example.org"}],
     ENT: {"employeeNumber": "5120", "manager": {"value": "scim-ann", "displayName": "Ann Lee"}}},
]
NEEDLES = ("scim-ann", "ann.lee@example.org", "Ann Lee", "lms-ann", "000427")


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    with scratch_database(pg_server, "bridge_privacy") as db:
        yield db.url(with_password=True)


def _holders(pg: psycopg2.extensions.connection) -> dict[str, int]:
    found = {}
    with pg.cursor() as cur:
        cur.execute("select table_schema, table_name from information_schema.tables "
                    "where table_schema in ('raw', 'audit') and table_type = 'BASE TABLE'")
        for schema, table in cur.fetchall():
            cur.execute(f'select count(*) from "{schema}"."{table}" t where '
                        + " or ".join(["t::text ilike %s"] * len(NEEDLES)), [f"%{n}%" for n in NEEDLES])
            n = cur.fetchone()[0]
            if n:
                found[f"{schema}.{table}"] = n
    return found


def test_erasure_reaches_postgres(tmp_path, pg_url) -> None:
    duck = duckdb.connect(str(tmp_path / "bridge.work.duckdb"))
    lander = DuckDBLander(duck)
    lander.land_batch("hris", "users", USERS, "r1", spec=RecordSpec(updated_path=None))
    lander.land_batch("lms", "users", [{"id": "lms-ann", "email": "ann.lee@example.org", "employee_number": "427"},
                                       {"id": "lms-bob", "email": "bob.ray@example.org", "employee_number": "5120"}],
                      "r1", spec=RecordSpec())
    lander.land_batch("lms", "assessments", [
        {"id": "a1", "subject_user_id": "lms-ann", "rater_user_id": "lms-bob", "rating": 3},
        {"id": "a2", "subject_user_id": "lms-bob", "rater_user_id": "lms-ann", "rating": 4}], "r1",
        spec=RecordSpec())
    lander.quarantine("r1", "hris", "users", [("scim-ann", "bad hireDate")])
    pg_warehouse.mirror_raw(duck, pg_url)
    pg_warehouse.mirror_audit(duck, pg_url)
    from orchestration.lib.postgres.connection import parse_warehouse_url

    pg = psycopg2.connect(**parse_warehouse_url(pg_url).dsn_kwargs())
    try:
        assert set(_holders(pg)) >= {"raw.hris__users", "raw.lms__users", "raw.lms__assessments",
                                     "audit.quarantine"}
        with pg.cursor() as cur:
            cur.execute("select pg_relation_filenode('raw.hris__users')")
            filenode = cur.fetchone()[0]
        pg.commit()

        result = erasure.erase(duck, b"key", "427", "DSAR 7", run_id="e1")
        erasure.erase_postgres(duck, pg_url, result)

        assert _holders(pg) == {}
        with pg.cursor() as cur:
            cur.execute("select payload -> %s -> 'manager' ->> 'value' from raw.hris__users", (ENT,))
            assert cur.fetchall() == [(result.pseudonym,)]        # Bob's record keeps his side
            cur.execute("select record_id, payload ->> 'rater_user_id' from raw.lms__assessments")
            assert cur.fetchall() == [("a2", result.pseudonym)]
            cur.execute("select record_ref from audit.quarantine")
            assert cur.fetchall() == [(result.pseudonym,)]
            cur.execute("select pg_relation_filenode('raw.hris__users')")
            assert cur.fetchone()[0] != filenode                  # VACUUM FULL rewrote the table
    finally:
        pg.close()
        duck.close()
