"""What a nightly dbt build relies on: the adapter's own table materialization replaces
tables (and an older build's views) and leaves nothing beside them; a new business date
does not make dbt re-parse."""

from __future__ import annotations

import json
import shutil

import duckdb
from dbt_helpers import dbt_env, run_dbt


def test_a_rebuild_replaces_an_older_view_and_a_changed_table(dbt_build, tmp_path):
    db = tmp_path / "work.duckdb"
    shutil.copyfile(dbt_build.db_path, db)
    target = tmp_path / "target"
    shutil.copytree(dbt_build.project_dir / "target", target)  # its partial parse: no re-parse
    con = duckdb.connect(str(db))
    users, courses = (con.execute(f"select count(*) from staging.{t}").fetchone()[0]
                      for t in ("stg_lms__users", "stg_lms__courses"))
    assert users and courses
    # staging used to be views: a table cannot `create or replace` a view
    con.execute("drop table staging.stg_lms__users")
    con.execute("create view staging.stg_lms__users as select 1 as stale")
    con.execute("delete from staging.stg_lms__courses")
    con.close()

    done = run_dbt(["run", "--select", "stg_lms__users stg_lms__courses", "--target-path", str(target)],
                   dbt_build.project_dir, dbt_env(db, dbt_build.project_dir))
    assert done.returncode == 0, done.stdout[-4000:]

    con = duckdb.connect(str(db), read_only=True)
    try:
        kinds = dict(con.execute(
            "select table_name, table_type from information_schema.tables where table_schema = 'staging' "
            "and table_name in ('stg_lms__users', 'stg_lms__courses')").fetchall())
        assert kinds == {"stg_lms__users": "BASE TABLE", "stg_lms__courses": "BASE TABLE"}
        assert con.execute("select count(*) from staging.stg_lms__users").fetchone()[0] == users
        assert con.execute("select count(*) from staging.stg_lms__courses").fetchone()[0] == courses
        leftovers = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_name like '%\\_\\_dbt\\_tmp' escape '\\' or table_name like '%\\_\\_dbt\\_backup' escape '\\'"
        ).fetchall()
        assert leftovers == []
    finally:
        con.close()


def test_a_new_business_date_does_not_make_dbt_reparse(dbt_build, tmp_path):
    """BRIDGE_AS_OF changes every night; a model that read it while parsed would be
    re-parsed every night (about 2 s), so as_of_date() reads it only when executing."""
    target = tmp_path / "target"
    shutil.copytree(dbt_build.project_dir / "target", target)
    env = dbt_env(dbt_build.db_path, dbt_build.project_dir)
    env["BRIDGE_AS_OF"] = "2031-01-02"  # not the fixture's date
    done = run_dbt(["parse", "--log-format", "json", "--log-level", "debug", "--target-path", str(target)],
                   dbt_build.project_dir, env)
    assert done.returncode == 0, done.stdout[-4000:]
    events = [json.loads(line)["info"]["name"] for line in done.stdout.splitlines() if line.startswith("{")]
    assert "PartialParsingSkipParsing" in events
    assert "PartialParsingFile" not in events
