"""dbt's run results as rows of audit.dq_result, so auditors see dbt tests beside GX.

A model that failed to build is recorded as a failing blocking check too: a partial
build must never be published.

A failed test names its keys, as GX and SQL checks do: after the build, the test's own
compiled query (run_results.json `compiled_code`, a public dbt artifact) is read again
for up to 20 keys of the failing rows (`failing_keys`). What a key is comes from the test
(`unique`: the duplicated value; `unique_combination_of_columns`: its columns;
`relationships`: the reference that resolves to nothing) or from the model's declared keys
(its columns with a `unique` test, else a `unique_combination_of_columns`), else from
columns named like keys (`*_id`, `*_number`, ...). Values that are not keys (salaries,
e-mails, free text) are never selected; a key holding `@` is hashed (`safe_key`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from orchestration.lib.quality.audit_rows import insert_dq_rows
from orchestration.lib.quality.outcome import MAX_SAMPLE_KEYS, safe_key

log = logging.getLogger(__name__)

# Runs one query, returns (column names, rows).
Query = Callable[[str], tuple[list[str], list[tuple]]]

# Columns named like keys: used when a model declares none (findings, intermediate models).
_KEYISH = re.compile(r"(^|_)(id|number|key|code|sha256|ref)$|^(cost_center|file_name|cycle)$")


def _target_of(test_node: Mapping[str, Any], nodes: Mapping[str, Any]) -> str:
    for parent in test_node.get("depends_on", {}).get("nodes", []):
        node = nodes.get(parent)
        if node and node.get("resource_type") in ("model", "seed", "snapshot"):
            return f"{node['schema']}.{node['name']}"
        if node and node.get("resource_type") == "source":
            return f"{node['schema']}.{node['identifier']}"  # source hris.users is raw.hris__users
    return ""


def record_dbt_results(
    con: duckdb.DuckDBPyConnection, run_id: str, run_results: Mapping[str, Any], manifest: Mapping[str, Any],
    *, pg_url: str | None = None,
) -> list[str]:
    """Write one dq_result row per dbt test and per failed model; return the blocking failures.

    Failing tests' keys are read from the warehouse dbt built in: `con` (the DuckDB work
    file), or PostgreSQL when `pg_url` is given.
    """
    nodes = manifest.get("nodes", {})
    relations = {**nodes, **manifest.get("sources", {})}
    now = datetime.now(UTC).replace(tzinfo=None)
    samples = _samples(con, run_results, manifest, pg_url)
    rows = []
    blocking_failed = []
    for result in run_results.get("results", []):
        uid = result["unique_id"]
        node = nodes.get(uid, {})
        status = result.get("status")
        if uid.startswith("test."):
            configured = (node.get("config", {}).get("severity") or "error").lower()
            severity = "blocking" if configured == "error" else "warn"
            name = node.get("name", uid)
            # A test skipped because something upstream failed was not evaluated (NULL): the
            # upstream failure is what blocks, and blocked_by should name only that.
            success = None if status == "skipped" else status == "pass"
            rows.append(
                (run_id, name, _target_of(node, relations), severity, success, status,
                 int(result.get("failures") or 0), sample_json(samples.get(uid, [])), now, "dbt")
            )
            if severity == "blocking" and success is False:
                blocking_failed.append(name)
        elif uid.startswith(("model.", "seed.", "snapshot.")) and status == "error":
            name = f"dbt_build__{node.get('name', uid)}"
            target = f"{node.get('schema', '')}.{node.get('name', uid)}"
            rows.append((run_id, name, target, "blocking", False, status, 0, "[]", now, "dbt"))
            blocking_failed.append(name)
    insert_dq_rows(con, rows)
    return blocking_failed


def sample_json(keys: list[str]) -> str:
    return json.dumps([safe_key(k) for k in keys[:MAX_SAMPLE_KEYS]])


# --- the failing rows' keys ---------------------------------------------------------------


def _failing(run_results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in run_results.get("results", [])
            if r["unique_id"].startswith("test.") and r.get("status") in ("fail", "warn")
            and int(r.get("failures") or 0) > 0 and r.get("compiled_code")]


def _samples(con: duckdb.DuckDBPyConnection, run_results: Mapping[str, Any], manifest: Mapping[str, Any],
             pg_url: str | None) -> dict[str, list[str]]:
    if not _failing(run_results):
        return {}
    try:
        return _read_samples(con, run_results, manifest, pg_url)
    except Exception as exc:  # noqa: BLE001 - no warehouse to read from: the results are recorded without keys
        log.warning("dbt tests: could not read the failing rows' keys: %s", type(exc).__name__)
        return {}


def _read_samples(con: duckdb.DuckDBPyConnection, run_results: Mapping[str, Any], manifest: Mapping[str, Any],
                  pg_url: str | None) -> dict[str, list[str]]:
    if pg_url:
        from orchestration.lib.postgres.connection import connect
        from orchestration.lib.postgres.roles import WRITER_ROLE

        pg = connect(pg_url, role=WRITER_ROLE, autocommit=True)
        try:
            return failing_keys(run_results, manifest, postgres_query(pg))
        finally:
            pg.close()
    catalog = next((n.get("database") for n in manifest.get("nodes", {}).values() if n.get("database")), None)
    return failing_keys(run_results, manifest, duckdb_query(con, catalog))


def duckdb_query(con: duckdb.DuckDBPyConnection, catalog: str | None) -> Query:
    """Queries on the work file. dbt attaches it as catalog `catalog` (dbt_work_file), while this
    connection names it after the file: relation names are rewritten to this connection's."""
    current = con.execute("select current_database()").fetchone()[0]

    def run(sql: str) -> tuple[list[str], list[tuple]]:
        if catalog and current != catalog:
            sql = sql.replace(f'"{catalog}".', f'"{current}".')
        cur = con.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()

    return run


