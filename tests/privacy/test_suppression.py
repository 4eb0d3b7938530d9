"""Erasure and suppression on a small DuckDB work file: what goes, what is pseudonymised, and
that the sources serving the person again land nothing of them."""

from __future__ import annotations

import duckdb
import pytest

from connectors.errors import ConfigError
from connectors.landing import DuckDBLander, RecordSpec
from orchestration.lib import erasure

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USERS = [
    {"id": "scim-ann", "userName": "ann.lee@example.org", "emails": [{"value": "Ann.Lee@example.org"}],
     ENT: {"employeeNumber": "000427"}},
    {"id": "scim-bob", "userName": "bob.ray@example.org", "emails": [{"value": "bob.ray@example.org"}],
     ENT: {"employeeNumber": "5120", "manager": {"value": "scim-ann", "displayName": "Ann Lee"}}},
]
LMS_USERS = [{"id": 17, "email": "ann.lee@example.org", "employee_number": "427"},
             {"id": 18, "email": "bob.ray@example.org", "employee_number": "5120"}]
ASSESSMENTS = [{"id": 1, "subject_user_id": 17, "rater_user_id": 18, "rating": 3},
               {"id": 2, "subject_user_id": 18, "rater_user_id": 17, "rating": 4}]
STATEMENTS = [{"id": "st-1", "actor": {"mbox": "mailto:ANN.LEE@example.org"}, "verb": {"id": "v"}},
              {"id": "st-2", "actor": {"account": {"homePage": "h", "name": "0427"}}, "verb": {"id": "v"}},
              {"id": "st-3", "actor": {"mbox": "mailto:bob.ray@example.org"}, "verb": {"id": "v"}}]


def _land(lander: DuckDBLander, run_id: str) -> None:
    lander.land_batch("hris", "users", USERS, run_id, spec=RecordSpec(updated_path=None), seen_run_id=run_id)
    lander.land_batch("lms", "users", LMS_USERS, run_id, spec=RecordSpec())
    lander.land_batch("lms", "assessments", ASSESSMENTS, run_id, spec=RecordSpec())
    lander.land_batch("xapi", "statements", STATEMENTS, run_id, spec=RecordSpec(updated_path=None, immutable=True))


def _ids(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"select record_id from {table} order by 1").fetchall()]


def test_erase_then_suppress() -> None:
    con = duckdb.connect()
    _land(DuckDBLander(con), "r1")
    con.execute("insert into audit.quarantine values ('r1', 'hris', 'users', 'scim-ann', 'bad', now())")

    dry = erasure.erase(con, b"key", "427", "DSAR 7", dry_run=True)
    assert dry.removed["raw.hris__users"] == 1 and dry.removed["raw.xapi__statements"] == 2
    assert _ids(con, "raw.hris__users") == ["scim-ann", "scim-bob"]          # nothing changed
    assert not con.execute("select count(*) from bridge_state.suppressed_identifier").fetchall()[0][0]

    result = erasure.erase(con, b"key", "427", "DSAR 7", run_id="e1")
    alias = result.pseudonym
    assert alias.startswith("erased-") and alias == erasure.pseudonym(b"key", "00427")
    assert _ids(con, "raw.hris__users") == ["scim-bob"]
    assert _ids(con, "raw.lms__users") == ["18"]
    assert _ids(con, "raw.xapi__statements") == ["st-3"]
    assert con.execute("select json_extract_string(payload, '$.rater_user_id'), "
                       "json_extract_string(payload, '$.subject_user_id') from raw.lms__assessments"
                       ).fetchall() == [(alias, "18")]
    manager = con.execute(f"""select json_extract_string(payload, '$."{ENT}".manager.value'),
        json_extract_string(payload, '$."{ENT}".manager.displayName') from raw.hris__users""").fetchall()
    assert manager == [(alias, alias)]
    assert con.execute("select record_ref from audit.quarantine").fetchall() == [(alias,)]
    assert con.execute("select id from bridge_state.scim_seen").fetchall() == [("scim-bob",)]
    assert con.execute("select trigger, reason, pseudonym from audit.erasure").fetchall() == \
        [("request", "DSAR 7", alias)]

    # the sources still serve Ann: nothing of her lands again, nothing changes for Bob
    versions = con.execute("select count(*) from raw.hris__users").fetchall()[0][0]
    _land(DuckDBLander(con, "key"), "r2")
    assert _ids(con, "raw.hris__users") == ["scim-bob"]
    assert con.execute("select count(*) from raw.hris__users").fetchall()[0][0] == versions
    assert _ids(con, "raw.lms__users") == ["18"] and _ids(con, "raw.xapi__statements") == ["st-3"]
    assert con.execute("select count(*) from raw.lms__assessments").fetchall()[0][0] == 1
    counted = {(s, t): n for s, t, n in con.execute(
        "select source, stream, sum(records) from audit.suppression group by all").fetchall()}
    assert counted == {("hris", "users"): 1, ("lms", "users"): 1, ("lms", "assessments"): 1,
                       ("xapi", "statements"): 2}
    assert ("r2", "scim-ann") not in con.execute("select run_id, id from bridge_state.scim_seen").fetchall()

    with pytest.raises(ConfigError, match="BRIDGE_PSEUDONYM_KEY is not set"):
        DuckDBLander(con)


