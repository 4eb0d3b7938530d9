"""With provisioning on, an erasure deactivates the person's LMS account (the simulator's LMS
over SCIM): provisioning itself never would, the person being gone from the HRIS data. The
nightly retention erasure goes through the same code path, and in `plan` mode records what it
would do."""

from __future__ import annotations

import json
from datetime import date

import duckdb

from connectors.landing import DuckDBLander, RecordSpec
from orchestration.lib import erasure
from orchestration.lib.provisioning.config import ProvisioningConfig
from orchestration.lib.provisioning.fields import number_key, work_email
from orchestration.lib.provisioning.run import target_config
from orchestration.lib.settings import Settings
from tests.provisioning.conftest import sim  # noqa: F401  (a pilot simulator of the test's own)

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EMP = "urn:hris-lms-bridge:scim:extension:employment:1.0:User"


def _active_users(settings: Settings, n: int) -> list[dict]:
    from connectors.scim_provision import ScimTarget

    with ScimTarget(target_config(ProvisioningConfig.from_settings(settings))) as target:
        return [u for u in target.all_users() if u.get("active", True) and (u.get(ENT) or {}).get("employeeNumber")
                and work_email(u)][:n]


def _is_active(settings: Settings, user_id: str) -> bool:
    from connectors.scim_provision import ScimTarget

    with ScimTarget(target_config(ProvisioningConfig.from_settings(settings))) as target:
        return target.get_user(user_id)["active"]


def test_erasure_deactivates_the_lms_account(sim) -> None:  # noqa: F811
    settings = Settings.from_env({**sim.env, "BRIDGE_LMS_PROVISIONING": "apply"}, dotenv_path=None)
    [user] = _active_users(settings, 1)
    person = erasure.Person(number_key(user[ENT]["employeeNumber"]), emails={work_email(user) or ""})
    assert erasure.deactivate_in_lms(settings, person, dry_run=True) == [1]
    assert _is_active(settings, user["id"]) is True
    plan_only = Settings.from_env({**sim.env, "BRIDGE_LMS_PROVISIONING": "plan"}, dotenv_path=None)
    assert erasure.deactivate_in_lms(plan_only, person) == [1]          # plan mode counts, changes nothing
    assert _is_active(settings, user["id"]) is True
    assert erasure.deactivate_in_lms(settings, person) == [1]
    assert _is_active(settings, user["id"]) is False
    assert erasure.deactivate_in_lms(settings, person) == [0]
    off = Settings.from_env({**sim.env, "BRIDGE_LMS_PROVISIONING": "off"}, dotenv_path=None)
    assert erasure.deactivate_in_lms(off, person) is None


def _work_file_with_leavers(users: list[dict]) -> duckdb.DuckDBPyConnection:
    """A work file whose HRIS says the LMS's users left on 2026-01-10."""
    con = duckdb.connect()
    hris = [{"id": f"scim-{u['id']}", "userName": work_email(u), "emails": [{"value": work_email(u)}],
             ENT: {"employeeNumber": u[ENT]["employeeNumber"]}, EMP: {"terminationDate": "2026-01-10"}}
            for u in users]
    DuckDBLander(con).land_batch("hris", "users", hris, "r1", spec=RecordSpec(updated_path=None))
    return con


def _erasure_counts(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return [json.loads(r[0]) for r in con.execute(
        "select removed from audit.erasure where trigger = 'retention' order by erased_at").fetchall()]


def test_retention_deactivates_lms_accounts_as_an_erasure_does(sim) -> None:  # noqa: F811
    env = {**sim.env, "BRIDGE_PSEUDONYM_KEY": "k", "BRIDGE_RETENTION_DAYS_AFTER_TERMINATION": "30"}
    users = _active_users(Settings.from_env(env, dotenv_path=None), 2)
    assert len(users) == 2

    # plan mode: the run records what it would deactivate, the LMS is left alone
    planning = Settings.from_env({**env, "BRIDGE_LMS_PROVISIONING": "plan"}, dotenv_path=None)
    con = _work_file_with_leavers(users[:1])
    done = erasure.apply_retention(con, planning, "run-plan", date(2026, 3, 1))
    assert done["people_erased"] == 1 and done["lms_accounts"] == 1
    assert [c.get("lms:accounts_to_deactivate") for c in _erasure_counts(con)] == [1]
    assert _is_active(planning, users[0]["id"]) is True

    # apply mode: deactivated, and recorded
    applying = Settings.from_env({**env, "BRIDGE_LMS_PROVISIONING": "apply"}, dotenv_path=None)
    con = _work_file_with_leavers(users)
    done = erasure.apply_retention(con, applying, "run-apply", date(2026, 3, 1))
    assert done["people_erased"] == 2 and done["lms_accounts"] == 2
    assert [c.get("lms:accounts_deactivated") for c in _erasure_counts(con)] == [1, 1]
    assert [_is_active(applying, u["id"]) for u in users] == [False, False]
    # nobody left within the limit: nothing erased, nothing deactivated
    assert erasure.apply_retention(con, applying, "run-next", date(2026, 3, 1))["people_erased"] == 0
