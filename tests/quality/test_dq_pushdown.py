"""GX sees only the rows that could fail (``pushdown``); its findings equal reading every row,
including values where DuckDB's SQL and GX's pandas code judge differently."""

from __future__ import annotations

import duckdb
import pytest
from dq_fixtures import NOW

from orchestration.lib.quality import pushdown
from orchestration.lib.quality.suite_model import Expect
from orchestration.lib.quality.suites import SuiteRun, run_suite_detailed


def _findings(run: SuiteRun) -> list[tuple]:
    return [(o.check_name, o.success, o.observed_value, o.unexpected_count, o.sample_keys) for o in run.outcomes]


def _gx_results(run: SuiteRun) -> list[tuple]:
    keep = ("element_count", "unexpected_count", "missing_count", "unexpected_percent",
            "partial_unexpected_index_list")
    return [(r.expectation_config.meta["check_name"], r.success, {k: r.result.get(k) for k in keep})
            for result in run.gx_results for r in result.results]


def _both(con: duckdb.DuckDBPyConnection, suite: str) -> tuple[SuiteRun, SuiteRun]:
    pushed = run_suite_detailed(con, suite, now=NOW, batch_rows=3)
    every_row = run_suite_detailed(con, suite, now=NOW, batch_rows=3, read_all=True)
    assert _findings(pushed) == _findings(every_row)
    assert _gx_results(pushed) == _gx_results(every_row)
    assert sum(pushed.batch_sizes) < sum(every_row.batch_sizes)
    return pushed, every_row


def test_nan_is_missing_to_gx_not_out_of_range(con: duckdb.DuckDBPyConnection) -> None:
    # DuckDB orders NaN above every number (so `NaN >= 0` holds); pandas treats it as missing
    con.execute("""insert into reporting.dim_objective
                   select * replace ('o-nan' as objective_id, 'nan'::double as weight)
                   from reporting.dim_objective limit 1""")
    con.execute("""insert into reporting.dim_objective
                   select * replace ('o-zero' as objective_id, 0 as weight) from reporting.dim_objective limit 1""")
    pushed, _ = _both(con, "reporting__dim_objective")
    weight = next(o for o in pushed.outcomes if o.check_name == "dim_objective__weight_positive")
    assert (weight.success, weight.unexpected_count, weight.sample_keys) == (False, 1, ["o-zero"])
    result = next(r for res in pushed.gx_results for r in res.results
                  if r.expectation_config.meta["check_name"] == "dim_objective__weight_positive")
    assert result.result["missing_count"] == 1


def test_regex_values_re2_and_python_judge_differently_reach_gx(con: duckdb.DuckDBPyConnection) -> None:
    # Python's \\s matches a no-break space (RE2's does not): an IRI with one is unexpected to GX.
    # Python's $ matches before a final newline (RE2's does not): GX accepts that one.
    con.execute("""
        insert into raw.xapi__statements
        select 'v' || i, json_object('verb', json_object('id', v)), 'h', 'x', false, 'run-1', 3,
               timestamp '2026-06-30 05:00:00'
        from (values (1, 'http://example.com/verbs/do' || chr(160) || 'ne'),
                     (2, 'http://example.com/verbs/done' || chr(10)),
                     (3, 'completed'),
                     (4, 'http://example.com/verbs/passed')) t(i, v)
    """)
    pushed, _ = _both(con, "raw__xapi__statements")
    iri = next(o for o in pushed.outcomes if o.check_name == "xapi__statements__verb_id_is_iri")
    assert (iri.unexpected_count, sorted(iri.sample_keys)) == (2, ["v1", "v3"])


def test_nulls_nan_and_values_outside_the_set(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""insert into reporting.fct_objective_progress
                   select one.* replace (t.o || '-x' as objective_id, t.p as progress_pct, t.r as risk_status)
                   from (select * from reporting.fct_objective_progress limit 1) as one,
                        (values ('a', null::double, 'done'), ('b', 'nan'::double, null), ('c', 150.0, 'late'))
                        as t(o, p, r)""")
    pushed, _ = _both(con, "reporting__fct_objective_progress")
    failed = {o.check_name: o.sample_keys for o in pushed.outcomes if not o.success}
    assert [k.split("|")[0] for k in failed["fct_objective_progress__risk_status_in_domain"]] == ["c-x"]
    assert [k.split("|")[0] for k in failed["fct_objective_progress__progress_pct_within_0_100"]] == ["c-x"]
    assert [k.split("|")[0] for k in failed["fct_objective_progress__risk_status_not_null"]] == ["b-x"]


@pytest.mark.parametrize(("expect", "types", "every_row"), [
    (Expect("x", "blocking", "", "ExpectColumnValuesToBeInSet", {"column": "n", "value_set": ["1"]}, ()),
     {"n": "integer"}, True),                      # DuckDB would cast '1' to 1; pandas isin would not
    (Expect("x", "blocking", "", "ExpectColumnValuesToBeBetween", {"column": "d", "min_value": 0}, ()),
     {"d": "decimal"}, True),                      # a type the module does not compare
    (Expect("x", "blocking", "", "ExpectColumnValuesToBeBetween", {"column": "n", "min_value": 0, "mostly": 0.9},
            ()), {"n": "double"}, True),            # an argument it does not know
    (Expect("x", "blocking", "", "ExpectColumnPairValuesToBeEqual", {"column_A": "a", "column_B": "b"}, ()),
     {"a": "varchar", "b": "varchar"}, True),      # an expectation it does not know
    (Expect("x", "blocking", "", "ExpectColumnValuesToNotBeNull", {"column": "n"}, ()),
     {"n": "double"}, False),
])
def test_what_the_module_does_not_know_selects_every_row(expect: Expect, types: dict[str, str],
                                                         every_row: bool) -> None:
    condition = pushdown.candidates([expect], types)
    assert (condition == pushdown.EVERY_ROW) is every_row
    if not every_row:
        assert condition == '("n" is null or isnan("n"))'
