"""Differential checks of a published warehouse against the ground truth the simulator wrote.

One set of assertions for both targets: `test_ground_truth.py` runs them on DuckDB (the
standard profile), `tests/postgres/test_pg_pipeline.py` on what the same pipeline published
in PostgreSQL. A `Query` runs a portable SELECT (`?` placeholders) against the warehouse the
readers see (`reporting`, `audit`); `work` against the pipeline's own schemas (`raw`,
`intermediate`), which on Postgres is the same database.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import published_value

Query = Callable[..., list[tuple]]


def duckdb_query(path: Path) -> Query:
    return functools.partial(published_value, path)


def postgres_query(url: str) -> Query:
    import psycopg2

    def q(sql: str, params: list | None = None) -> list[tuple]:
        con = psycopg2.connect(url)
        try:
            with con.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), params or [])
                return cur.fetchall()
        finally:
            con.close()

    return q


def truth(truth_dir: str | Path, name: str) -> list[dict[str, str]]:
    with open(Path(truth_dir) / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def normal_key(source: str, key: str) -> str:
    """The contract's comparison rules: numbers without leading zeros, emails trimmed and
    lower-cased (an xAPI mbox is an email too)."""
    key = key.strip()
    if source == "payroll":
        return key.lstrip("0")
    if source == "checkins":
        return key.lower()
    if source == "xapi" and key.lower().startswith("mbox:"):
        return key.lower()
    return key


def employees_published(truth_dir: str | Path, q: Query) -> set[str]:
    expected = {row["employee_number"] for row in truth(truth_dir, "employees.csv")}
    published = {r[0] for r in q("select employee_number from reporting.dim_employee")}
    assert published == expected, f"{len(published ^ expected)} employees differ from the HRIS truth"
    return expected


def contract_tables_published(q: Query, restricted: Query) -> None:
    """Every table CONTRACT 4 lists, with its columns first in contract order (`restricted`
    reads the restricted schema: a file of its own on DuckDB, the same database on Postgres)."""
    contract = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "contract_tables.json").read_text())
    for schema, tables in contract.items():
        read = q if schema == "reporting" else restricted
        for table, columns in tables.items():
            published = [r[0] for r in read(
                "select column_name from information_schema.columns where table_schema = ? "
                "and table_name = ? order by ordinal_position", [schema, table])]
            assert published[: len(columns)] == columns, f"{schema}.{table}: {published}"


def identity_links_match(truth_dir: str | Path, work: Query) -> None:
    expected: dict[tuple[str, str], str] = {}
    for row in truth(truth_dir, "identity_links.csv"):
        source = row["source_system"]
        expected[(source, normal_key(source, row["source_key"]))] = row["employee_number"]
    actual = {
        (source, normal_key(source, key)): employee or ""
        for source, key, employee in work(
            "select source_system, source_key, employee_number from intermediate.int_identity__links")
    }
    for source in ("hris", "payroll", "lms", "xapi", "checkins"):
        exp = {k: v for k, v in expected.items() if k[0] == source}
        act = {k: v for k, v in actual.items() if k[0] == source}
        assert exp, f"the truth has no {source} identities"
        assert act == exp, f"{source}: {len(set(exp.items()) ^ set(act.items()))} links differ"


def aliases_resolve(truth_dir: str | Path, q: Query) -> None:
    published = {
        (system, title): (canonical, method)
        for system, title, canonical, method in q(
            "select source_system, source_title, canonical_job_title, match_method from reporting.job_title_alias")
    }
    kinds = set()
    for row in truth(truth_dir, "title_aliases.csv"):
        key = (row["source_system"], row["source_title"])
        assert key in published, f"alias {key} is missing from job_title_alias"
        canonical, method = published[key]
        kinds.add(row["kind"])
        if row["kind"] == "unmapped":
            assert (canonical, method) == (None, "unmapped"), key
        else:
            assert canonical == row["canonical_job_title"], key
            assert method == row["kind"], key
    assert kinds == {"exact", "normalised", "crosswalk", "unmapped"}


def voided_statements_absent(truth_dir: str | Path, q: Query, work: Query) -> None:
    rows = truth(truth_dir, "voided_statements.csv")
    voided = {row["statement_id"] for row in rows}
    assert voided
    published = {r[0] for r in q("select statement_id from reporting.fct_learning_completion")}
    assert not (voided & published), f"voided statements published: {sorted(voided & published)[:5]}"
    # the voiding statements themselves were landed (voiding across runs: test_pipeline.py)
    voiding = {row["voiding_statement_id"] for row in rows}
    landed = {r[0] for r in work("select record_id from raw.xapi__statements")}
    assert voiding <= landed


def voiding_removed_earlier_completions(truth_dir: str | Path, q: Query, work: Query, before: set[str]) -> None:
    """After the simulator voided statements whose targets an earlier run had published, the
    next run published none of them; they stay in raw (the source said it, once)."""
    voided_now = {r["statement_id"] for r in truth(truth_dir, "voided_statements.csv")
                  if r["voided_after_start"] == "true"}
    assert voided_now, "the simulator voided nothing after start-up: this proves nothing"
    landed_then = voided_now & before
    assert landed_then, "none of the voided targets had been published before"
    after = {r[0] for r in q("select statement_id from reporting.fct_learning_completion")}
    assert not (voided_now & after)
    raw = {r[0] for r in work("select record_id from raw.xapi__statements")}
    assert landed_then <= raw


def terminated_but_paid_is_a_finding(truth_dir: str | Path, q: Query, run_id: str) -> None:
    expected = {row["employee_number"] for row in truth(truth_dir, "terminated_but_paid.csv")}
    assert expected
    rows = q("select severity, success, sample_keys from audit.dq_result "
             "where run_id = ? and check_name = 'terminated_but_paid'", [run_id])
    assert len(rows) == 1, rows
    severity, success, sample_keys = rows[0]
    assert (severity, success) == ("warn", False)
    keys = json.loads(sample_keys) if isinstance(sample_keys, str) else sample_keys
    assert set(keys) == expected


def orphan_objectives_listed(truth_dir: str | Path, q: Query) -> None:
    expected = {row["objective_id"] for row in truth(truth_dir, "orphan_objectives.csv")}
    assert expected
    published = {r[0] for r in q("select objective_id from reporting.dim_objective")}
    assert expected <= published
    flagged = {r[0] for r in q("select objective_id from reporting.dim_objective where is_orphan")}
    assert flagged == expected


def all_checks(truth_dir: str | Path, q: Query, work: Query, run_id: str) -> None:
    """Every differential check, for a target that published `run_id` (all schemas in one database)."""
    employees_published(truth_dir, q)
    contract_tables_published(q, q)
    identity_links_match(truth_dir, work)
    aliases_resolve(truth_dir, q)
    voided_statements_absent(truth_dir, q, work)
    terminated_but_paid_is_a_finding(truth_dir, q, run_id)
    orphan_objectives_listed(truth_dir, q)
