"""dim_employee_history over a month of nightly runs equals the true intervals, and a full
rebuild of the models gives the same history as the incremental runs did, and so do the same
raw versions built by dbt-postgres in PostgreSQL.

The days are extracted with the connectors (what each nightly run lands) and the models
built once at the end: the history is a function of the append-only raw versions, which
is the property under test.

Both simulator dialects: the foreign one serves lastModified with offsets other than Z and
0 to 6 fractional digits, and lists users in id order. Its PostgreSQL build is left to
tests/postgres/test_pg_pipeline.py, which compares every published table (this history
included) between PostgreSQL and DuckDB on that dialect.
"""

from __future__ import annotations

import csv
import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.simulator]

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DAYS = 30  # a month of nightly runs: hires, title changes, moves, terminations, a full pull or four
# Injected after that day's advance, so the same night's extraction lands them: two changes to one
# person on one day (only the last is ever served), and a rehire of someone terminated days before.
SAME_DAY_CHANGES_DAY = 10
REHIRE_DAY = 12
TRACKED = ("canonical_job_title", "department", "cost_center", "manager_employee_number", "fte", "is_active")


def _dbt(args: list[str], work_db: Path, env: dict[str, str], target_path: Path) -> None:
    dbt = Path(sys.executable).parent / "dbt"
    full_env = {**os.environ, **env, "BRIDGE_WORK_DB": str(work_db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    out = subprocess.run(
        [str(dbt), *args, "--profiles-dir", str(DBT_DIR), "--project-dir", str(DBT_DIR),
         "--target-path", str(target_path), "--log-path", str(target_path / "logs")],
        env=full_env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:]


def _norm(column: str, value) -> str:
    if value is None or value == "":
        return ""
    if column == "fte":
        return f"{float(value):.2f}"
    if column == "is_active":
        return str(value).lower()
    return str(value)


def _expected(truth_csv: Path, start: date) -> dict[str, list[tuple]]:
    """The truth's change rows as periods: last change of a day wins, equal neighbours merge,
    and what happened before the first pull collapses into the version that pull saw."""
    by_employee: dict[str, list[dict]] = {}
    with open(truth_csv, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_employee.setdefault(row["employee_number"], []).append(row)
    out: dict[str, list[tuple]] = {}
    for employee, rows in by_employee.items():
        rows.sort(key=lambda r: r["date"])  # stable: same-day changes keep their order
        last_of_day: dict[str, dict] = {}
        for r in rows:
            last_of_day[r["date"]] = r
        days = sorted(last_of_day)
        before = [d for d in days if d <= start.isoformat()]
        kept = ([before[-1]] if before else []) + [d for d in days if d > start.isoformat()]
        periods: list[tuple] = []
        for d in kept:
            values = tuple(_norm(c, last_of_day[d][c]) for c in TRACKED)
            if periods and periods[-1][1:] == values:
                continue
            periods.append((d, *values))
        out[employee] = periods
    return out


def _postgres_history(pg_server, work_db: Path, models: list[str], env: dict[str, str], target_path: Path) -> list[tuple]:
    """The month's raw versions mirrored to a fresh PostgreSQL database (as a Postgres sync does),
    the same models built there by dbt-postgres as the pipeline's writer role."""
    from orchestration.lib import pg_warehouse
    from orchestration.lib.postgres.roles import WRITER_ROLE
    from tests.conftest import scratch_database
    from tests.e2e import truth

    with scratch_database(pg_server, "bridge_history") as target:
        url = target.url(with_password=True)
        duck = duckdb.connect(str(work_db), read_only=True)
        try:
            pg_warehouse.mirror_raw(duck, url)
        finally:
            duck.close()
        _dbt(["build", *models, "--target", "postgres"], work_db,
             {**env, **target.dbt_env(), "BRIDGE_PG_ROLE": WRITER_ROLE}, target_path)
        return truth.postgres_query(url)(f"select employee_number, valid_from, {', '.join(TRACKED)} "
                                         "from reporting.dim_employee_history order by employee_number, valid_from")


def _normalised(rows: list[tuple]) -> list[tuple]:
    return [(e, str(valid_from), *(_norm(c, v) for c, v in zip(TRACKED, values, strict=True)))
            for e, valid_from, *values in rows]


@pytest.mark.postgres
@pytest.mark.parametrize("dialect", ["reference", "foreign"])
def test_history_equals_the_truth_and_a_rebuild(dialect: str, tmp_path: Path, request) -> None:
    from connectors.landing import ensure_schema
    from connectors.sync import extract_all
    from orchestration.lib.settings import Settings
    from orchestration.lib.source_config import bridge_sources
    from simulator import Simulator

    work_db = tmp_path / "bridge.work.duckdb"
    with Simulator("pilot", seed=23, workdir=tmp_path / "sim", dialect=dialect) as sim:
        start = date.fromisoformat(sim.env["BRIDGE_AS_OF"])
        log = logging.getLogger("test.history")
        injected: dict[str, dict] = {}
        for day in range(DAYS + 1):
            if day:
                sim.advance_days(1)
            if day == SAME_DAY_CHANGES_DAY:
                injected["same_day"] = sim.inject("same_day_changes")["detail"]
            if day == REHIRE_DAY:
                injected["rehire"] = sim.inject("rehire")["detail"]
            settings = Settings.from_env(dict(sim.env), dotenv_path=None)
            con = duckdb.connect(str(work_db))
            try:
                ensure_schema(con)
                extract_all(con, bridge_sources(settings), f"day-{day}", settings.as_of_or_today(), log)
            finally:
                con.close()
        env = {"BRIDGE_AS_OF": sim.env["BRIDGE_AS_OF"], "LRS_ACCOUNT_HOMEPAGE": sim.env["LRS_ACCOUNT_HOMEPAGE"]}
        truth = _expected(Path(sim.truth_dir) / "employee_history.csv", start)
        with open(Path(sim.truth_dir) / "employees.csv", newline="", encoding="utf-8") as fh:
            shown = {row["employee_number"] for row in csv.DictReader(fh)}
        truth = {e: periods for e, periods in truth.items() if e in shown}  # the HRIS never served the rest

    models = ["--select", "+dim_employee_history", "--resource-type", "model", "--resource-type", "seed"]
    _dbt(["build", *models], work_db, env, tmp_path / "target")
    con = duckdb.connect(str(work_db))
    try:
        rows = con.execute(
            f"select employee_number, valid_from, {', '.join(TRACKED)} from reporting.dim_employee_history "
            "order by employee_number, valid_from"
        ).fetchall()
        current = con.execute(
            "select count(*) filter (where is_current), count(distinct employee_number) "
            "from reporting.dim_employee_history"
        ).fetchone()
    finally:
        con.close()
    actual: dict[str, list[tuple]] = {}
    for employee, valid_from, *values in rows:
        actual.setdefault(employee, []).append(
            (valid_from.isoformat(), *(_norm(c, v) for c, v in zip(TRACKED, values, strict=True)))
        )

    # When the state first seen began is unknowable (SCIM gives only meta.lastModified):
    # the first period's start is compared for being no later than the first pull, the
    # values and every later period exactly.
    first_pull = start.isoformat()
    # Someone the HRIS did not show at the first pull (purged earlier, rehired since) has
    # no history before the bridge first saw them.
    for employee, periods in actual.items():
        if periods[0][0] > first_pull and employee in truth:
            truth[employee] = [p for p in truth[employee] if p[0] > first_pull]
    truth = {e: [("first", *p[0][1:]), *p[1:]] if p and p[0][0] <= first_pull else p for e, p in truth.items()}
    actual = {e: [("first", *p[0][1:]), *p[1:]] if p and p[0][0] <= first_pull else p for e, p in actual.items()}

    assert current[0] == current[1], "every employee has exactly one current period"
    changed = {e for e, periods in truth.items() if len(periods) > 1}
    assert len(changed) >= 3, "the simulated days changed almost nobody: this proves little"
    wrong = {e: (truth.get(e), actual.get(e)) for e in set(truth) | set(actual) if truth.get(e) != actual.get(e)}
    assert not wrong, f"{len(wrong)} employees' history differs, e.g. {list(wrong.items())[:2]}"

    # The acceptance scenarios did happen, and came out as they should.
    named = {e: [dict(zip(("valid_from", *TRACKED), p, strict=True)) for p in periods] for e, periods in actual.items()}
    same = injected["same_day"]
    on_the_day = [p for p in named[same["employee_number"]] if p["valid_from"] == same["date"]]
    assert [(p["canonical_job_title"], p["department"], p["manager_employee_number"]) for p in on_the_day] == [
        (same["title"], same["department"], same["manager_employee_number"])
    ], f"two changes on {same['date']}: one period with the last state expected, got {on_the_day}"
    assert same["intermediate_title"] != same["title"]  # so the first change's title held no period
    rehired = injected["rehire"]
    periods = named[rehired["employee_number"]]
    back = [i for i, p in enumerate(periods) if p["valid_from"] == rehired["date"]]
    assert back and back[0] > 0, f"no period from the rehire on {rehired['date']}: {periods}"
    assert (periods[back[0] - 1]["is_active"], periods[back[0]]["is_active"]) == ("false", "true"), periods
    unchanged = [e for e, p in named.items() if len(p) == 1 and p[0]["valid_from"] == "first"
                 and p[0]["is_active"] == "true"]
    assert unchanged, "nobody went the whole month unchanged"

    # A full rebuild of the models from the same raw versions: the same history.
    _dbt(["build", *models, "--full-refresh"], work_db, env, tmp_path / "target2")
    con = duckdb.connect(str(work_db))
    try:
        rebuilt = con.execute(
            f"select employee_number, valid_from, {', '.join(TRACKED)} from reporting.dim_employee_history "
            "order by employee_number, valid_from"
        ).fetchall()
    finally:
        con.close()
    assert rebuilt == rows

    # The same raw versions in PostgreSQL, built by dbt-postgres: the same history (the foreign
    # dialect's: test_pg_pipeline.py).
    if dialect == "reference":
        pg_server = request.getfixturevalue("pg_server")
        in_postgres = _postgres_history(pg_server, work_db, models, env, tmp_path / "target-pg")
        assert _normalised(in_postgres) == _normalised(rows)
