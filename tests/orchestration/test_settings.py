"""Configuration: every problem in one pass, one line each; a simulator only when told."""

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.lib.settings import (
    BY_NAME,
    SOURCE_VARIABLES,
    Settings,
    SettingsError,
    schedule_settings,
)

REPO = Path(__file__).resolve().parents[2]


def real_sources(tmp_path: Path) -> dict[str, str]:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    return {
        "HRIS_SCIM_URL": "https://hris.example.test/scim/v2",
        "HRIS_SCIM_TOKEN": "t0ken-hris",
        "LRS_URL": "https://lrs.example.test/xapi",
        "LRS_USERNAME": "reader",
        "LRS_PASSWORD": "pw-lrs",
        "LRS_ACCOUNT_HOMEPAGE": "https://hr.example.test",
        "LMS_URL": "https://lms.example.test",
        "LMS_CLIENT_ID": "bridge",
        "LMS_CLIENT_SECRET": "s3cret-lms",
        "CHECKINS_URL": "https://checkins.example.test",
        "CHECKINS_TOKEN": "t0ken-checkins",
        "PAYROLL_INBOX": str(inbox),
    }


def problems(env: dict[str, str], **kwargs) -> list[str]:
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env, dotenv_path=None, **kwargs)
    assert str(err.value).splitlines() == err.value.problems
    return err.value.problems


