"""Provisioning the LMS: plan and apply time (run via `make bench`; not a test).

    python bench/bench_provision.py [--profile large] [--seed 1] [--apply-limit 20000] [--workers 8]

Starts the simulator; the desired state is its HRIS truth (as the published dim_employee shows it).
The simulated LMS knows each user's e-mail, number and its own title spelling only, so a first
provisioning changes every matched user once (the `large` profile: ~100,000 people).

  * plan:  capabilities, every LMS user read (paged), matched and diffed; target under 30 s;
  * apply: the first --apply-limit changes of that plan applied (PATCH/POST, then the read-back),
           as requests per second, beside the simulator's own rate for the same requests without
           the bridge (plain GETs at the same concurrency): apply should be limited by the LMS;
  * plan again: the next night's plan, after the apply (with --apply-limit 0: a night on which
           nothing changed, the floor of a provisioning night: the full read and the comparison).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _simulator_rate(base: str, token: str, ids: list[str], workers: int) -> float:
    """GET /Users/{id} per second straight from the simulator: what the LMS serves at this concurrency."""
    import requests

    local = __import__("threading").local()

    def get(uid: str) -> None:
        s = getattr(local, "s", None) or requests.Session()
        local.s = s
        s.trust_env = False
        s.get(f"{base}/Users/{uid}", headers={"Authorization": f"Bearer {token}"}, timeout=30).raise_for_status()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(get, ids))
    return len(ids) / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="large")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--apply-limit", type=int, default=20_000, help="changes applied (0: the whole plan)")
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()

    import duckdb

    from connectors.landing import ensure_schema
    from connectors.scim_provision import ScimTarget
    from orchestration.lib.provisioning import run as provisioning
    from orchestration.lib.provisioning.apply import apply_plan
    from orchestration.lib.provisioning.audit_rows import change_columns, write_changes, write_results
    from orchestration.lib.provisioning.config import ProvisioningConfig
    from simulator import Simulator
    from tests.provisioning.truth_people import people_from_truth

    started = time.perf_counter()
    # generating `large` (100,000 people, ~2.3M statements) takes minutes, more on a loaded machine
    with tempfile.TemporaryDirectory(prefix="bench-provision-") as tmp, \
            Simulator(args.profile, seed=args.seed, workdir=Path(tmp) / "sim", startup_timeout=3600) as sim:
        env = sim.env
        print(f"simulator ({args.profile}) ready in {time.perf_counter() - started:.0f} s, "
              f"{_proc_cpu(sim.proc.pid):.0f} CPU s (generating the world: "
              f"{sim.ready['generate_seconds']:.0f} s)", flush=True)
        people = people_from_truth(sim.truth_dir)
        cfg = ProvisioningConfig(mode="apply", url=env["LMS_SCIM_URL"], token=env["LMS_SCIM_TOKEN"],
                                 max_change_rate=1.0, max_deactivations=10**9, workers=args.workers,
                                 page_size=1000)
        as_of = date.fromisoformat(env["BRIDGE_AS_OF"])

        t0, c0, s0 = time.perf_counter(), _cpu(), _proc_cpu(sim.proc.pid)
        plan, caps = provisioning.compute_plan(people, cfg, as_of)
        plan_s, plan_cpu, sim_cpu = time.perf_counter() - t0, _cpu() - c0, _proc_cpu(sim.proc.pid) - s0
        work = duckdb.connect()
        ensure_schema(work)
        t1, c1 = time.perf_counter(), _cpu()
        columns = change_columns(plan)
        write_changes(work, "bench", columns)
        record_s, record_cpu = time.perf_counter() - t1, _cpu() - c1
        counts = plan.counts()
        print(f"plan   {plan_s:6.1f} s  {plan.lms_users:,} LMS users read, "
              f"{plan.people_in_scope:,} people, {len(plan.changes):,} users to change "
              f"({', '.join(f'{a} {n:,}' for a, n in counts.items() if n)}); target < 30 s "
              f"{'OK' if plan_s < 30 else 'MISSED'}")
        print(f"       CPU: bridge {plan_cpu:.1f} s, simulator serving the pages {sim_cpu:.1f} s (on a loaded machine "
              "the wall time is mostly waiting for a CPU)")
        print(f"record {record_s:6.1f} s  {len(columns[0]):,} field changes to audit.provisioning_change "
              f"(CPU {record_cpu:.1f} s)")

        limit = args.apply_limit or len(plan.changes)
        plan.changes = plan.changes[:limit]
        t2, c2, s2 = time.perf_counter(), _cpu(), _proc_cpu(sim.proc.pid)
        report = apply_plan(plan, caps, lambda: ScimTarget(provisioning.target_config(cfg)), "bench",
                            workers=args.workers, record=lambda r: write_results(work, r))
        apply_s, apply_cpu, sim_apply_cpu = time.perf_counter() - t2, _cpu() - c2, _proc_cpu(sim.proc.pid) - s2
        sent = report.requests
        sample = [ch.target_id for ch in plan.changes if ch.target_id][:min(5000, limit)]
        sim_rate = _simulator_rate(env["LMS_SCIM_URL"], env["LMS_SCIM_TOKEN"], sample, args.workers)
        print(f"apply  {apply_s:6.1f} s  {len(plan.changes):,} changes + read-back = {sent:,} requests, "
              f"{sent / apply_s:,.0f} req/s with {args.workers} workers "
              f"({', '.join(f'{k} {v:,}' for k, v in sorted(report.statuses.items()))}); "
              f"CPU: bridge {apply_cpu:.1f} s ({apply_cpu / apply_s:.0%} of the wall time), simulator "
              f"{sim_apply_cpu:.1f} s")
        print(f"       the simulator alone serves {sim_rate:,.0f} GET /Users/{{id}} per second at that concurrency: "
              f"the apply runs at {sent / apply_s / sim_rate:.0%} of the LMS's rate")
        if limit < len(plan.changes) or args.apply_limit:
            print(f"       (first {limit:,} changes applied; the whole plan at this rate: "
                  f"{(counts['create'] + counts['update'] + counts['reactivate'] + counts['deactivate']) * 2 / (sent / apply_s) / 60:.1f} min)")
        # the next night: the LMS now holds what was applied, so the plan is what is left
        t3, c3, s3 = time.perf_counter(), _cpu(), _proc_cpu(sim.proc.pid)
        again, _ = provisioning.compute_plan(people, cfg, as_of)
        print(f"plan again after the apply {time.perf_counter() - t3:6.1f} s, {len(again.changes):,} users to change "
              f"(CPU: bridge {_cpu() - c3:.1f} s, simulator {_proc_cpu(sim.proc.pid) - s3:.1f} s): the full read "
              "of the LMS and the comparison, whatever the day changed")
        print(f"load average {os.getloadavg()[0]:.1f}: wall-clock rates move with the machine's load")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
