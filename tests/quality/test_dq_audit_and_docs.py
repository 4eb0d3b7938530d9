"""audit.dq_result rows and the per-run Data Docs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from dq_fixtures import EMAILS, NOW, SALARIES

from orchestration.lib.quality.audit_rows import write_dq_results
from orchestration.lib.quality.data_docs import build_data_docs, strip_remote_assets
from orchestration.lib.quality.outcome import CheckOutcome
from orchestration.lib.quality.reconciliation import run_reconciliation
from orchestration.lib.quality.suites import SuiteRun, run_suite_detailed

DQ_COLUMNS = [
    ("run_id", "VARCHAR"), ("check_name", "VARCHAR"), ("target_table", "VARCHAR"), ("severity", "VARCHAR"),
    ("success", "BOOLEAN"), ("observed_value", "VARCHAR"), ("unexpected_count", "BIGINT"),
    ("sample_keys", "VARCHAR"), ("evaluated_at", "TIMESTAMP"), ("engine", "VARCHAR"),
]


def _columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'audit' and table_name = 'dq_result' order by ordinal_position").fetchall()]


def test_write_creates_the_contract_table_and_appends(tmp_path: Path, clean_runs: list[SuiteRun]) -> None:
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    outcomes = [o for run in clean_runs for o in run.outcomes]
    stamp = datetime(2026, 6, 30, 8, 15, tzinfo=UTC)
    assert write_dq_results(con, "run-1", outcomes, evaluated_at=stamp) == len(outcomes)
    assert write_dq_results(con, "run-2", outcomes[:3]) == 3
    assert _columns(con) == DQ_COLUMNS
    per_run = dict(con.execute("select run_id, count(*) from audit.dq_result group by 1").fetchall())
    assert per_run == {"run-1": len(outcomes), "run-2": 3}
    row = con.execute("select severity, success, sample_keys, evaluated_at, engine from audit.dq_result "
                      "where run_id = 'run-1' and check_name = 'dim_employee__employee_number_unique'").fetchall()
    assert row == [("blocking", True, "[]", datetime(2026, 6, 30, 8, 15), "great_expectations")]


def test_write_into_a_table_created_by_someone_else(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    con.execute("create schema audit")
    con.execute("create table audit.dq_result (run_id VARCHAR, check_name VARCHAR, target_table VARCHAR, "
                "severity VARCHAR, success BOOLEAN, observed_value VARCHAR, unexpected_count BIGINT, "
                "sample_keys VARCHAR, evaluated_at TIMESTAMP, engine VARCHAR)")
    keys = [f"E{i:03d}" for i in range(30)] + [f"mailto:{EMAILS[0]}"]
    # Built by hand (not via from_spec) so the writer's own bounds are what is tested.
    outcome = CheckOutcome("x_check", "reporting.t", "warn", False, 0.25, 31, keys, "sql", "d")
    write_dq_results(con, "run-9", [outcome])
    observed, samples, count = con.execute(
        "select observed_value, sample_keys, unexpected_count from audit.dq_result").fetchall()[0]
    assert observed == "0.25" and count == 31
    assert json.loads(samples) == keys[:20]
    assert _columns(con) == DQ_COLUMNS


def test_audit_rows_of_a_bad_run_carry_no_salary_or_email(clean_db) -> None:
    con = clean_db()
    con.execute("insert into restricted.fct_compensation values "
                f"('1004','2026-06-30','Senior Engineer','PKG-IC','G5',{SALARIES[3]},'EUR',1.0)")
    con.execute("update restricted.fct_compensation set annual_base_salary = -1 where employee_number = '1001'")
    con.execute(f"insert into intermediate.int_identity__links values ('xapi', 'mailto:{EMAILS[1]}', null, null, "
                "'no_match')")
    outcomes = run_reconciliation(con) + run_suite_detailed(con, "restricted__fct_compensation", now=NOW).outcomes
    write_dq_results(con, "run-bad", outcomes)
    rows = con.execute("select check_name, success, observed_value, sample_keys from audit.dq_result").fetchall()
    failed = {r[0]: json.loads(r[3]) for r in rows if not r[1]}
    assert failed["terminated_but_paid"] == ["1004"]
    assert failed["fct_compensation__annual_base_salary_not_negative"] == ["1001|2026-05-31", "1001|2026-06-30"]
    assert len(failed["xapi_actors_unresolved_present"]) == 1
    text = repr(rows)
    assert "@" not in text
    assert not any(str(int(s)) in text for s in SALARIES)


def test_remote_assets_are_stripped() -> None:
    page = ('<link rel="stylesheet" href="https://cdn.example/x.css"/><script src="https://cdn.example/x.js">'
            '</script><img src="https://s3.example/logo.png"><style>a{background:url(\'https://s3/x.png\')}</style>'
            '<link rel="stylesheet" href="local.css"><a href="https://docs.example/">docs</a>')
    out = strip_remote_assets(page)
    assert "cdn.example" not in out and "s3" not in out
    assert 'href="local.css"' in out and 'href="https://docs.example/"' in out  # links are not fetched


def test_data_docs_for_a_run(tmp_path: Path, clean_db) -> None:
    con = clean_db()
    con.execute("update reporting.fct_competency_gap set gap = -2 where employee_number = '1003'")
    con.execute("update restricted.fct_compensation set annual_base_salary = -4321.5 where employee_number = '1002'")
    runs = [run_suite_detailed(con, n, now=NOW) for n in
            ("reporting__fct_competency_gap", "restricted__fct_compensation", "raw__xapi__statements")]
    con.execute("drop table reporting.fct_observation")
    runs.append(run_suite_detailed(con, "reporting__fct_observation", now=NOW))
    extra = run_reconciliation(con)
    index = build_data_docs(tmp_path / "docs", "run 7/x", runs, extra, generated_at=NOW)

    assert index == tmp_path / "docs" / "run_7_x" / "index.html"
    html = index.read_text()
    assert "fct_competency_gap__gap_not_negative" in html and "1003|C1" in html
    assert "terminated_but_paid" in html and "missing table: reporting.fct_observation" in html
    assert "blocking check(s) failed: publication is withheld" in html
    pages = sorted((index.parent / "validations").glob("*.html"))
    # one GX page per validated frame; the missing-table suite has none
    assert [p.name for p in pages] == sorted(
        [f"reporting__fct_competency_gap__frame{i}.html" for i in range(3)]
        + [f"restricted__fct_compensation__frame{i}.html" for i in range(2)]
        + ["raw__xapi__statements__frame0.html"])
    for page in [index, *pages]:
        text = page.read_text()
        assert not re.search(r"<(script|link|img)\b[^>]*(src|href)=[\"']https?://", text, re.IGNORECASE), page.name
        assert not re.search(r"url\(\s*[\"']?https?://", text, re.IGNORECASE), page.name
        assert not any(email in text for email in EMAILS), page.name
    gap_page = (index.parent / "validations" / "reporting__fct_competency_gap__frame0.html").read_text()
    assert "gap_status" in gap_page and "null" in gap_page.lower()
    restricted = "".join(p.read_text() for p in pages if p.name.startswith("restricted"))
    assert "4321" not in restricted and "-4,321" not in restricted
    assert "4321" not in html


def test_data_docs_for_a_clean_run_say_every_blocking_check_passed(tmp_path: Path,
                                                                 clean_runs: list[SuiteRun]) -> None:
    index = build_data_docs(tmp_path, "run-clean", clean_runs[:3])
    assert "every blocking check passed" in index.read_text()
    assert len(list((index.parent / "validations").glob("*.html"))) == sum(len(r.gx_results) for r in clean_runs[:3])
