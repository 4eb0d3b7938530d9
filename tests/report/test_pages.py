"""The numbers on each page agree with the published tables they come from."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from report_fixture_db import AS_OF, HOSTILE_TITLE, SALARY, build_published_db
from report_html import elements, one

from orchestration.lib.report import ReportResult, generate_report


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportResult, duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("warehouse")
    db = build_published_db(root / "bridge.duckdb")
    result = generate_report(db, root / "report")
    con = duckdb.connect(str(db), read_only=True)
    yield result, con
    con.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def page(site: tuple[ReportResult, object], name: str) -> Path:
    return site[0].pages[name]


def test_all_pages_written(site):
    result, _ = site
    assert sorted(result.pages) == ["audit", "capability", "index", "people", "strategy"]
    for path in result.pages.values():
        assert path.is_file() and path.stat().st_size > 2000


def test_index_shows_publication_and_as_of(site):
    result, con = site
    published = scalar(con, "select run_id from audit.publication where status = 'published' order by decided_at desc limit 1")
    assert one(page(site, "index"), "publication-run-id").text == published == "r2"
    assert one(page(site, "index"), "as-of-date").text == AS_OF.isoformat() == result.as_of_date
    # the latest run (r3) was blocked: the index says so instead of pretending it published
    assert "r3" in one(page(site, "index"), "latest-run-blocked").text


@pytest.mark.parametrize(
    ("testid", "risk"),
    [("count-at-risk", "at_risk"), ("count-off-track", "off_track"), ("count-on-track", "on_track"),
     ("count-done", "done")],
)
def test_strategy_risk_counts_match_tables(site, testid, risk):
    _, con = site
    expected = scalar(
        con,
        "select count(*) from reporting.fct_objective_progress p join reporting.dim_objective o using (objective_id) "
        f"where p.risk_status = '{risk}' and o.status <> 'cancelled'",
    )
    assert int(one(page(site, "strategy"), testid).value) == expected
    assert int(one(page(site, "index"), "index-at-risk").text) == 2


def test_strategy_cascade_is_depth_first_with_every_objective(site):
    _, con = site
    rows = elements(page(site, "strategy"), "objective-row")
    ids = [r.attrs["data-objective-id"] for r in rows]
    assert sorted(ids) == sorted(r[0] for r in con.execute("select objective_id from reporting.dim_objective").fetchall())
    # children follow their parent: O3 (task) right after O2 (its goal), both under O1
    assert ids.index("O1") < ids.index("O2") < ids.index("O3")
    assert ids.index("O5") > ids.index("O4")
    risk = {r.attrs["data-objective-id"]: r.attrs["data-risk"] for r in rows}
    assert risk["O4"] == "off_track" and risk["O6"] == "on_track"


def test_strategy_lists_open_impediments_and_help_of_latest_checkins(site):
    rows = elements(page(site, "strategy"), "issue-row")
    assert len(rows) == 2  # O3 impediment, O4 help; O6's impediment was superseded, O8 is done
    assert int(one(page(site, "strategy"), "count-impediments").value) == 1
    assert int(one(page(site, "strategy"), "count-help-requests").value) == 1


def test_strategy_escapes_titles_from_source_systems(site):
    html = page(site, "strategy").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Call &amp; close" in html
    assert any(HOSTILE_TITLE in r.text for r in elements(page(site, "strategy"), "objective-row"))


def test_capability_largest_gap_cell_matches_tables(site):
    _, con = site
    dept, category, gaps = con.execute(
        """select e.department, c.category, count(*) from reporting.fct_competency_gap g
           join reporting.dim_employee e using (employee_number) join reporting.dim_competency c using (competency_id)
           where g.gap_status = 'gap' and e.is_active group by 1, 2 order by 3 desc limit 1"""
    ).fetchone()
    cell = one(page(site, "capability"), "largest-gap-cell")
    assert (cell.attrs["data-department"], cell.attrs["data-category"], int(cell.value)) == (dept, category, gaps)
    assert (dept, category, gaps) == ("Sales", "Commercial", 3)
    # the heatmap cell says the same, and the inactive employee's gap is not counted
    assert int(one(page(site, "capability"), "gap-cell", department="Operations", category="Compliance").value) == 1


def test_capability_coverage_courses_overdue_and_hours(site):
    _, con = site
    cap = page(site, "capability")
    assert int(one(cap, "count-unassessed").value) == scalar(
        con, "select count(*) from reporting.fct_competency_gap where gap_status = 'unassessed'"
    )
    assert int(one(cap, "count-overdue-compliance").value) == scalar(
        con, "select count(*) from reporting.fct_training_assignment where status = 'overdue' and compliance"
    ) == 2
    assert {r.attrs["data-assignment-id"] for r in elements(cap, "overdue-row")} == {"A1", "A2"}
    assert elements(cap, "course-row")[0].attrs["data-course-id"] == "CR1"  # closes 5 gap levels, the most
    assert int(one(cap, "unassessed", department="Sales").value) == 1
    # learning hours: frontline E2 + E4 (60 + 120 min), other staff E1 + E7 (90 + 30 min)
    assert float(one(cap, "hours", group="Frontline").value) == 3.0
    assert float(one(cap, "hours", group="Other staff").value) == 2.0


def test_people_headcount_titles_and_reconciliation(site):
    _, con = site
    ppl = page(site, "people")
    for dept, n in con.execute(
        "select department, count(*) from reporting.dim_employee where is_active group by 1"
    ).fetchall():
        assert int(one(ppl, "headcount-dept", department=dept).value) == n
    assert int(one(ppl, "count-active-headcount").value) == 6
    assert int(one(ppl, "headcount-title", department="Sales", title="Sales Associate").value) == 2
    assert int(one(ppl, "count-unmapped-titles").value) == 1
    assert int(one(ppl, "title-row", title="Sales Manager").text.count("“")) == 3  # three spellings consolidate
    assert "OPS-A" in one(ppl, "package-row", title="Operator").text
    assert int(one(ppl, "difference", cost_center="CC20").value) == -1  # payroll pays one more in CC20
    finding = one(ppl, "finding-row", check="terminated_but_paid")
    assert "E6" in finding.text


def test_audit_page_shows_latest_run_checks_and_history(site):
    _, con = site
    aud = page(site, "audit")
    assert one(aud, "audit-run-id").text == "r3"
    assert one(aud, "decision").value == "blocked"
    assert [b.text for b in elements(aud, "blocked-by")] == ["unique_employee_number"]
    for testid, severity, ok in [("count-blocking-fail", "blocking", False), ("count-blocking-pass", "blocking", True),
                                 ("count-warn-fail", "warn", False), ("count-warn-pass", "warn", True)]:
        expected = scalar(con, f"select count(*) from audit.dq_result where run_id = 'r3' and severity = '{severity}' "
                               f"and success = {ok}")
        assert int(one(aud, testid).value) == expected
    assert {(r.attrs["data-source"], r.attrs["data-stream"]) for r in elements(aud, "extract-row")} == {
        ("hris", "users"), ("lrs", "statements")}
    history = {r.attrs["data-run-id"]: r.attrs["data-publication"] for r in elements(aud, "history-row")}
    assert history == {"r1": "published", "r2": "published", "r3": "blocked"}


def test_no_salary_and_nothing_external_on_any_page(site):
    result, _ = site
    for path in result.pages.values():
        html = path.read_text()
        assert f"{SALARY:.2f}" not in html and f"{SALARY:,.2f}" not in html and "987654" not in html
        assert "annual_base_salary" not in html
        for needle in ('src="http', "src='http", 'href="http', "href='http", "@import", "url(", 'src="//', 'href="//'):
            assert needle not in html, f"{path.name} refers outside itself: {needle}"
        assert "default-src 'none'" in html  # the page forbids any fetch even if a link slipped in
