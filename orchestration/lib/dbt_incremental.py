"""When the nightly build must rebuild its incremental models from all of raw (`--full-refresh`).

An incremental model (dbt's `materialized='incremental'`) adds each night what landed since
its last build to the table the previous night left in the warehouse. That is only right
while the table was built by the same code from the same raw rows. The bridge therefore
records, after each build, a fingerprint of every incremental model it built, and rebuilds
them all with `--full-refresh` when:

- a fingerprint differs: the model's SQL or config, a macro it uses, or any model or seed
  upstream of it changed since the recorded build (dbt's own file checksums, from the
  manifest; a changed crosswalk seed counts);
- nothing is recorded: a new warehouse, a failed full refresh, or an erasure or retention
  (`forget`), which deletes or rewrites raw rows the incremental tables already hold.

The fingerprints live in the work file (`bridge_state.dbt_incremental`) beside the raw
layer and the connector cursors, for DuckDB and PostgreSQL warehouses alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

DDL = """create table if not exists bridge_state.dbt_incremental (
    unique_id varchar primary key, fingerprint varchar not null, built_at timestamp not null)"""


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _closure(items: Mapping[str, Any], start: Iterable[str], edge: str) -> list[str]:
    """`start` and everything reachable from it through `depends_on[edge]`, among `items`
    (nodes: the models, seeds and snapshots upstream, as sources have no code; or macros)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen or name not in items:
            continue
        seen.add(name)
        todo.extend(items[name].get("depends_on", {}).get(edge, []))
    return sorted(seen)


def fingerprints(manifest: Mapping[str, Any]) -> dict[str, str]:
    """unique_id -> fingerprint of every incremental model of the manifest."""
    out = {}
    macros = manifest.get("macros", {})
    for uid, node in manifest["nodes"].items():
        if node.get("resource_type") != "model" or node.get("config", {}).get("materialized") != "incremental":
            continue
        digest = hashlib.sha256()
        used: set[str] = set()
        for up in _closure(manifest["nodes"], [uid], "nodes"):
            n = manifest["nodes"][up]
            digest.update(f"{up}\0{n.get('checksum', {}).get('checksum', '')}\0".encode())
            digest.update(json.dumps(n.get("config", {}), sort_keys=True, default=str).encode())
            used.update(n.get("depends_on", {}).get("macros", []))
        for name in _closure(macros, used, "macros"):
            digest.update(f"{name}\0{macros[name].get('macro_sql', '')}\0".encode())
        out[uid] = digest.hexdigest()
    return out


def recorded(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    con.execute(DDL)
    return dict(con.execute("select unique_id, fingerprint from bridge_state.dbt_incremental").fetchall())


def stale_models(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]) -> list[str]:
    """The incremental models whose recorded build is missing or of other code (sorted names)."""
    done = recorded(con)
    return sorted(uid.rsplit(".", 1)[-1] for uid, fp in fingerprints(manifest).items() if done.get(uid) != fp)


def record_built(con: duckdb.DuckDBPyConnection, run_results: Mapping[str, Any] | None,
                 manifest: Mapping[str, Any]) -> list[str]:
    """Record the fingerprint of every incremental model this build built successfully; a
    model that failed keeps its earlier record (or none), so a failed full refresh is redone."""
    current = fingerprints(manifest)
    built = [r["unique_id"] for r in (run_results or {}).get("results", [])
             if r.get("unique_id") in current and r.get("status") == "success"]
    con.execute(DDL)
    now = datetime.now(UTC).replace(tzinfo=None)
    for uid in built:
        con.execute("insert or replace into bridge_state.dbt_incremental values (?, ?, ?)", [uid, current[uid], now])
    return built


def forget(con: duckdb.DuckDBPyConnection) -> None:
    """The next build rebuilds every incremental model from raw (after raw rows were deleted
    or rewritten: erasure, retention). Runs inside the caller's transaction."""
    con.execute(DDL)
    con.execute("delete from bridge_state.dbt_incremental")
