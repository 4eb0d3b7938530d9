"""HR's job-title crosswalk (BRIDGE_TITLE_CROSSWALK) as raw.hr__title_crosswalk.

dbt seeds live in the project, but HR maintains its crosswalk outside it; the build
reads this table when it exists and the project's seed otherwise.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

REQUIRED = ("source_title", "canonical_job_title")
OPTIONAL = ("job_family", "job_level")


class CrosswalkError(ValueError):
    pass


def land_crosswalk(con: duckdb.DuckDBPyConnection, path: Path | None) -> int:
    """Replace raw.hr__title_crosswalk with HR's file (or drop it when none is configured).
    Returns the number of rows landed."""
    if path is None:
        con.execute("drop table if exists raw.hr__title_crosswalk")
        return 0
    rel = con.read_csv(str(path), header=True, all_varchar=True)
    columns = [c.strip().lower() for c in rel.columns]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CrosswalkError(
            f"BRIDGE_TITLE_CROSSWALK {path}: missing column(s) {', '.join(missing)}; nothing was loaded"
        )
    select = ", ".join(
        f'trim("{rel.columns[columns.index(c)]}") as {c}' if c in columns else f"null::varchar as {c}"
        for c in (*REQUIRED, *OPTIONAL)
    )
    con.execute("create schema if not exists raw")
    con.register("hr_crosswalk_file", rel)
    try:
        con.execute(
            f"create or replace table raw.hr__title_crosswalk as select {select} from hr_crosswalk_file "
            "where nullif(trim(source_title), '') is not null"
        )
    finally:
        con.unregister("hr_crosswalk_file")
    return con.execute("select count(*) from raw.hr__title_crosswalk").fetchone()[0]
