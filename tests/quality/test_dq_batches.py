"""Suites read DuckDB in bounded batches: the findings equal those of one whole-frame read."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest
from dq_fixtures import NOW

from orchestration.lib.quality.suites import SUITES, SuiteRun, run_suite_detailed

SMALL = 4


def _findings(run: SuiteRun) -> list[tuple]:
    return [(o.check_name, o.success, o.observed_value, o.unexpected_count, o.sample_keys) for o in run.outcomes]


def _gx_counts(run: SuiteRun) -> list[tuple]:
    return [(r.expectation_config.meta["check_name"], r.success, r.result.get("element_count"),
             r.result.get("unexpected_count"), r.result.get("missing_count"))
            for result in run.gx_results for r in result.results]


@pytest.fixture
def big(clean_db: Callable[[], duckdb.DuckDBPyConnection]) -> duckdb.DuckDBPyConnection:
    """fct_compensation and the xAPI feed with many more rows than SMALL, defects spread across batches."""
    con = clean_db()
    # 60 employees x 2 periods; every 7th salary negative, every 11th fte 2, every 13th currency bad,
    # and duplicates of employees 2005 and 2050 appended at the end, far from their first rows.
    con.execute("""
        insert into restricted.fct_compensation
        select '20' || lpad(i::varchar, 2, '0'), p, 'Senior Engineer', 'PKG-IC', 'G5',
               case when i % 7 = 0 then -1000 else 50000 end, case when i % 13 = 0 then 'eur' else 'EUR' end,
               case when i % 11 = 0 then 2 else 1 end
        from range(60) t(i), (values (date '2026-05-31'), (date '2026-06-30')) d(p)
        order by p, i
    """)
    con.execute("""insert into restricted.fct_compensation select * from restricted.fct_compensation
                   where employee_number in ('2005', '2050') and pay_period_end = date '2026-06-30'""")
    con.execute("insert into restricted.fct_compensation values (null, '2026-06-30', 'x', 'x', 'x', 1, 'EUR', 1)")
    # 50 more statements, three with a verb that is no IRI, and r7 landed twice in one batch
    con.execute("""
        insert into raw.xapi__statements
        select 'r' || (i + 3), json_object('verb', json_object('id',
                   case when i % 17 = 0 then 'completed' else 'http://adlnet.gov/expapi/verbs/completed' end)),
               'h', 'x', false, 'run-1', 3,
               -- the newest version of all (1 h old) lies in a late batch
               case when i = 40 then timestamp '2026-06-30 05:00:00' else timestamp '2026-06-01' + to_hours(i) end
        from range(50) t(i)
    """)
    con.execute("insert into raw.xapi__statements select * from raw.xapi__statements where record_id = 'r7'")
    yield con
    con.close()


@pytest.mark.parametrize("suite", ["restricted__fct_compensation", "raw__xapi__statements"])
def test_batches_give_the_findings_of_one_whole_read(big: duckdb.DuckDBPyConnection, suite: str) -> None:
    whole = run_suite_detailed(big, suite, now=NOW, batch_rows=1_000_000)
    batched = run_suite_detailed(big, suite, now=NOW, batch_rows=SMALL)

    every_row = run_suite_detailed(big, suite, now=NOW, batch_rows=SMALL, read_all=True)

    assert _findings(batched) == _findings(whole) == _findings(every_row)
    assert _gx_counts(batched) == _gx_counts(whole) == _gx_counts(every_row)
    # the reader never held more than SMALL rows, and read every frame in many batches
    assert max(batched.batch_sizes + every_row.batch_sizes) <= SMALL
    assert len(every_row.batch_sizes) > 2 * len(SUITES[suite].frames)
    assert sum(batched.batch_sizes) == sum(whole.batch_sizes)
    assert len(whole.batch_sizes) == len(SUITES[suite].frames)
    # only the rows that could fail were read; the others were counted
    assert 0 < sum(batched.batch_sizes) < sum(every_row.batch_sizes)


def test_set_level_checks_see_duplicates_in_different_batches(big: duckdb.DuckDBPyConnection) -> None:
    run = run_suite_detailed(big, "restricted__fct_compensation", now=NOW, batch_rows=SMALL)
    failed = {o.check_name: o for o in run.outcomes if not o.success}
    assert set(failed) == {
        "fct_compensation__employee_number_not_null", "fct_compensation__employee_period_unique",
        "fct_compensation__annual_base_salary_not_negative", "fct_compensation__fte_within_0_1",
        "fct_compensation__currency_is_iso4217", "fct_compensation__employee_number_in_dim_employee"}
    unique = failed["fct_compensation__employee_period_unique"]
    # both copies of each duplicate count, though 120 rows lie between them
    assert unique.unexpected_count == 4
    assert unique.sample_keys == ["2005|2026-06-30", "2050|2026-06-30"]
    negative = failed["fct_compensation__annual_base_salary_not_negative"]
    assert negative.unexpected_count == 2 * 9  # i = 0, 7, ..., 56 in both periods
    assert negative.sample_keys[:3] == ["2000|2026-05-31", "2007|2026-05-31", "2014|2026-05-31"]
    assert failed["fct_compensation__fte_within_0_1"].unexpected_count == 2 * 6
    # the Data Docs result names the declared expectation, not the per-row flag behind it
    types = {r.expectation_config.meta["check_name"]: r.expectation_config.type
             for result in run.gx_results for r in result.results}
    assert types["fct_compensation__employee_period_unique"] == "expect_compound_columns_to_be_unique"


def test_freshness_is_the_minimum_over_every_batch(big: duckdb.DuckDBPyConnection) -> None:
    whole = {o.check_name: o for o in run_suite_detailed(big, "raw__xapi__statements", now=NOW).outcomes}
    batched = {o.check_name: o for o in
               run_suite_detailed(big, "raw__xapi__statements", now=NOW, batch_rows=SMALL).outcomes}
    fresh = batched["xapi__statements__landed_recently"]
    assert fresh.observed_value == whole["xapi__statements__landed_recently"].observed_value == pytest.approx(1.0)
    assert batched["xapi__statements__verb_id_is_iri"].unexpected_count == 3
    assert batched["xapi__statements__latest_version_unique"].sample_keys == ["r7"]


def test_batch_size_must_be_positive(big: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="batch_rows"):
        run_suite_detailed(big, "raw__xapi__statements", now=NOW, batch_rows=0)
