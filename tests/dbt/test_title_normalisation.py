"""Job-title normalisation (macro title_to_spaced_words) keeps the letters of every script and splits a
title alike on DuckDB and Postgres: the macro as each adapter compiles it, run in each engine over
sample titles and over every code point of the Basic Multilingual Plane."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import duckdb
import psycopg2
import pytest
import raw_fixture
from dbt_helpers import copy_project, dbt_env, run_dbt

from tests.conftest import scratch_database

pytestmark = pytest.mark.postgres

INLINE = "select t, {{ title_to_spaced_words('t') }} as spaced from titles_under_test"
SAMPLES = {
    "Développeur Senior": "développeur senior",
    "De\u0301veloppeur": "développeur",                    # a decomposed accent is the same letter
    "Developpeur": "developpeur",                          # accents are kept, not folded
    "Ingénieur–Logiciel (H/F)": "ingénieur logiciel h f",
    "ÉCOLE « Manager »": "école manager",
    "Руководитель проекта": "руководитель проекта",
    "ソフトウェア・エンジニア": "ソフトウェア エンジニア",
    "Straße\u00a0Ops": "straße ops",
    "Ωmega—Lead": "ωmega lead",
    "مدير، مشروع": "مدير مشروع",
    "Sr. Eng-Mgr  (Ops)": "sr eng mgr ops",
    "!!!": "",
}
CODE_POINTS = [chr(c) for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF]


@pytest.fixture(scope="module")
def engines(pg_server, tmp_path_factory):
    """(name, run) per engine: run(titles) -> {title: spaced words} with that engine's compiled macro."""
    root: Path = tmp_path_factory.mktemp("dbt_titles")
    project_dir = copy_project(root / "dbt_project")
    db_path = root / "work.duckdb"
    raw_fixture.build(db_path)
    with scratch_database(pg_server, "bridge_titles") as target:
        env = {**dbt_env(db_path, project_dir), **target.dbt_env()}
        sql = {}
        for name in ("duckdb", "postgres"):
            done = run_dbt(["--quiet", "compile", "--target", name, "--inline", INLINE, "--output", "json"],
                           project_dir, env)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
            sql[name] = json.loads(done.stdout[done.stdout.index("{"):])["compiled"]
        pg = psycopg2.connect(**target.dsn_kwargs())

        def run_duckdb(titles: list[str]) -> dict[str, str]:
            con = duckdb.connect()
            con.execute("create table titles_under_test as select unnest(?::varchar[]) as t", [titles])
            return dict(con.execute(sql["duckdb"]).fetchall())

        def run_postgres(titles: list[str]) -> dict[str, str]:
            with pg.cursor() as cur:
                cur.execute("drop table if exists titles_under_test")
                cur.execute("create temp table titles_under_test as select unnest(%s::text[]) as t", [titles])
                cur.execute(sql["postgres"])
                return dict(cur.fetchall())

        yield [("duckdb", run_duckdb), ("postgres", run_postgres)]
        pg.close()


def test_sample_titles_normalise_to_their_words_on_both_engines(engines) -> None:
    for name, run in engines:
        spaced = run(list(SAMPLES))
        assert {t: " ".join(spaced[t].split()) for t in SAMPLES} == SAMPLES, name


def test_every_code_point_splits_alike_and_no_letter_digit_or_mark_splits(engines) -> None:
    titles = [f"a{c}b" for c in CODE_POINTS]
    split = {name: {t[1] for t, spaced in run(titles).items() if " " in spaced} for name, run in engines}
    assert split["duckdb"] == split["postgres"]
    word_parts = {c for c in split["duckdb"] if unicodedata.category(c)[0] in "LMN"}
    assert not word_parts, sorted(f"U+{ord(c):04X}" for c in word_parts)
    # punctuation and white space do split: ASCII, no-break space, dashes, CJK and fullwidth forms
    assert set("-/.,;:()&+'\"!? \t\u00a0\u2013\u2014\u2019\u3000\u3001\u30fb\uff0c") <= split["duckdb"]
