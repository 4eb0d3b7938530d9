"""Wall time of one whole nightly sync of the `standard` profile, split into extract,
dbt build, checks and publish (DESIGN.md, 'Speed by design'). Prints figures; asserts nothing.
The first run is full; each later one follows a simulated day of changes. The last line times
`bridge sync` in a new process, as a scheduler runs it, imports included. Each sync prints
the peak resident memory of each of its processes (the run, dbt's, anything else it starts).
On `--warehouse postgres` the warehouse is a throwaway local cluster (scripts/pg_test_server.sh
on BRIDGE_TEST_PG_PORT, default 55499), stopped at the end.

    .venv/bin/python bench/bench_sync.py [--profile standard] [--runs 2] [--warehouse duckdb|postgres]
        [--history-years 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak_memory import peak_memory


def phase_of(step_key: str) -> str:
    if step_key.startswith("extract_"):
        return "extract"
    if step_key == "warehouse_models":
        return "dbt build"
    if step_key == "quality_checks":
        return "checks"
    if "publish" in step_key or step_key.startswith("publication"):
        return "publish"
    return "other"


def _dbt_split(run_results: Path) -> str:
    """dbt's own phases of its last invocation, from its run_results.json: the nodes, and the
    rest of the invocation (adapter, parse, writing artifacts; not dbt's import, before it)."""
    try:
        results = json.loads(run_results.read_text(encoding="utf-8"))
        meta = results["metadata"]
        total = (datetime.fromisoformat(meta["generated_at"]) - datetime.fromisoformat(meta["invocation_started_at"]))
    except (OSError, ValueError, KeyError):
        return "no complete dbt invocation in its run_results.json"
    nodes = results["elapsed_time"]
    return f"start-up and artifacts {total.total_seconds() - nodes:.1f} s, {nodes:.1f} s running the nodes"


def _steps_from_log(log: Path) -> str:
    """Phases of a run from its Dagster log (the new process's events are not ours to read)."""
    phases: dict[str, float] = defaultdict(float)
    # Dagster writes "599ms", "46.37s" or "1m49s"
    pattern = r'Finished execution of step "(\w+)" in (?:(\d+)m)?([\d.]+)(ms|s)'
    for m in re.finditer(pattern, log.read_text(encoding="utf-8")):
        seconds = float(m.group(3)) / (1000 if m.group(4) == "ms" else 1) + 60 * int(m.group(2) or 0)
        phases[phase_of(m.group(1))] += seconds
    return ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in phases.items()) or "no steps in its log"


def _cpu() -> tuple[float, float]:
    """CPU seconds so far of this process, and of its children that have ended (dbt, a
    `bridge sync`): a figure that other work on a shared machine disturbs less than wall time."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _cpu_since(start: tuple[float, float]) -> str:
    own, children = (now - then for now, then in zip(_cpu(), start, strict=True))
    return f"CPU {own + children:.1f} s (this process {own:.1f} s, dbt and other children {children:.1f} s)"


def _pg_server_cpu() -> float | None:
    """CPU seconds so far of the bench's PostgreSQL cluster: its postmaster, the backends alive
    and those that ended (counted in the postmaster's children's times once it has reaped them).
    Not in the run's CPU figure: the server is no child of this process."""
    import psutil

    pid_file = Path(f"/tmp/bridge-pg-{os.environ.get('BRIDGE_TEST_PG_PORT', '55499')}/data/postmaster.pid")
    try:
        postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
        total = sum(postmaster.cpu_times()[:4])
        for child in postmaster.children():
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:
                continue
    except (OSError, ValueError, IndexError, psutil.Error):
        return None
    return total


