"""The published tables are enforced dbt model contracts (dbt_project/README.md, "Contracts")."""

from __future__ import annotations

import json
import re
import shutil

from dbt_helpers import dbt_env, run_dbt

PUBLISHED = ("reporting", "restricted")


def _published_models(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["schema"] in PUBLISHED}


def test_every_published_model_declares_an_enforced_contract(dbt_build) -> None:
    manifest = json.loads((dbt_build.project_dir / "target" / "manifest.json").read_text())
    models = _published_models(manifest)
    assert {"dim_employee", "fct_compensation", "rpt_terminated_paid"} <= set(models)
    assert not [name for name, n in models.items() if not n["config"]["contract"]["enforced"]]
    untyped = [f"{name}.{c}" for name, n in models.items() for c, col in n["columns"].items()
               if not col.get("data_type")]
    assert not untyped, untyped
    # ids are opaque text (README, Identifiers)
    numeric_ids = [f"{name}.{c} {col['data_type']}" for name, n in models.items()
                   for c, col in n["columns"].items() if re.search(r"(^|_)id$", c) and col["data_type"] != "text"]
    assert not numeric_ids, numeric_ids


def test_a_changed_column_type_fails_the_build(dbt_build, tmp_path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(dbt_build.project_dir, project, ignore=shutil.ignore_patterns("logs"))
    db = tmp_path / "work.duckdb"
    shutil.copyfile(dbt_build.db_path, db)
    yml = project / "models" / "marts" / "competency" / "_competency__models.yml"
    text = yml.read_text()
    declared = "  - name: scale_max\n    data_type: integer\n"
    assert declared in text  # what the model yields
    yml.write_text(text.replace(declared, declared.replace("data_type: integer", "data_type: text")))
    done = run_dbt(["run", "--select", "dim_competency", "--target-path", str(tmp_path / "target")],
                   project, dbt_env(db, project))
    assert done.returncode != 0
    assert "enforced contract" in done.stdout and "scale_max" in done.stdout, done.stdout[-3000:]
