"""The orchestrating process loads dagster-dbt without dbt-core (dbt runs in its own process),
and dagster-dbt behaves there as it does with dbt-core: same assets, checks and events.

Each case runs in a new process: which mode dagster-dbt is in is fixed at its import.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Dagster's events for dbt results of one model and one of its tests: pass, warn, fail, error.
EVENTS = textwrap.dedent("""
    import json, sys
    if sys.argv[1] == "with-dbt-core":
        import dbt.version  # loaded first, as in a process that runs dbt itself
    from orchestration.defs.transformation.dbt import dbt_project, translator, warehouse_models
    from dagster_dbt import compat
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

    manifest = json.loads(dbt_project.manifest_path.read_text())
    model = "model.hris_lms_bridge.dim_employee"
    test = sorted(u for u, n in manifest["nodes"].items() if n.get("attached_node") == model)[0]

    def result(uid, name, status):
        node = manifest["nodes"][uid]
        info = {"unique_id": uid, "node_status": status, "resource_type": node["resource_type"],
                "node_name": node["name"], "node_started_at": "2026-11-27T01:00:00",
                "node_finished_at": "2026-11-27T01:00:01",
                "node_relation": {"database": "bridge", "schema": node["schema"],
                                  "alias": node["name"], "relation_name": ""}}
        return {"info": {"name": name, "invocation_id": "i", "msg": "", "level": "info",
                         "ts": "2026-11-27T01:00:01Z"},
                "data": {"status": status, "num_failures": 3, "execution_time": 0.1, "node_info": info}}

    out = {"dbt_core_loaded": compat.DBT_PYTHON_VERSION is not None,
           "dbt_modules": sorted(m for m in sys.modules if m == "dbt" or m.startswith("dbt."))[:3],
           "assets": sorted(k.to_user_string() for k in warehouse_models.keys),
           "checks": sorted(str(c) for c in warehouse_models.check_keys),
           "events": []}
    raws = [result(model, "LogModelResult", "success")]
    raws += [result(test, "LogTestResult", status) for status in ("pass", "warn", "fail", "error")]
    for raw in raws:
        message = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
        for event in message.to_default_asset_events(
            manifest=manifest, dagster_dbt_translator=translator, context=None, target_path=None
        ):
            out["events"].append({
                "type": type(event).__name__,
                "asset": event.asset_key.to_user_string(),
                "check": getattr(event, "check_name", None),
                "passed": getattr(event, "passed", None),
                "severity": str(getattr(event, "severity", None)),
                "metadata": {k: str(getattr(v, "value", v)) for k, v in sorted(event.metadata.items())},
            })
    print(json.dumps(out))
""")


def _load(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", EVENTS, mode], cwd=REPO, capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_orchestrating_process_imports_no_dbt_core_and_dagster_dbt_behaves_the_same() -> None:
    without, with_core = _load("without"), _load("with-dbt-core")

    assert without["dbt_core_loaded"] is False and without["dbt_modules"] == []
    assert with_core["dbt_core_loaded"] is True and with_core["dbt_modules"]
    for part in ("assets", "checks", "events"):
        assert without[part] == with_core[part], part

    assert len(without["assets"]) > 60 and len(without["checks"]) > 100
    model, *tests = without["events"]
    assert model["type"] == "AssetMaterialization" and model["asset"] == "reporting/dim_employee"
    assert [(t["type"], t["passed"], t["severity"]) for t in tests] == [
        ("AssetCheckEvaluation", True, "AssetCheckSeverity.ERROR"),
        ("AssetCheckEvaluation", False, "AssetCheckSeverity.WARN"),
        ("AssetCheckEvaluation", False, "AssetCheckSeverity.ERROR"),
        ("AssetCheckEvaluation", False, "AssetCheckSeverity.ERROR"),
    ]


def test_dbt_core_stays_importable_after_dagster_dbt_is_loaded() -> None:
    code = textwrap.dedent("""
        import orchestration.definitions
        import dbt.version
        from dbt.cli.main import cli
        print(dbt.version.__version__)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().startswith("1.")


def test_the_manifest_is_prepared_without_a_dbt_adapter_in_this_process(tmp_path: Path) -> None:
    """dagster-dbt's stock preparer would try to open an adapter here, where dbt-core is not
    imported, and log a traceback; the bridge's parses through BridgeDbtCli."""
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    code = textwrap.dedent(f"""
        import logging, sys
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        from orchestration.defs.transformation.dbt import BridgeDbtProjectPreparer
        from dagster_dbt import DbtProject, compat
        assert compat.DBT_PYTHON_VERSION is None
        project = DbtProject(project_dir={str(project)!r}, profiles_dir={str(project)!r}, target="duckdb")
        BridgeDbtProjectPreparer().prepare(project)
        print(project.manifest_path.exists(), sorted(m for m in sys.modules if m.startswith("dbt."))[:3])
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[:2] == ["True", "[]"]
    assert "Running dbt command" in done.stderr  # dagster-dbt's own log is on, and says nothing worse
    assert "error was encountered" not in done.stderr and "Traceback" not in done.stderr
