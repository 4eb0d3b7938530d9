"""`make bench`: every benchmark, one after the other; each prints its own figures.

    BENCH_PROFILE=large (default) for the extract and provisioning benchmarks, standard for the sync split.
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
        ("provisioning the LMS: plan and apply", [sys.executable, str(HERE / "bench_provision.py"),
                                                  "--profile", extract_profile]),
    ]
    status = 0
    for title, cmd in steps:
        print(f"\n=== {title}: {' '.join(cmd[1:])}", flush=True)
        status |= subprocess.call(cmd)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