def postgres_query(pg: Any) -> Query:
    def run(sql: str) -> tuple[list[str], list[tuple]]:
        with pg.cursor() as cur:
            cur.execute(sql)
            return [d[0] for d in cur.description], cur.fetchall()

    return run


def model_keys(manifest: Mapping[str, Any]) -> dict[str, list[list[str]]]:
    """Each model's declared keys, preferred first: its `unique` columns in the model's column
    order, then its `unique_combination_of_columns`."""
    nodes = manifest.get("nodes", {})
    single: dict[str, list[str]] = {}
    combos: dict[str, list[list[str]]] = {}
    for node in nodes.values():
        meta = node.get("test_metadata") or {}
        model = _model_of(node)
        if node.get("resource_type") != "test" or model is None:
            continue
        if meta.get("name") == "unique" and node.get("column_name"):
            single.setdefault(model, []).append(node["column_name"])
        elif meta.get("name") == "unique_combination_of_columns":
            cols = (meta.get("kwargs") or {}).get("combination_of_columns") or []
            if cols:
                combos.setdefault(model, []).append(list(cols))
    out: dict[str, list[list[str]]] = {}
    for model in set(single) | set(combos):
        order = list((nodes.get(model, {}).get("columns") or {}).keys())
        ranked = sorted(set(single.get(model, [])), key=lambda c: (order.index(c) if c in order else len(order), c))
        out[model] = [[c] for c in ranked] + combos.get(model, [])
    return out


def _model_of(test_node: Mapping[str, Any]) -> str | None:
    attached = test_node.get("attached_node")
    if attached:
        return attached
    parents = [p for p in test_node.get("depends_on", {}).get("nodes", []) if p.startswith(("model.", "seed."))]
    return parents[0] if len(parents) == 1 else None


def failing_keys(run_results: Mapping[str, Any], manifest: Mapping[str, Any], query: Query) -> dict[str, list[str]]:
    """Up to 20 keys of each failing test's failing rows, by test unique_id. A query that fails
    leaves that test without samples (logged); the test's result is recorded all the same."""
    nodes = manifest.get("nodes", {})
    keys_of = model_keys(manifest)
    out: dict[str, list[str]] = {}
    for result in _failing(run_results):
        uid = result["unique_id"]
        node = nodes.get(uid, {})
        try:
            out[uid] = _keys_for(node, result["compiled_code"], keys_of.get(_model_of(node) or "", []), query)
        except Exception as exc:  # noqa: BLE001 - a sample is evidence, never a reason to lose the row
            log.warning("dbt test %s: could not read its failing rows' keys: %s", node.get("name", uid),
                        str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
    return out


def _keys_for(node: Mapping[str, Any], compiled: str, declared: list[list[str]], query: Query) -> list[str]:
    meta = node.get("test_metadata") or {}
    kind = meta.get("name")
    kwargs = meta.get("kwargs") or {}
    column = node.get("column_name") or kwargs.get("column_name")
    if kind == "unique":
        return _select(query, compiled, ["unique_field"])
    if kind == "unique_combination_of_columns":
        return _select(query, compiled, list(kwargs.get("combination_of_columns") or []))
    if kind == "relationships":
        return _select(query, compiled, ["from_field"])
    if kind == "accepted_values" and column:
        # the failing rows are values; the keys are those of the rows holding them
        m = re.search(r"\bfrom\s+(.+?)\s+group\s+by\s", compiled, re.DOTALL | re.IGNORECASE)
        if m is None:
            return []
        sql = (f"select * from {m.group(1)} as bridge_model where cast({_quote(column)} as varchar) in "
               f"(select cast(value_field as varchar) from (\n{compiled}\n) as bridge_failing)")
        return _select(query, sql, _pick(query, sql, declared, exclude=None))
    if kind == "not_null" and column:
        # dbt's own store-failures form of the test: the whole failing rows, not just the null column
        compiled = re.sub(rf"\bselect\s+{_column_pattern(column)}\s+from\b", "select *\nfrom", compiled,
                          count=1, flags=re.IGNORECASE)
    return _select(query, compiled, _pick(query, compiled, declared, exclude=column if kind == "not_null" else None))


def _pick(query: Query, sql: str, declared: list[list[str]], exclude: str | None) -> list[str]:
    """The key columns among what `sql` returns: a declared key, else columns named like keys."""
    cols, _ = query(f"select * from (\n{sql}\n) as bridge_failing limit 0")
    present = {c.lower(): c for c in cols}
    for key in declared:
        if exclude not in key and all(k.lower() in present for k in key):
            return [present[k.lower()] for k in key]
    return [c for c in cols if _KEYISH.search(c.lower()) and c != exclude][:3]


def _select(query: Query, sql: str, columns: Sequence[str]) -> list[str]:
    if not columns:
        return []
    cols = ", ".join(_quote(c) for c in columns)
    not_all_null = " or ".join(f"{_quote(c)} is not null" for c in columns)
    _, rows = query(f"select distinct {cols} from (\n{sql}\n) as bridge_failing where {not_all_null} "
                    f"order by {cols} limit {MAX_SAMPLE_KEYS}")
    return ["|".join("" if v is None else str(v) for v in row) for row in rows]


def _quote(column: str) -> str:
    return '"' + column.strip('"').replace('"', '""') + '"'


def _column_pattern(column: str) -> str:
    bare = re.escape(column.strip('"'))
    return rf'(?:"{bare}"|{bare})'
