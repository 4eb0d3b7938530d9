"""The job-title crosswalk seed HR maintains, generated from the catalogue."""
from __future__ import annotations

import csv
from pathlib import Path

from simulator.catalogue import crosswalk_rows
from simulator.titles import SEEDS_DIR

HEADER = ("source_title", "canonical_job_title", "job_family", "job_level")


def write_crosswalk(path: Path | None = None) -> Path:
    path = path or SEEDS_DIR / "job_title_crosswalk.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(crosswalk_rows())
    return path
