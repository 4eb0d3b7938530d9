"""The personal-data classification in the dbt YAML, and the register generated from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "personal_data.py"


def _script():
    spec = importlib.util.spec_from_file_location("personal_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_column_is_classified() -> None:
    pd = _script()
    rows = pd.classification()
    assert {layer for layer, *_ in rows} >= {"raw", "staging", "intermediate", "reporting", "restricted"}
    missing = [f"{relation}.{column}" for _, relation, column, cls, _ in rows if cls not in pd.CLASSES]
    assert not missing, f"columns without a valid meta.personal_data: {missing[:20]}"


def test_published_reporting_holds_no_free_text() -> None:
    rows = _script().classification()
    free = [f"{relation}.{column}" for layer, relation, column, cls, _ in rows
            if layer == "reporting" and cls == "free_text"]
    assert not free
    # compensation is published in `restricted` only
    assert not [r for r in rows if r[0] == "reporting" and r[3] == "compensation"]


def test_register_is_up_to_date() -> None:
    pd = _script()
    assert pd.DOC.read_text() == pd.render(), "run: python scripts/personal_data.py docs"
