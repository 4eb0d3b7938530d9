"""What the end-to-end erasure tests share (test_erasure.py on DuckDB, test_erasure_postgres.py
on PostgreSQL): whom they erase, and how they check that the others' rows are unchanged."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import duckdb

# someone with rows in every feed, about and by them, whose full name nobody else has, and whom
# an observation about someone else, written by a third person, names (SQL both warehouses run)
PICK = """
with u as (select employee_number, scim_id, email, full_name from staging.stg_hris__users),
l as (select lms_user_id, employee_number from staging.stg_lms__users),
managers as (select distinct manager_scim_id from staging.stg_hris__users where manager_scim_id is not null)
select u.employee_number, u.scim_id, u.email, u.full_name, l.lms_user_id
from u join l using (employee_number)
where exists (select 1 from staging.stg_lms__assessments a where a.subject_lms_user_id = l.lms_user_id)
  and exists (select 1 from staging.stg_lms__assessments a
              where a.rater_lms_user_id = l.lms_user_id and a.subject_lms_user_id <> l.lms_user_id)
  and exists (select 1 from staging.stg_lms__reviews r where r.lms_user_id = l.lms_user_id)
  and exists (select 1 from staging.stg_lms__observations o where o.subject_lms_user_id = l.lms_user_id)
  and exists (select 1 from staging.stg_lms__observations o
              where o.subject_lms_user_id <> l.lms_user_id and o.author_lms_user_id <> l.lms_user_id
                and strpos(lower(o.observation_text), lower(u.full_name)) > 0)
  and exists (select 1 from staging.stg_checkins__checkins k where k.employee_email = u.email)
  and exists (select 1 from staging.stg_xapi__statements s where s.actor_email = u.email)
  and exists (select 1 from staging.stg_payroll__rows p where p.employee_number = u.employee_number)
  and (select count(*) from staging.stg_hris__users x where x.full_name = u.full_name) = 1
  and u.scim_id not in (select manager_scim_id from managers)
order by u.employee_number
limit 1
"""


def assert_others_unchanged(before: dict[str, Counter], after: dict[str, Counter], pattern: str) -> None:
    """The other people's rows (as text, per table) that did not name the person are all still
    there, unchanged, and nobody else gained or lost a row."""
    rx = re.compile(pattern)
    for table, rows in before.items():
        untouched = Counter({row: n for row, n in rows.items() if not rx.search(row.lower())})
        assert not (untouched - after[table]), table
        assert sum(after[table].values()) == sum(rows.values()), table


def duck_holders(path: Path, pattern: str) -> dict[str, int]:
    """Rows of every base table whose text (every column, JSON included) matches `pattern`."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_type = 'BASE TABLE'").fetchall()
        found = {}
        for schema, table in tables:
            n = con.execute(f'select count(*) from "{schema}"."{table}" t '
                            "where regexp_matches(lower(t::varchar), ?)", [pattern]).fetchall()[0][0]
            if n:
                found[f"{schema}.{table}"] = n
        return found
    finally:
        con.close()
