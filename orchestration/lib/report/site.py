"""Generate the static report site from a published warehouse file.

The pages are written into a fresh version folder beside `out_dir`, then `out_dir`
(a symlink) is switched to it with one atomic rename, so a reader sees the old report
or the new one, never half of one. The version before is kept (a reader may still be
on it); older ones are removed.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.lib.report import audit, capability, people, state, strategy
from orchestration.lib.report.db import PublishedDb
from orchestration.lib.report.meta import read_meta
from orchestration.lib.report.render import Page, render
from orchestration.lib.warehouse import MemoryBudget

PAGES = ("index", "strategy", "capability", "people", "audit")
KEEP_VERSIONS = 2  # the current report and the one before it


@dataclass(frozen=True)
class ReportResult:
    out_dir: Path
    pages: dict[str, Path]  # page name -> file, e.g. "strategy" -> <out_dir>/strategy.html
    seconds: float
    publication_run_id: str | None
    as_of_date: str | None
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)  # page -> key figures shown


def generate_report(published_db: Path, out_dir: Path, *, memory_limit: int = MemoryBudget().scratch) -> ReportResult:
    """Write the report site for `published_db` (opened read-only, DuckDB within `memory_limit`
    bytes: the run's scratch share) to `out_dir`."""
    started = time.perf_counter()
    published_db, out_dir = Path(published_db), Path(out_dir)
    if not published_db.exists():
        raise FileNotFoundError(f"published warehouse not found: {published_db}")
    generated_at = datetime.now(UTC).replace(tzinfo=None)
    previous_state = state.load(out_dir) if out_dir.exists() else None

    with PublishedDb(published_db, memory_limit) as db:
        meta = read_meta(db, generated_at)
        strategy_page, snapshot = strategy.build(db, meta, previous_state)
        pages: list[Page] = [
            strategy_page,
            capability.build(db, meta),
            people.build(db, meta),
            audit.build(db, meta),
        ]
    figures = {p.name: p.figures for p in pages}
    index = Page(
        "index",
        "Overview",
        {"s": figures["strategy"], "c": figures["capability"], "p": figures["people"], "a": figures["audit"]},
        {"publication_run_id": meta.publication_run_id, "as_of_date": _iso(meta.as_of_date)},
    )
    pages.insert(0, index)
    figures["index"] = index.figures

    common = {"meta": meta, "db_name": published_db.name}
    version_dir = out_dir.parent / f".{out_dir.name}.{generated_at:%Y%m%dT%H%M%S}.{uuid.uuid4().hex[:8]}"
    version_dir.mkdir(parents=True)
    try:
        for page in pages:
            (version_dir / f"{page.name}.html").write_text(render(page, common), encoding="utf-8")
        state.dump(version_dir, snapshot, state.baseline(previous_state, meta.publication_run_id))
        _switch(out_dir, version_dir)
    except BaseException:
        shutil.rmtree(version_dir, ignore_errors=True)
        raise
    _prune(out_dir)
    return ReportResult(
        out_dir=out_dir,
        pages={p.name: out_dir / f"{p.name}.html" for p in pages},
        seconds=time.perf_counter() - started,
        publication_run_id=meta.publication_run_id,
        as_of_date=_iso(meta.as_of_date),
        figures=figures,
    )


def _switch(out_dir: Path, version_dir: Path) -> None:
    """Point `out_dir` at `version_dir` atomically (rename of a symlink over a symlink)."""
    if out_dir.exists() and not out_dir.is_symlink():
        # A plain folder from elsewhere (or an older layout): move it aside once; it
        # becomes a pruned version, so only this first switch is not atomic.
        os.replace(out_dir, out_dir.parent / f".{out_dir.name}.legacy.{uuid.uuid4().hex[:8]}")
    link = out_dir.parent / f".{out_dir.name}.link.{uuid.uuid4().hex[:8]}"
    os.symlink(version_dir.name, link)  # relative: the warehouse folder can move
    os.replace(link, out_dir)


def _prune(out_dir: Path) -> None:
    current = os.readlink(out_dir)
    prefix = f".{out_dir.name}."
    versions = sorted(
        (p for p in out_dir.parent.iterdir() if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    others = [p for p in versions if p.name != current]
    for stale in others[KEEP_VERSIONS - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
