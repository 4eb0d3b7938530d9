"""Run one full sync in its own process (the crash test kills it with SIGKILL). Prints
`started`, then a `progress ...` line as each stream finishes, then `finished`."""
from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import duckdb

from connectors.config import HttpSettings, sources_from_mapping
from connectors.sync import extract_all


def main() -> None:
    env_file, db_path, run_id = sys.argv[1:4]
    env = json.loads(Path(env_file).read_text())
    http = HttpSettings(connect_timeout=2.0, read_timeout=10.0, max_attempts=8, backoff_initial=0.02,
                        backoff_max=0.2, retry_after_cap=1.0)
    log = logging.getLogger("sync_child")
    log.setLevel(logging.INFO)
    progress = logging.StreamHandler(sys.stdout)
    progress.setFormatter(logging.Formatter("progress %(message)s"))
    log.addHandler(progress)
    con = duckdb.connect(db_path)
    print("started", flush=True)
    extract_all(con, sources_from_mapping(env, http), run_id, date.fromisoformat(env["BRIDGE_AS_OF"]), log)
    con.close()
    print("finished", flush=True)


if __name__ == "__main__":
    main()
