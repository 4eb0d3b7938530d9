"""`make bench`: every benchmark, one after the other; each prints its own figures.

    BENCH_PROFILE=large (default) for the extract and provisioning benchmarks, standard for the sync split;
    BENCH_NIGHTS=0 leaves out the `large` nights at 1 and 3 years of history (long: a
    simulator of 100,000 people, then a full sync before each measured night).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    extract_profile = os.environ.get("BENCH_PROFILE", "large")
    steps = [
        ("extract and land per feed", [sys.executable, str(HERE / "bench_extract.py"), "--profile", extract_profile]),
        ("one nightly sync, split by phase", [sys.executable, str(HERE / "bench_sync.py"), "--profile", "standard"]),
        ("the same on a local PostgreSQL", [sys.executable, str(HERE / "bench_sync.py"), "--profile", "standard",
                                            "--warehouse", "postgres"]),
        ("provisioning the LMS: plan and apply", [sys.executable, str(HERE / "bench_provision.py"),
                                                  "--profile", extract_profile]),
    ]
    if os.environ.get("BENCH_NIGHTS", "1") != "0":
        for years in (1, 3):
            steps.append((f"the large night at {years} year(s) of history",
                          [sys.executable, str(HERE / "bench_sync.py"), "--profile", "large",
                           "--history-years", str(years)]))
    status = 0
    for title, cmd in steps:
        print(f"\n=== {title}: {' '.join(cmd[1:])}", flush=True)
        status |= subprocess.call(cmd)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
