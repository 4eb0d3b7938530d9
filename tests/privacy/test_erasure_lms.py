"""With provisioning applying, an erasure deactivates the person's LMS account (the simulator's
LMS over SCIM): provisioning itself never would, the person being gone from the HRIS data."""

from __future__ import annotations

from orchestration.lib import erasure
from orchestration.lib.provisioning.config import ProvisioningConfig
from orchestration.lib.provisioning.fields import number_key, work_email
from orchestration.lib.provisioning.run import target_config
from orchestration.lib.settings import Settings
from tests.provisioning.conftest import sim  # noqa: F401  (a pilot simulator of the test's own)

ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_erasure_deactivates_the_lms_account(sim) -> None:  # noqa: F811
    from connectors.scim_provision import ScimTarget

    env = {**sim.env, "BRIDGE_LMS_PROVISIONING": "apply"}
    settings = Settings.from_env(env, dotenv_path=None)
    with ScimTarget(target_config(ProvisioningConfig.from_settings(settings))) as target:
        user = next(u for u in target.all_users() if u.get("active", True) and (u.get(ENT) or {}).get("employeeNumber"))
        person = erasure.Person(number_key(user[ENT]["employeeNumber"]), emails={work_email(user) or ""})
        assert erasure.deactivate_in_lms(settings, person, dry_run=True) == 1
        assert target.get_user(user["id"])["active"] is True
        assert erasure.deactivate_in_lms(settings, person) == 1
        assert target.get_user(user["id"])["active"] is False
        assert erasure.deactivate_in_lms(settings, person) == 0
    plan_only = Settings.from_env({**sim.env, "BRIDGE_LMS_PROVISIONING": "plan"}, dotenv_path=None)
    assert erasure.deactivate_in_lms(plan_only, person) is None