def test_unknown_person_and_missing_reason() -> None:
    con = duckdb.connect()
    _land(DuckDBLander(con), "r1")
    with pytest.raises(erasure.ErasureError, match="no HRIS or LMS record"):
        erasure.erase(con, b"key", "999", "DSAR 8")
    with pytest.raises(erasure.ErasureError, match="reason"):
        erasure.erase(con, b"key", "427", " ")


def test_retention_picks_people_terminated_before_the_cutoff() -> None:
    from datetime import date

    emp = "urn:hris-lms-bridge:scim:extension:employment:1.0:User"
    con = duckdb.connect()
    users = [dict(USERS[0], **{emp: {"terminationDate": "2026-01-10"}}),
             dict(USERS[1], **{emp: {"terminationDate": "2026-05-01"}})]
    DuckDBLander(con).land_batch("hris", "users", users, "r1", spec=RecordSpec(updated_path=None))
    assert erasure.terminated_before(con, date(2026, 3, 1)) == ["000427"]
    assert erasure.terminated_before(con, date(2026, 6, 1)) == ["000427", "5120"]
    assert erasure.terminated_before(con, date(2026, 1, 1)) == []


ZOE = [{"id": "scim-zoe", "userName": "zoe.angstrom@example.org", "displayName": "Zoë Ångström-Ruiz",
        "name": {"givenName": "Zoë", "familyName": "Ångström-Ruiz"},
        "emails": [{"value": "Zoe.Angstrom@example.org"}], ENT: {"employeeNumber": "0811"}},
       {"id": "scim-ole", "userName": "ole.berg@example.org", "name": {"givenName": "Ole", "familyName": "Berg"},
        "emails": [{"value": "ole.berg@example.org"}], ENT: {"employeeNumber": "812"}},
       {"id": "scim-ida", "userName": "ida@example.org", "name": {"givenName": "Ida", "familyName": "Ångström-Ruiz"},
        "emails": [{"value": "ida@example.org"}], ENT: {"employeeNumber": "813"}}]
OBSERVATIONS = [
    # about Ole, by Ole's manager: kept, the text naming Zoë pseudonymised
    {"id": 1, "subject_user_id": 31, "author_user_id": 40,
     "text": "Paired with ZOË ångström-ruiz on the handover; zoe.angstrom@EXAMPLE.org has the notes. Thanks zoë!"},
    # her family name alone is Ida's too: it names nobody in particular
    {"id": 2, "subject_user_id": 31, "author_user_id": 40, "text": "Zoëy, Zoëlla and Ångström-Ruiz are others"},
    {"id": 3, "subject_user_id": 30, "author_user_id": 31, "text": "About Zoë herself: removed whole"},
]
CHECKINS = [{"id": "c1", "employee_email": "ole.berg@example.org", "manager_email": "boss@example.org",
             "note": "Waiting on Zoë Ångström-Ruiz", "impediment": None}]


def test_free_text_naming_the_person_is_pseudonymised_in_the_records_kept() -> None:
    con = duckdb.connect()

    def land(lander: DuckDBLander, run_id: str) -> None:
        lander.land_batch("hris", "users", ZOE, run_id, spec=RecordSpec(updated_path=None))
        lander.land_batch("lms", "users", [{"id": 30, "email": "zoe.angstrom@example.org", "employee_number": "811"},
                                           {"id": 31, "email": "ole.berg@example.org", "employee_number": "812"}],
                          run_id, spec=RecordSpec())
        lander.land_batch("lms", "observations", OBSERVATIONS, run_id, spec=RecordSpec())
        lander.land_batch("checkins", "checkins", CHECKINS, run_id, spec=RecordSpec())

    land(DuckDBLander(con), "r1")
    result = erasure.erase(con, b"key", "811", "DSAR 9", run_id="e1")
    alias = result.pseudonym
    texts = dict(con.execute("select record_id, json_extract_string(payload, '$.text') "
                             "from raw.lms__observations").fetchall())
    assert texts == {"1": f"Paired with {alias} on the handover; {alias} has the notes. Thanks {alias}!",
                     "2": "Zoëy, Zoëlla and Ångström-Ruiz are others"}
    assert con.execute("select json_extract_string(payload, '$.note') from raw.checkins__checkins").fetchall() == \
        [(f"Waiting on {alias}",)]
    assert result.free_text == {"raw.lms__observations": 1, "raw.checkins__checkins": 1}
    assert any("free text" in line for line in result.lines())
    [(pseudonymised,)] = con.execute("select pseudonymised from audit.erasure").fetchall()
    assert '"raw.lms__observations:free_text": 1' in pseudonymised and "Zo" not in pseudonymised

    # the sources still serve the text naming her: it lands pseudonymised as it was, no new version
    versions = con.execute("select count(*) from raw.lms__observations").fetchall()[0][0]
    land(DuckDBLander(con, "key"), "r2")
    assert con.execute("select count(*) from raw.lms__observations").fetchall()[0][0] == versions
    assert not con.execute("select count(*) from raw.checkins__checkins where payload::varchar ilike '%zo%'"
                           ).fetchall()[0][0]