def _advance(ready: dict, sim_dir: Path, days: int) -> None:
    """Move the simulated sources on (their changes of those days), and the business date."""
    import requests

    requests.post(f"{ready['admin_url']}/advance", json={"days": days}, timeout=120).raise_for_status()
    os.environ.update(json.loads((sim_dir / "ready.json").read_text())["env"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="standard")
    parser.add_argument("--runs", type=int, default=2, help="the first run is full, later ones incremental")
    parser.add_argument("--days", type=int, default=1, help="simulated days before each incremental run")
    parser.add_argument("--warehouse", choices=("duckdb", "postgres"), default="duckdb")
    parser.add_argument("--history-years", type=int, default=1, help="the simulator's years of history")
    args = parser.parse_args()

    from orchestration.cli import run_sync, start_simulator

    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    t0 = time.monotonic()
    history = ["--history-years", str(args.history_years)] if args.history_years != 1 else []
    proc, ready = start_simulator(args.profile, 42, work / "sim", history)
    print(f"simulator ({args.profile}, {args.history_years} year(s) of history) ready in "
          f"{time.monotonic() - t0:.1f} s, warehouse {args.warehouse}")
    pg = ROOT / "scripts" / "pg_test_server.sh"
    try:
        os.environ.update(ready["env"])
        os.environ["BRIDGE_WAREHOUSE"] = str(work / "warehouse" / "bridge.duckdb")
        if args.warehouse == "postgres":
            os.environ.setdefault("BRIDGE_TEST_PG_PORT", "55499")
            subprocess.run([str(pg), "start"], check=True, stdout=subprocess.DEVNULL)
            url = subprocess.run([str(pg), "url"], check=True, capture_output=True, text=True).stdout.strip()
            os.environ["BRIDGE_WAREHOUSE"] = url
            os.environ["BRIDGE_WORK_DIR"] = str(work / "warehouse")
        t_import = time.monotonic()
        import orchestration.definitions  # noqa: F401  (fixed cost: Dagster, dbt manifest, GX)

        print(f"code location import: {time.monotonic() - t_import:.1f} s")
        for n in range(args.runs):
            if n:
                _advance(ready, work / "sim", args.days)
            t, cpu, pg_cpu = time.monotonic(), _cpu(), _pg_server_cpu()
            with peak_memory() as peak:
                _, decision, result = run_sync(trigger="bench", quiet=True)
            wall = time.monotonic() - t
            pg_cpu_after = _pg_server_cpu()
            phases: dict[str, float] = defaultdict(float)
            steps: dict[str, list[str]] = defaultdict(list)
            for ev in result.all_events:
                if ev.is_step_success:
                    seconds = ev.step_success_data.duration_ms / 1000
                    phases[phase_of(ev.step_key)] += seconds
                    steps[phase_of(ev.step_key)].append(f"{ev.step_key} {seconds:.1f}")
            kind = "full" if n == 0 else "incremental"
            print(f"sync {n + 1} ({kind}): {wall:.1f} s wall, {_cpu_since(cpu)}, decision {decision.status}")
            if pg_cpu is not None and pg_cpu_after is not None:
                print(f"  PostgreSQL server CPU {pg_cpu_after - pg_cpu:.1f} s (beside the figure above)")
            for phase in ("extract", "dbt build", "checks", "publish", "other"):
                if phase in phases:
                    print(f"  {phase:<10} {phases[phase]:6.1f} s   ({', '.join(steps[phase])})")
            print(f"  overhead   {wall - sum(phases.values()):6.1f} s (run set-up, audit, finish)")
            print(f"  within dbt build: {_dbt_split(work / 'warehouse' / '.bridge.dbt_target' / 'run_results.json')}")
            print("  memory (this process is the run's; `-m simulator` is the sources' simulator):")
            for line in peak.lines():
                print(f"    {line}")
        # What a scheduler sees each night: a new process, which imports the code location
        # (Dagster, dagster-dbt, the manifest) and Great Expectations again.
        _advance(ready, work / "sim", args.days)
        t, cpu, pg_cpu = time.monotonic(), _cpu(), _pg_server_cpu()
        bridge = subprocess.Popen([str(Path(sys.executable).parent / "bridge"), "sync"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with peak_memory(bridge.pid) as peak:
            returncode = bridge.wait()
        print(f"bridge sync in a new process (incremental, imports included): {time.monotonic() - t:.1f} s wall, "
              f"exit {returncode}")
        print(f"  {_cpu_since(cpu)}")
        if pg_cpu is not None and (pg_cpu_after := _pg_server_cpu()) is not None:
            print(f"  PostgreSQL server CPU {pg_cpu_after - pg_cpu:.1f} s (beside the figure above)")
        for line in peak.lines():
            print(f"  {line}")
        newest = max((work / "warehouse" / "logs").glob("sync-*.log"), key=lambda p: p.stat().st_mtime)
        print(f"  of which the run: {_steps_from_log(newest)}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if args.warehouse == "postgres":
            subprocess.run([str(pg), "stop"], check=False, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
