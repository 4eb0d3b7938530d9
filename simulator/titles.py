"""Job-title normalisation (docs/internals.md) and the title dirt built on it.

Our own implementation of the shared rule, reading the same abbreviations seed the dbt project uses,
so that every "normalised" variant we emit is resolvable by that rule and nothing more.
"""
from __future__ import annotations

import csv
import random
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from simulator.catalogue import SYNONYMS, TITLES, UNMAPPABLE

SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"
# letters and digits of every script (and combining accents) make words, accents kept, NFC first; the
# rest splits, as in dbt's title_to_spaced_words (dbt_project/macros/text.sql)
_SEPARATOR = re.compile(r"[^\w\u0300-\u036f]|_")


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, str]:
    with open(SEEDS_DIR / "title_abbreviations.csv", newline="", encoding="utf-8") as fh:
        return {r["token"].strip().lower(): r["replacement"].strip().lower() for r in csv.DictReader(fh)}


def normalise(title: str) -> str:
    abbr = abbreviations()
    words = _SEPARATOR.sub(" ", unicodedata.normalize("NFC", title).lower()).split()
    return " ".join(abbr.get(w, w) for w in words)


@lru_cache(maxsize=1)
def _canonical_by_norm() -> dict[str, str]:
    return {normalise(t.name): t.name for t in TITLES}


@lru_cache(maxsize=1)
def _synonym_by_norm() -> dict[str, str]:
    return {normalise(s): c for s, c in SYNONYMS.items()}


def classify(source_title: str) -> tuple[str, str]:
    """(canonical title or "", kind) for a title as written: exact, normalised, crosswalk or unmapped."""
    canon = {t.name for t in TITLES}
    if source_title in canon:
        return source_title, "exact"
    n = normalise(source_title)
    if n in _canonical_by_norm():
        return _canonical_by_norm()[n], "normalised"
    if n in _synonym_by_norm():
        return _synonym_by_norm()[n], "crosswalk"
    return "", "unmapped"


@lru_cache(maxsize=1)
def _inverse_abbreviations() -> dict[str, list[str]]:
    inv: dict[str, list[str]] = {}
    for tok, rep in sorted(abbreviations().items()):
        if tok != rep and " " not in rep:
            inv.setdefault(rep, []).append(tok)
    return inv


def normalised_variant(title: str, rng: random.Random) -> str:
    """A spelling of `title` that differs from it but normalises to the same form."""
    inv = _inverse_abbreviations()
    for _ in range(20):
        words = []
        for w in title.split(" "):
            low = w.lower()
            if low in inv and rng.random() < 0.7:
                ab = rng.choice(inv[low])
                w = ab.capitalize() + ("." if rng.random() < 0.5 else "")
            elif low == "vice" and "vp" in abbreviations() and rng.random() < 0.5:
                w = "VP"
            words.append(w)
        # "VP President ..." would not normalise back: collapse the pair properly.
        text = " ".join(words).replace("VP President", "VP")
        style = rng.random()
        if style < 0.25:
            text = text.lower()
        elif style < 0.4:
            text = text.upper()
        if rng.random() < 0.35:
            text = text.replace(" ", "  ", 1)
        if rng.random() < 0.2:
            text = text + " "
        if rng.random() < 0.15:
            text = text.replace(" ", " - ", 1)
        if text != title and normalise(text) == normalise(title):
            return text
    return title.lower() if title.lower() != title else title.upper()


def synonyms_for(title: str) -> list[str]:
    return [s for s, c in SYNONYMS.items() if c == title]


def spelling_for(title: str, rng: random.Random, p_exact: float, p_synonym: float) -> str:
    """One system's spelling of a canonical title: exact, a normalised variant or a synonym."""
    syns = synonyms_for(title)
    r = rng.random()
    if r < p_exact:
        return title
    if syns and r < p_exact + p_synonym:
        return rng.choice(syns)
    return normalised_variant(title, rng)


def check_catalogue() -> None:
    """Fail loudly if the catalogue would produce misclassified dirt."""
    norms = [normalise(t.name) for t in TITLES]
    assert len(set(norms)) == len(norms), "two canonical titles normalise alike"
    for s in SYNONYMS:
        assert classify(s)[1] == "crosswalk", s
    for u in UNMAPPABLE:
        assert classify(u)[1] == "unmapped", u