def write_ready(directory: Path, env: dict[str, str], pid: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ready.json").write_text(json.dumps({"env": env, "pid": pid}))


def test_every_missing_source_variable_is_named_at_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_ready(tmp_path / ".sim", real_sources(tmp_path), os.getpid())  # a leftover: never read untold
    found = problems({})
    assert found == [f"{name} is not set" for name in SOURCE_VARIABLES]


def test_a_real_run_defaults_as_of_to_the_utc_date_even_beside_a_simulator(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_ready(tmp_path / ".sim", {"BRIDGE_AS_OF": "2026-06-30", "LMS_CLIENT_SECRET": "sim-secret"}, os.getpid())
    settings = Settings.from_env(real_sources(tmp_path), dotenv_path=None)
    assert settings.as_of is None
    assert settings.as_of_or_today() == datetime.now(UTC).date()
    assert settings.sources["LMS_CLIENT_SECRET"] == "s3cret-lms"
    assert settings.simulator is None


def test_a_simulator_fills_unset_sources_only_when_told(tmp_path):
    sim_env = {**real_sources(tmp_path), "HRIS_SCIM_URL": "http://127.0.0.1:9/scim/v2", "BRIDGE_AS_OF": "2026-06-30"}
    write_ready(tmp_path / "sim", sim_env, os.getpid())
    own = {"BRIDGE_SIMULATOR_DIR": str(tmp_path / "sim"), "HRIS_SCIM_URL": "https://mine.example.test/scim"}
    settings = Settings.from_env(own, dotenv_path=None)
    assert settings.sources["HRIS_SCIM_URL"] == "https://mine.example.test/scim"  # the environment wins
    assert settings.sources["LRS_URL"] == sim_env["LRS_URL"]
    assert settings.as_of.isoformat() == "2026-06-30"
    assert settings.notes == ()


def test_a_ready_json_whose_process_is_gone_is_ignored_with_a_note(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_ready(tmp_path / "sim", {**real_sources(tmp_path), "BRIDGE_AS_OF": "2026-06-30"}, gone.pid)
    env = {**real_sources(tmp_path), "BRIDGE_SIMULATOR_DIR": str(tmp_path / "sim")}
    settings = Settings.from_env(env, dotenv_path=None)
    assert settings.as_of is None
    assert settings.notes == (f"ignoring {tmp_path / 'sim' / 'ready.json'}: its simulator (process {gone.pid}) is gone",)
    # and with the sources unset, the stale simulator fills nothing
    found = problems({"BRIDGE_SIMULATOR_DIR": str(tmp_path / "sim")})
    assert "HRIS_SCIM_URL is not set" in found and len(found) == len(SOURCE_VARIABLES)


BAD = {
    "HRIS_SCIM_URL": ("not-a-url", "must be an http(s) URL"),
    "BRIDGE_AS_OF": ("2026-13-45", "must be an ISO date"),
    "BRIDGE_SCHEDULE_CRON": ("not cron", "must be a cron expression of 5 fields"),
    "BRIDGE_SCHEDULE_TIMEZONE": ("Mars/Olympus", "is not an IANA time zone"),
    "PAYROLL_INBOX": ("/nonexistent/inbox", "which is not a folder"),
    "BRIDGE_HTTP_MAX_ATTEMPTS": ("abc", "must be a whole number"),
    "BRIDGE_HTTP_READ_TIMEOUT": ("-3", "must be a positive number of seconds"),
    "BRIDGE_MAX_UNMAPPED_TITLE_RATE": ("5", "must be a fraction between 0 and 1"),
    "BRIDGE_FULL_REFRESH_DAYS": ("0", "must be at least 1"),
    "BRIDGE_TITLE_CROSSWALK": ("/nonexistent.csv", "which is not a file"),
    "BRIDGE_ALERT_WEBHOOK_URL": ("ftp://x", "must be an http(s) URL"),
    "BRIDGE_HEADCOUNT_TOLERANCE_ABS": ("-1", "must be 0 or more"),
    "BRIDGE_WAREHOUSE": ("mysql://x/y", "must be a DuckDB file path or a postgresql:// URL"),
    "BRIDGE_MAX_ABSENCE_TERMINATION_RATE": ("1.5", "must be a fraction between 0 and 1"),
    "LRS_SETTLE_SECONDS": ("soon", "must be a whole number"),
    "BRIDGE_LMS_PROVISIONING": ("yes", "must be one of off, plan, apply"),
    "BRIDGE_PROVISIONING_SCOPE": ("country=FR", "must be filters like 'division=Technology|Operations"),
    "BRIDGE_PROVISIONING_WORKERS": ("0", "must be at least 1"),
    "BRIDGE_PROVISIONING_MAX_DEACTIVATIONS": ("many", "must be a whole number"),
    "BRIDGE_PROVISIONING_MAX_CHANGE_RATE": ("10%", "must be a number"),
}


def test_every_malformed_setting_is_one_line_in_one_pass(tmp_path):
    env = {**real_sources(tmp_path), **{name: value for name, (value, _) in BAD.items()}}
    found = problems(env)
    assert len(found) == len(BAD)
    for name, (_, why) in BAD.items():
        [line] = [p for p in found if p.startswith(name + " ")]
        assert why in line, line
    assert "LMS_SCIM_URL is not set" not in "\n".join(found)
    # a secret or URL is never echoed back
    assert "not-a-url" not in "\n".join(found)


def test_provisioning_needs_its_token_and_defaults_to_plan(tmp_path):
    env = {**real_sources(tmp_path), "LMS_SCIM_URL": "https://lms.example.test/scim/v2"}
    assert problems(env) == ["LMS_SCIM_TOKEN is not set (LMS_SCIM_URL is: provisioning needs its bearer token)"]
    settings = Settings.from_env({**env, "LMS_SCIM_TOKEN": "tok", "BRIDGE_PROVISIONING_SCOPE":
                                  "division=Sales, Marketing|Ops; department=Platform"}, dotenv_path=None)
    assert settings.get("BRIDGE_LMS_PROVISIONING") == "plan"
    assert settings.get("BRIDGE_PROVISIONING_SCOPE") == (
        ("department", frozenset({"Platform"})), ("division", frozenset({"Sales, Marketing", "Ops"})))
    assert settings.sources["LMS_SCIM_URL"] == "https://lms.example.test/scim/v2"  # provisioning reads it there
    assert "tok" in settings.secrets
    assert Settings.from_env(real_sources(tmp_path), dotenv_path=None).get("BRIDGE_LMS_PROVISIONING") == "off"


def test_values_are_typed_with_their_defaults(tmp_path):
    settings = Settings.from_env({**real_sources(tmp_path), "BRIDGE_HTTP_MAX_ATTEMPTS": "3"}, dotenv_path=None)
    assert settings.get("BRIDGE_HTTP_MAX_ATTEMPTS") == 3
    assert settings.get("BRIDGE_HTTP_READ_TIMEOUT") == 60.0
    assert settings.get("BRIDGE_MAX_ABSENCE_TERMINATION_RATE") == 0.05
    assert settings.get("LRS_SETTLE_SECONDS") == 300


def test_the_schedule_alone_is_checked_for_the_code_location():
    assert schedule_settings({}) == ("0 2 * * *", "UTC")
    assert schedule_settings({"BRIDGE_SCHEDULE_CRON": "30 1 * * 1-5", "BRIDGE_SCHEDULE_TIMEZONE": "Europe/Paris"}) \
        == ("30 1 * * 1-5", "Europe/Paris")
    with pytest.raises(SettingsError) as err:
        schedule_settings({"BRIDGE_SCHEDULE_CRON": "61 2 * * *", "BRIDGE_SCHEDULE_TIMEZONE": "Mars/Olympus"})
    assert [p.split()[0] for p in err.value.problems] == ["BRIDGE_SCHEDULE_CRON", "BRIDGE_SCHEDULE_TIMEZONE"]


def test_every_variable_of_the_readme_tables_is_validated():
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Configuration"):readme.index("## Architecture")]
    named = set(re.findall(r"^\| ((?:`[A-Z_]+`(?:, )?)+) \|", section, flags=re.MULTILINE))
    variables = {v for cell in named for v in re.findall(r"`([A-Z_]+)`", cell)}
    assert len(variables) > 25
    assert variables <= set(BY_NAME), sorted(variables - set(BY_NAME))


def test_the_cli_prints_every_problem_and_exits_2(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "BRIDGE_SCHEDULE_CRON": "not cron",
           "BRIDGE_SCHEDULE_TIMEZONE": "Mars/Olympus", "PAYROLL_INBOX": "/nonexistent",
           "BRIDGE_HTTP_MAX_ATTEMPTS": "abc", "BRIDGE_MAX_UNMAPPED_TITLE_RATE": "5"}
    done = subprocess.run([str(Path(sys.executable).parent / "bridge"), "sync"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith("bridge: configuration error: ") for line in lines), lines
    named = {line.removeprefix("bridge: configuration error: ").split()[0] for line in lines}
    assert {"BRIDGE_SCHEDULE_CRON", "BRIDGE_SCHEDULE_TIMEZONE", "PAYROLL_INBOX", "BRIDGE_HTTP_MAX_ATTEMPTS",
            "BRIDGE_MAX_UNMAPPED_TITLE_RATE", "HRIS_SCIM_URL", "CHECKINS_TOKEN"} <= named
    assert "Traceback" not in done.stderr
