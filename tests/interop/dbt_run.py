"""The project's own dbt models, run on a raw layer an interop test landed (a private project copy,
so target/ and logs/ never land in the repository)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]


def run_models(work: Path, tmp: Path, select: str, query: str, env: dict[str, str] | None = None) -> list[tuple]:
    """`dbt run --select <select>` against the work file, then `query` with `{schema}` set to the schema
    the models were built in (the first model named in `select`)."""
    project = tmp / "dbt_project"
    if not project.exists():
        shutil.copytree(REPO / "dbt_project", project,
                        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    full_env = {**os.environ, "BRIDGE_WORK_DB": str(work), "BRIDGE_AS_OF": "2026-06-30",
                "DBT_PROFILES_DIR": str(project), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1",
                **(env or {})}
    done = subprocess.run([str(Path(sys.executable).with_name("dbt")), "run", "--select", select,
                           "--project-dir", str(project)], cwd=project, env=full_env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    model = select.rsplit(maxsplit=1)[-1].lstrip("+").rstrip("+")
    con = duckdb.connect(str(work), read_only=True)
    try:
        schema = con.execute("select table_schema from information_schema.tables where table_name = ?",
                             [model]).fetchone()[0]
        return con.execute(query.format(schema=schema)).fetchall()
    finally:
        con.close()
