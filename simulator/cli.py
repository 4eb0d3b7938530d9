"""Command line: `python -m simulator serve ...` (also reached through the product's `bridge simulate`)."""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from simulator.dialect import DIALECTS
from simulator.profiles import PROFILES


def _years(text: str) -> int:
    years = int(text)
    if years < 1:
        raise argparse.ArgumentTypeError("must be a whole number of years, 1 or more")
    return years


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="simulator", description="Stand-in source systems for hris-lms-bridge")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="generate the organisation and serve the five feeds on loopback")
    s.add_argument("--profile", choices=sorted(PROFILES), default="pilot")
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--workdir", type=Path, required=True)
    s.add_argument("--faults", type=float, default=0.0, help="share of data requests answered with a fault")
    s.add_argument("--no-filter", action="store_true", help="ServiceProviderConfig says filter unsupported")
    s.add_argument("--dialect", choices=sorted(DIALECTS), default="reference",
                   help="how the servers speak: reference (default) or foreign (simulator/README.md)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--history-years", type=_years, default=1,
                   help="years of xAPI statements and payroll files already there at start-up (default 1)")
    c = sub.add_parser("write-crosswalk", help="rewrite dbt_project/seeds/job_title_crosswalk.csv")
    c.add_argument("--path", type=Path, default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv.insert(0, "serve")  # `bridge simulate --profile ...` delegates without naming the command
    args = build_parser().parse_args(argv)
    if args.command == "write-crosswalk":
        from simulator.crosswalk import write_crosswalk
        print(write_crosswalk(args.path))
        return 0
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("simulator: --host must be a loopback address", file=sys.stderr)
        return 2
    from simulator.app import SimApp
    app = SimApp(args.profile, args.seed, args.workdir, faults=args.faults, no_filter=args.no_filter,
                 host=args.host, dialect=args.dialect, history_years=args.history_years)

    def stop(signum, frame) -> None:
        app.done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"simulator ready: {app.workdir / 'ready.json'} (admin {app.admin_url})", flush=True)
    app.done.wait()
    if any(s.socket.fileno() != -1 for s in app.servers.values()):
        app.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
