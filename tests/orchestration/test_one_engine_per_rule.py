"""Each data-quality rule runs in one engine (docs/internals.md, 'Which engine checks what').

A rule that a GX suite and a dbt test both check costs a dbt node, a Dagster check and an
audit row per run for nothing, and the two copies drift: one says warn, the other blocking.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from orchestration.lib.quality.suites import SUITES

Rule = tuple[str, ...]


def gx_rules() -> dict[Rule, str]:
    """(table, kind, columns...) -> severity, for the GX expectations that read a table as is."""
    rules: dict[Rule, str] = {}
    for suite in SUITES.values():
        table = suite.target_table
        for frame in suite.frames:
            for e in frame.expects:
                kw = e.kwargs
                ref = re.search(r"from (\S+) p where p\.(\w+) = t\.(\w+)", frame.sql)
                if ref and kw.get("column", "").endswith("_resolves"):
                    rules[(table, "relationships", ref.group(3), ref.group(1), ref.group(2))] = e.severity
                elif " where " in frame.sql.lower():
                    continue  # a filtered frame checks a narrower rule than a whole-table test
                elif e.gx_type == "ExpectColumnValuesToNotBeNull":
                    rules[(table, "not_null", kw["column"])] = e.severity
                elif e.gx_type == "ExpectColumnValuesToBeUnique":
                    rules[(table, "unique", kw["column"])] = e.severity
                elif e.gx_type == "ExpectCompoundColumnsToBeUnique":
                    rules[(table, "unique_combination", *sorted(kw["column_list"]))] = e.severity
                elif e.gx_type == "ExpectColumnValuesToBeInSet":
                    rules[(table, "accepted_values", kw["column"], *sorted(map(str, kw["value_set"])))] = e.severity
    return rules


def dbt_rules(manifest: dict) -> Iterator[tuple[Rule, str, str]]:
    """(rule, severity, test name) for the dbt generic tests without a `where`."""
    relations = {**manifest["nodes"], **manifest["sources"]}

    def table(unique_id: str) -> str:
        node = relations[unique_id]
        return f"{node['schema']}.{node.get('alias') or node.get('identifier') or node['name']}"

    for node in manifest["nodes"].values():
        meta = node.get("test_metadata")
        if node["resource_type"] != "test" or not meta or node["config"].get("where"):
            continue
        kw = meta.get("kwargs", {})
        tested = node.get("attached_node") or next(
            (d for d in node["depends_on"]["nodes"] if d.startswith("source.")), None)
        if tested is None:
            continue
        severity = "blocking" if node["config"]["severity"].lower() == "error" else "warn"
        col = node.get("column_name") or kw.get("column_name")
        name, t = meta["name"], table(tested)
        if name in ("not_null", "unique"):
            rule: Rule = (t, name, col)
        elif name == "accepted_values":
            rule = (t, name, col, *sorted(map(str, kw["values"])))
        elif name == "relationships":
            parent = re.search(r"ref\('(\w+)'\)", kw["to"])
            if not parent:
                continue
            parent_id = next(u for u, n in relations.items() if n.get("name") == parent.group(1) and
                             n["resource_type"] in ("model", "seed"))
            rule = (t, name, col, table(parent_id), kw["field"])
        elif name == "unique_combination_of_columns":
            rule = (t, "unique_combination", *sorted(kw["combination_of_columns"]))
        else:
            continue
        yield rule, severity, node["name"]


def test_no_rule_is_checked_by_both_gx_and_dbt() -> None:
    from orchestration.defs.transformation.dbt import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    gx = gx_rules()
    both = [f"{test} ({severity}) = GX {gx[rule]}" for rule, severity, test in dbt_rules(manifest) if rule in gx]
    assert not both, "checked twice (keep the GX one on published tables):\n" + "\n".join(sorted(both))


def test_the_overlap_finder_sees_a_duplicate() -> None:
    """The guard above can fail: a dbt test written like a GX expectation is found."""
    fake = {
        "sources": {},
        "nodes": {
            "model.p.dim_employee": {"resource_type": "model", "name": "dim_employee", "schema": "reporting",
                                     "alias": "dim_employee"},
            "test.p.unique_dim_employee_employee_number": {
                "resource_type": "test", "name": "unique_dim_employee_employee_number",
                "test_metadata": {"name": "unique", "kwargs": {"column_name": "employee_number"}},
                "attached_node": "model.p.dim_employee", "column_name": "employee_number",
                "config": {"severity": "ERROR", "where": None}, "depends_on": {"nodes": ["model.p.dim_employee"]},
            },
            "test.p.relationships_dim_employee_manager": {
                "resource_type": "test", "name": "relationships_dim_employee_manager",
                "test_metadata": {"name": "relationships", "kwargs": {
                    "column_name": "manager_employee_number", "to": "ref('dim_employee')",
                    "field": "employee_number"}},
                "attached_node": "model.p.dim_employee", "column_name": "manager_employee_number",
                "config": {"severity": "ERROR", "where": None}, "depends_on": {"nodes": ["model.p.dim_employee"]},
            },
        },
    }
    gx = gx_rules()
    found = {test for rule, _, test in dbt_rules(fake) if rule in gx}
    assert found == {"unique_dim_employee_employee_number", "relationships_dim_employee_manager"}
