"""HR's crosswalk file lands as raw.hr__title_crosswalk, or is refused whole."""

from pathlib import Path

import duckdb
import pytest

from orchestration.lib.crosswalk import CrosswalkError, land_crosswalk


def test_hr_crosswalk_lands_with_optional_columns_defaulted(tmp_path: Path) -> None:
    csv = tmp_path / "crosswalk.csv"
    csv.write_text("\ufeffSource_Title,canonical_job_title,job_family\n People Partner ,HR Business Partner,HR\n,Nobody,\n")
    con = duckdb.connect()
    assert land_crosswalk(con, csv) == 1
    assert con.execute("select * from raw.hr__title_crosswalk").fetchall() == [
        ("People Partner", "HR Business Partner", "HR", None)
    ]
    # unset again: the project's seed is used, the table is gone
    assert land_crosswalk(con, None) == 0
    assert con.execute(
        "select count(*) from information_schema.tables where table_name = 'hr__title_crosswalk'"
    ).fetchone() == (0,)


def test_a_crosswalk_without_canonical_titles_is_refused_whole(tmp_path: Path) -> None:
    csv = tmp_path / "crosswalk.csv"
    csv.write_text("source_title,title\nPeople Partner,HR Business Partner\n")
    con = duckdb.connect()
    with pytest.raises(CrosswalkError, match="canonical_job_title"):
        land_crosswalk(con, csv)
    assert con.execute(
        "select count(*) from information_schema.tables where table_name = 'hr__title_crosswalk'"
    ).fetchone() == (0,)
