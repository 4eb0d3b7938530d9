"""The simulator's HRIS truth as the published `reporting.dim_employee` would show it (the desired
state for provisioning tests and the provisioning benchmark), and the check that an LMS holds what
its truth says a correct provisioning leaves behind."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb

from connectors.scim_provision import ENTERPRISE, ScimTarget, ScimTargetConfig


def people_from_truth(truth: Path) -> duckdb.DuckDBPyConnection:
    """The simulator's HRIS truth as the published dim_employee would show it."""
    con = duckdb.connect()
    con.execute("create schema reporting")
    con.execute(f"""create table reporting.dim_employee as select employee_number, email,
        'Person ' || employee_number as full_name, canonical_job_title as source_title, canonical_job_title,
        department, division, cost_center, nullif(manager_employee_number, '') as manager_employee_number,
        active = 'true' as is_active, try_cast(nullif(termination_date, '') as date) as termination_date,
        case when absent_from_hris = 'true' then 'absent_from_source' end as termination_reason
        from read_csv('{truth / "employees.csv"}', all_varchar = true)""")
    return con


def lms_users(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every user the simulator's LMS holds, by its SCIM id (`env`: the simulator's settings)."""
    with ScimTarget(ScimTargetConfig(env["LMS_SCIM_URL"], env["LMS_SCIM_TOKEN"])) as t:
        return {u["id"]: u for u in t.all_users()}


def assert_lms_as_truth_says(truth: Path, before: dict[str, dict], after: dict[str, dict]) -> int:
    """The LMS's users after a provisioning (`after`, by SCIM id) are what truth/lms_provisioning.csv
    says a correct one leaves: every active person's user carries their HRIS attributes and manager,
    a leaver's user is deactivated and nothing else, and the users no employee can claim are as they
    were (`before`). Returns how many active people were checked."""
    by_number = {u["externalId"]: u for u in after.values() if u.get("externalId")}
    with open(truth / "lms_provisioning.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    checked = 0
    for row in rows:
        u = by_number.get(row["employee_number"])
        if row["expect"] == "active":       # userName is caseExact=false (RFC 7643): a spelling may stay
            assert u is not None, f"no LMS user for {row['employee_number']}"
            ent = u[ENTERPRISE]
            assert (u["active"], u["userName"].lower(), u["title"], ent["department"], ent["division"],
                    ent["costCenter"]) == (True, row["user_name"], row["title"], row["department"],
                                           row["division"], row["cost_center"]), row["employee_number"]
            if row["manager_employee_number"]:
                assert ent["manager"]["value"] == by_number[row["manager_employee_number"]]["id"]
            checked += 1
        elif row["expect"] == "inactive":   # a leaver's user is only deactivated, never rewritten
            leaver = [v for v in after.values() if v["userName"].strip().lower() == row["user_name"]
                      or (v.get("externalId") or "").lstrip("0") == row["employee_number"].lstrip("0")]
            assert [v["active"] for v in leaver] == [False], row["employee_number"]
    # LMS users no employee can claim are exactly as they were
    with open(truth / "lms_untouched_users.csv", newline="") as fh:
        untouched = [r["lms_user_id"] for r in csv.DictReader(fh)]
    assert untouched and all(after[uid] == before[uid] for uid in untouched)
    return checked
