"""Title dirt is exactly of the three promised kinds, and the crosswalk seed matches the catalogue."""
from __future__ import annotations

import csv
import random
from pathlib import Path

from simulator.catalogue import SYNONYMS, TITLES, UNMAPPABLE, crosswalk_rows
from simulator.titles import classify, normalise, normalised_variant

SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "job_title_crosswalk.csv"


def test_normalise_follows_internals_rule():
    assert normalise("Sr. Software  Engineer ") == "senior software engineer"
    assert normalise("Payroll Mgr") == "payroll manager"
    assert normalise("VP Sales") == "vice president sales"
    assert normalise("IT-Ops") == "it operations"
    # letters of any script are letters, accents kept (as the dbt macro: tests/dbt/test_title_normalisation.py)
    assert normalise("Développeur–Senior") == normalise("De\u0301veloppeur senior") == "développeur senior"
    assert normalise("Руководитель, проекта") == "руководитель проекта"


def test_variants_resolve_by_normalisation_only():
    rng = random.Random(3)
    for t in TITLES:
        for _ in range(5):
            v = normalised_variant(t.name, rng)
            assert v != t.name and classify(v) == (t.name, "normalised"), v
    assert all(classify(s) == (c, "crosswalk") for s, c in SYNONYMS.items())
    assert all(classify(u) == ("", "unmapped") for u in UNMAPPABLE)


def test_crosswalk_seed_is_the_catalogue():
    with open(SEED, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["source_title", "canonical_job_title", "job_family", "job_level"]
    assert [tuple(r) for r in rows[1:]] == crosswalk_rows()
    assert 40 <= len(TITLES) <= 60
    assert not {r[0] for r in rows[1:]} & set(UNMAPPABLE)
