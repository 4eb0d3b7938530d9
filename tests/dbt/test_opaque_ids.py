"""Ids are opaque text end to end (dbt_project/README.md, "Identifiers"): no model casts an
id column to a number. `crs-105` fails such a cast outright and `00042` becomes `42`.

The SQL checked is what dbt compiled (macros expanded: `dbt.safe_cast(...)` is a plain
`cast` on both adapters), parsed with sqlglot (a dependency of dagster-dbt)."""

from __future__ import annotations

import json
import re

import pytest
import raw_fixture
from dbt_helpers import copy_project, dbt_env, run_dbt
from sqlglot import exp, parse_one

ID_COLUMN = re.compile(r"(^|_)id$|cursor", re.IGNORECASE)
NUMERIC = exp.DataType.NUMERIC_TYPES


def _under_aggregate(column: exp.Column, cast: exp.Cast) -> bool:
    node = column.parent
    while node is not None and node is not cast:
        if isinstance(node, exp.AggFunc):
            return True
        node = node.parent
    return False


def id_casts(sql: str, dialect: str = "duckdb") -> list[str]:
    """Every cast (also try_cast and `::`) of an id column to a numeric type in `sql`.
    A column under an aggregate (`cast(count(x_id) as bigint)`) is a count, not an id."""
    found = []
    for cast in parse_one(sql, dialect=dialect).find_all(exp.Cast):
        if cast.to.this not in NUMERIC:
            continue
        if any(ID_COLUMN.search(c.name) and not _under_aggregate(c, cast) for c in cast.this.find_all(exp.Column)):
            found.append(cast.sql(dialect=dialect))
    return found


@pytest.fixture(scope="module")
def compiled_models(tmp_path_factory) -> dict[str, str]:
    """model name -> compiled SQL, from `dbt compile` of a private copy (no build needed)."""
    root = tmp_path_factory.mktemp("dbt-compile")
    project_dir = copy_project(root / "dbt_project")
    db_path = root / "work.duckdb"
    raw_fixture.build(db_path)
    done = run_dbt(["compile", "--select", "resource_type:model"], project_dir, dbt_env(db_path, project_dir))
    assert done.returncode == 0, done.stdout[-4000:]
    manifest = json.loads((project_dir / "target" / "manifest.json").read_text())
    models = {n["name"]: n["compiled_code"] for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and n.get("compiled_code")}
    assert len(models) > 50, sorted(models)
    return models


def test_no_model_casts_an_id_to_a_number(compiled_models) -> None:
    offenders = {name: casts for name, sql in compiled_models.items() if (casts := id_casts(sql))}
    assert not offenders, f"ids are opaque text; these models cast one to a number: {offenders}"


@pytest.mark.parametrize("sql", [
    # what int_competency__gaps and int_objectives__own_metrics compiled to before ids were opaque
    "select row_number() over (order by c.target_level, cast(c.course_id as bigint), c.course_id) from c",
    "select try_cast(checkin_id as integer) from k",
    "select record_id::numeric as n from raw.lms__courses",
    "select cast(trim(o.parent_objective_id) as int) from o",
])
def test_the_finder_sees_an_id_cast(sql: str) -> None:
    assert id_casts(sql)


@pytest.mark.parametrize("sql", [
    "select cast(count(distinct course_id) as bigint) from c",      # a count of ids is a number
    "select cast(course_id as varchar), cast(fte_text as decimal) from c",
    "select cast(n.weight as double) / 2 from n",
])
def test_the_finder_leaves_other_casts_alone(sql: str) -> None:
    assert not id_casts(sql)
