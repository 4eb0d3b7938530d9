"""`bridge`: the command line of hris-lms-bridge.

    bridge sync       run one nightly sync now (extract, build, check, publish)
    bridge check      validate the configuration and reach every source, writing nothing
    bridge status     the last runs and the last publication
    bridge audit      what a run checked, blocked and published, and the extracts it consumed
    bridge simulate   run the simulated source systems on loopback
    bridge demo       simulator + one sync + summary, then stop the simulator
    bridge report     regenerate the static report site from the published warehouse
    bridge payroll withdraw FILE --reason TEXT   exclude a landed payroll export from the next build on
    bridge provision  plan (--plan) or apply (--apply) the LMS's users from the published HRIS data
    bridge prepare    build the dbt manifest once (done by `make`)
    bridge erase      erase one person on request, then rebuild and republish
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TELEMETRY_OFF = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


_noted: set[str] = set()


def _settings(require_sources: bool = True):
    """The whole configuration, checked in one pass: every problem on its own line, exit 2."""
    from orchestration.lib.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(require_sources=require_sources)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"bridge: configuration error: {problem}", file=sys.stderr)
        raise SystemExit(2) from None
    for note in settings.notes:
        if note not in _noted:
            _noted.add(note)
            print(f"bridge: note: {note}", file=sys.stderr)
    return settings


def run_sync(trigger: str = "cli", *, quiet: bool = False, verbose: bool = False,
             request: Any = None, tags: dict[str, str] | None = None,
             run_id: str | None = None) -> tuple[str, Any, Any]:
    """Run the nightly job in this process and close the run in the audit trail.

    Whatever stops it (a failed step, a blocking check, Ctrl-C or SIGTERM at any step), the run
    ends with exactly one decision in audit.publication that agrees with the published files."""
    import uuid

    from orchestration.lib import dagster_instance, interrupts, run_log, sync_request
    from orchestration.lib.failure_cause import step_causes, was_interrupted
    from orchestration.lib.progress import SyncProgress
    from orchestration.lib.sync_request import ONLY_TAG
    from orchestration.lib.warehouse import SyncAlreadyRunning, WarehousePaths, connect_work, exclusive_sync

    request = request or sync_request.SyncRequest()
    settings = _settings()
    paths = WarehousePaths.for_settings(settings)
    run_id = run_id or str(uuid.uuid4())
    tags = {"bridge/trigger": trigger, **(tags or {})}
    if request.dry_run:
        tags["bridge/dry_run"] = "true"
    if request.only:
        tags[ONLY_TAG] = ",".join(request.only)
    result = None
    try:
        with interrupts.as_interrupts() as caught, exclusive_sync(paths):
            try:
                from connectors.landing import ensure_schema
                from orchestration.definitions import defs

                job = defs.resolve_job_def("nightly_sync")
                instance = dagster_instance.for_sync()
                con = connect_work(paths)
                try:
                    ensure_schema(con)
                    sync_request.apply(con, run_id, request)
                finally:
                    con.close()
                # Dagster's and dbt's step-by-step output goes to a log file beside the
                # warehouse; the terminal gets progress and the summary (`--verbose` streams
                # the run at info level instead).
                log_dir = paths.work.parent / "logs"
                log_dir.mkdir(parents=True, exist_ok=True)
                log_path = log_dir / f"sync-{time.strftime('%Y%m%dT%H%M%S')}.log"
                if not quiet:
                    print(f"run {run_id}: full log in {log_path}", flush=True)
                progress = contextlib.nullcontext() if quiet else SyncProgress(sys.stderr)
                loggers = {"console": {"config": {"log_level": "INFO" if verbose else "DEBUG"}}}
                if not quiet:
                    loggers["bridge_progress"] = {}
                with open(log_path, "w", encoding="utf-8") as log_file, progress:
                    sink = contextlib.ExitStack()
                    if not verbose:
                        sink.enter_context(contextlib.redirect_stdout(log_file))
                        sink.enter_context(contextlib.redirect_stderr(log_file))
                    with sink:
                        result = job.execute_in_process(
                            instance=instance, tags=tags, raise_on_error=False, run_id=run_id,
                            run_config={"loggers": loggers},
                        )
            except KeyboardInterrupt:
                caught.interrupted = True
            events = result.all_events if result is not None else []
            if was_interrupted(events):
                caught.interrupted = True  # Dagster turned the signal into a step failure
            failed_steps = sorted({e.step_key for e in events if e.is_step_failure and e.step_key})
            try:
                with interrupts.deferred():  # a second Ctrl-C waits for the decision
                    con = connect_work(paths)
                    try:
                        ensure_schema(con)
                        decision = run_log.finish(
                            con, paths, run_id, failed_steps=failed_steps, trigger=trigger,
                            webhook_url=settings.webhook_url, dry_run=request.dry_run, interrupted=caught.name,
                        )
                    finally:
                        con.close()
            except KeyboardInterrupt:  # delivered once the decision was recorded
                caught.interrupted = True
            if not quiet:
                if caught.interrupted:
                    print(f"bridge: stopped by {caught.name}; run {run_id} recorded as {decision.status}",
                          file=sys.stderr)
                for step, cause in step_causes(events).items():
                    print(f"step {step} failed: {cause}", file=sys.stderr)
            return run_id, decision, result
    except SyncAlreadyRunning as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        raise SystemExit(3) from None


def published_location(paths) -> str:
    """Where readers find what was published, never with a password."""
    if paths.pg_url:
        from orchestration.lib.postgres.connection import parse_warehouse_url

        t = parse_warehouse_url(paths.pg_url)
        host = f"[{t.host}]" if ":" in t.host else t.host
        return (f"PostgreSQL postgresql://{t.user}@{host}:{t.port}/{t.dbname}, schemas reporting "
                f"(HR reporting), restricted (compensation) and audit")
    return f"{paths.published} (restricted: {paths.restricted})"


def _open_audit(paths):
    """Auditors read the published file (never blocked by a running sync); before the first
    publication there is only the work file. On Postgres, the warehouse's `audit` schema."""
    from orchestration.lib.warehouse import connect_read_only

    if paths.pg_url:
        from orchestration.lib import pg_warehouse

        return pg_warehouse.audit_copy(paths)
    if paths.published.exists():
        return connect_read_only(paths, paths.published)
    if paths.work.exists():
        return connect_read_only(paths, paths.work)
    print(f"bridge: no warehouse at {paths.published} yet: run `bridge sync` first", file=sys.stderr)
    raise SystemExit(2)


def cmd_sync(args: argparse.Namespace) -> int:
    from orchestration.lib import sync_request
    from orchestration.lib.summary import format_run_report, run_report
    from orchestration.lib.warehouse import WarehousePaths

    try:
        request = sync_request.SyncRequest(
            only=sync_request.parse_only(args.only) if args.only else (),
            full_refresh=tuple(sync_request.parse_stream(t) for t in args.full_refresh),
            dry_run=args.dry_run,
            reason=args.reason,
        )
        sync_request.check(request)
    except sync_request.RequestError as exc:
        print(f"bridge sync: {exc}", file=sys.stderr)
        return 2
    settings = _settings()  # every configuration problem before anything runs
    started = time.monotonic()
    run_id, decision, _ = run_sync(trigger=args.trigger, verbose=args.verbose, request=request)
    paths = WarehousePaths.for_settings(settings)
    con = _open_audit(paths)
    try:
        print(format_run_report(run_report(con, run_id), published_to=published_location(paths)))
    finally:
        con.close()
    print(f"\nsync took {time.monotonic() - started:.1f} s")
    return exit_status(decision)


def exit_status(decision: Any) -> int:
    """The exit status agrees with the recorded decision: 0 published (or a dry run nothing
    would have blocked), 130 abandoned (a signal stopped the run), else 1."""
    if decision.status == "published" or (decision.status == "dry_run" and not decision.blocked_by):
        return 0
    return 130 if decision.status == "abandoned" else 1


def cmd_check(args: argparse.Namespace) -> int:
    from orchestration.lib.source_check import check_all

    settings = _settings()
    results = check_all(settings)
    width = max(len(r.name) for r in results)
    for r in results:
        print(f"{r.name:<{width}}  {'ok' if r.ok else 'FAILED'}  {r.detail}", flush=True)
    return 0 if all(r.ok for r in results) else 1


def cmd_status(args: argparse.Namespace) -> int:
    from orchestration.lib.warehouse import WarehousePaths

    paths = WarehousePaths.for_settings(_settings(require_sources=False))
    con = _open_audit(paths)
    try:
        runs = con.execute(
            "select r.run_id, r.started_at, r.finished_at, r.status, r.trigger, p.status as decision "
            "from audit.pipeline_run r left join audit.publication p using (run_id) "
            "order by r.started_at desc limit ?",
            [args.limit],
        ).fetchall()
        last = con.execute(
            "select run_id, decided_at, row_counts from audit.publication where status = 'published' "
            "order by decided_at desc limit 1"
        ).fetchone()
    finally:
        con.close()
    print(f"warehouse: {'PostgreSQL (BRIDGE_WAREHOUSE)' if paths.pg_url else paths.published}")
    print("last runs:")
    for run_id, started, finished, status, trigger, decision in runs:
        print(f"  {run_id}  {started:%Y-%m-%d %H:%M:%S}  {status:<9} {trigger:<8} publication={decision or '-'}")
    if last:
        counts = json.loads(last[2]) if last[2] else {}
        print(f"last publication: run {last[0]} at {last[1]:%Y-%m-%d %H:%M:%S}, {len(counts)} tables, "
              f"{sum(counts.values())} rows")
    else:
        print("last publication: none yet")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from orchestration.lib.summary import format_run_report, latest_run_id, run_report
    from orchestration.lib.warehouse import WarehousePaths

    paths = WarehousePaths.for_settings(_settings(require_sources=False))
    con = _open_audit(paths)
    try:
        run_id = args.run_id or latest_run_id(con)
        if run_id is None:
            print("bridge: no runs recorded yet", file=sys.stderr)
            return 2
        report = run_report(con, run_id)
    finally:
        con.close()
    if report["run"].get("started_at") is None and not report["checks"]:
        print(f"bridge: no run {run_id} in the audit trail", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(report, default=str, indent=2))
    else:
        print(format_run_report(report, published_to=published_location(paths)))
        docs = paths.data_docs / run_id / "index.html"
        if docs.exists():
            print(f"\nData Docs: {docs}")
    return 0


def cmd_provision(args: argparse.Namespace) -> int:
    """`--plan` prints what provisioning would change and writes nothing; `--apply` plans again against
    what the LMS holds now, records the plan and its results under the latest publication's run id,
    and applies it unless a safeguard holds it (`--allow-over-threshold` after review)."""
    from connectors.errors import SourceError
    from orchestration.lib.provisioning import run as provisioning
    from orchestration.lib.provisioning.config import ProvisioningConfig
    from orchestration.lib.settings import SettingsError
    from orchestration.lib.source_config import http_settings
    from orchestration.lib.warehouse import SyncAlreadyRunning, WarehousePaths, connect_work, exclusive_sync

    settings = _settings(require_sources=False)
    try:
        cfg = ProvisioningConfig.from_settings(settings)
    except SettingsError as exc:
        print(f"bridge: configuration error: {exc}", file=sys.stderr)
        return 2
    if not cfg.url or not cfg.token:
        print("bridge: configuration error: LMS_SCIM_URL and LMS_SCIM_TOKEN must be set to provision",
              file=sys.stderr)
        return 2
    paths = WarehousePaths.for_settings(settings)
    if not paths.pg_url and not paths.published.exists():
        print(f"bridge: no published warehouse at {paths.published} yet: run `bridge sync` first", file=sys.stderr)
        return 2
    as_of = settings.as_of_or_today()
    try:
        if args.plan:
            with provisioning.published_people(paths) as people:
                plan, _ = provisioning.compute_plan(people, cfg, as_of, http_settings(settings))
            print("\n".join(provisioning.summary_lines(provisioning.Outcome("plan", plan, bool(plan.held_by), None),
                                                       changes=args.limit)))
            return 0
        with exclusive_sync(paths):
            work = connect_work(paths)
            try:
                rows = work.execute("select run_id from audit.publication where status = 'published' "
                                    "order by decided_at desc limit 1").fetchall()
                row = rows[0] if rows else None
                if row is None:
                    print("bridge: nothing has been published yet: run `bridge sync` first", file=sys.stderr)
                    return 2
                with provisioning.published_people(paths) as people:
                    outcome = provisioning.provision(work, people, cfg, row[0], as_of, apply=True,
                                                     allow_over_threshold=args.allow_over_threshold,
                                                     webhook_url=settings.webhook_url,
                                                     http=http_settings(settings))
                provisioning.publish_audit(work, paths, row[0])
            finally:
                work.close()
    except SyncAlreadyRunning as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return 3
    except SourceError as exc:
        print(f"bridge: the LMS's SCIM endpoint failed: {exc}", file=sys.stderr)
        return 1
    print("\n".join(provisioning.summary_lines(outcome, changes=args.limit)))
    if outcome.held:
        print("plan HELD by a safeguard: nothing was sent; review it, then `bridge provision --apply "
              "--allow-over-threshold`", file=sys.stderr)
    failed = outcome.report.statuses.get("failed", 0) if outcome.report else 0
    return 1 if outcome.held or failed else 0


def simulator_args(args: argparse.Namespace) -> list[str]:
    out = ["--profile", args.profile, "--seed", str(args.seed), "--workdir", str(args.workdir)]
    if args.faults:
        out += ["--faults", str(args.faults)]
    if args.dialect:
        out += ["--dialect", args.dialect]
    if args.no_filter:
        out.append("--no-filter")
    return out


def cmd_simulate(args: argparse.Namespace) -> int:
    # Product code never imports the simulator: it runs as its own program, in this process's
    # place, so Ctrl-C and SIGTERM reach it and its pid (in ready.json) is the one to stop.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "simulator", "serve", *simulator_args(args)])


def start_simulator(profile: str, seed: int, workdir: Path, extra: list[str] | None = None) -> tuple[subprocess.Popen, dict]:
    ready = workdir / "ready.json"
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--profile", profile, "--seed", str(seed),
         "--workdir", str(workdir), *(extra or [])],
    )
    deadline = time.monotonic() + 300
    while not ready.exists():
        if proc.poll() is not None:
            raise SystemExit(f"bridge: the simulator exited with status {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("bridge: the simulator did not become ready within 300 s")
        time.sleep(0.2)
    return proc, json.loads(ready.read_text())


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestration.lib.settings import Settings
    from orchestration.lib.summary import (
        format_reconciliation,
        format_run_report,
        reconciliation_summary,
        run_report,
    )
    from orchestration.lib.warehouse import WarehousePaths

    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"starting the simulated sources ({args.profile} profile, seed {args.seed}) on loopback ...", flush=True)
    t0 = time.monotonic()
    proc, ready = start_simulator(args.profile, args.seed, workdir)
    try:
        print(f"simulator ready in {time.monotonic() - t0:.1f} s", flush=True)
        os.environ.update(ready["env"])
        if args.warehouse:
            os.environ["BRIDGE_WAREHOUSE"] = args.warehouse
        t1 = time.monotonic()
        run_id, decision, result = run_sync(trigger="demo")
        elapsed = time.monotonic() - t1
        settings = Settings.from_env()
        paths = WarehousePaths.for_settings(settings)
        from orchestration.lib.warehouse import connect_read_only

        con = _open_audit(paths)
        try:
            print()
            print(format_run_report(run_report(con, run_id), published_to=published_location(paths)))
        finally:
            con.close()
        work = connect_read_only(paths, paths.work)
        try:
            print()
            print(format_reconciliation(reconciliation_summary(work)))
        finally:
            work.close()
        print(f"\nnightly sync took {elapsed:.1f} s")
        seconds = report_seconds(result) if result is not None else None
        if seconds is not None:
            print(f"report site: {paths.report}/index.html (generated in {seconds:.1f} s, "
                  f"{seconds / elapsed:.0%} of the sync)")
        print(f"published warehouse: {published_location(paths)}")
        return exit_status(decision)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        print("simulator stopped")


def cmd_report(args: argparse.Namespace) -> int:
    from orchestration.lib import publication
    from orchestration.lib.report import generate_report
    from orchestration.lib.warehouse import WarehousePaths

    paths = WarehousePaths.for_settings(_settings(require_sources=False))
    if not paths.pg_url and not paths.published.exists():
        print(f"bridge: nothing published at {paths.published} yet", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else paths.report
    out.parent.mkdir(parents=True, exist_ok=True)
    result = generate_report(publication.report_source(paths), out, memory_limit=paths.memory.scratch)
    print(f"report for publication {result.publication_run_id} (as of {result.as_of_date}) "
          f"written in {result.seconds:.1f} s:")
    for page, path in result.pages.items():
        print(f"  {page:<11} {path}")
    return 0


def cmd_payroll_withdraw(args: argparse.Namespace) -> int:
    """Exclude a landed payroll export from every build from the next one on, recording who asked
    and why (audit.quarantine and raw.payroll__withdrawals). The inbox file is left untouched."""
    import getpass
    import hashlib
    from datetime import UTC, datetime

    from connectors.landing import DuckDBLander
    from orchestration.lib.warehouse import SyncAlreadyRunning, WarehousePaths, connect_work, exclusive_sync

    reason = " ".join(args.reason.split())
    if not reason:
        print("bridge: --reason must say why the export is withdrawn", file=sys.stderr)
        return 2
    try:
        who = args.requested_by or getpass.getuser()
    except (KeyError, OSError):  # no login name for this uid (a container, say)
        who = f"uid {os.getuid()}"
    paths = WarehousePaths.for_settings(_settings(require_sources=False))
    if not paths.work.exists():
        print(f"bridge: no warehouse at {paths.published} yet: nothing was landed to withdraw", file=sys.stderr)
        return 2
    given = Path(args.file)
    # the file itself names its exact bytes; otherwise a file name, or a sha256 (or its first 8+ digits)
    sha = hashlib.sha256(given.read_bytes()).hexdigest() if given.is_file() else None
    try:
        with exclusive_sync(paths):
            con = connect_work(paths)
            try:
                lander = DuckDBLander(con)
                landed = [f for f in lander.payroll_files() if f["status"] == "loaded"]
                key = args.file.strip().lower()
                matches = ([f for f in landed if f["file_sha256"] == sha] if sha else
                           [f for f in landed if f["file_name"] == given.name]
                           or [f for f in landed if len(key) >= 8 and f["file_sha256"].startswith(key)])
                if not matches:
                    print(f"bridge: no landed payroll export matches {args.file}", file=sys.stderr)
                    return 2
                if len(matches) > 1:
                    print(f"bridge: {len(matches)} landed exports match {args.file}; name one by its sha256:",
                          file=sys.stderr)
                    for f in matches:
                        print(f"  {f['file_sha256']}  {f['file_name']}  landed {f['landed_at']:%Y-%m-%d %H:%M:%S}",
                              file=sys.stderr)
                    return 2
                (f,) = matches
                if f["withdrawn_at"] is not None:
                    print(f"{f['file_name']} (sha256 {f['file_sha256'][:12]}) was already withdrawn at "
                          f"{f['withdrawn_at']:%Y-%m-%d %H:%M:%S}; nothing changed")
                    return 0
                action = f"withdraw-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
                lander.withdraw_payroll_file(f["file_sha256"], f["file_name"], reason=reason, requested_by=who,
                                             action_id=action)
            finally:
                con.close()
    except SyncAlreadyRunning as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return 3
    print(f"withdrawn: {f['file_name']} (sha256 {f['file_sha256'][:12]}, period {f['period_end']}) by {who}; "
          f"no build counts it from the next sync on (audit.quarantine, run_id {action})")
    return 0


def report_seconds(result: Any) -> float | None:
    """The report generation time `publish` recorded, for the demo summary."""
    for event in result.all_events:
        if event.is_step_materialization:
            metadata = event.step_materialization_data.materialization.metadata
            if "report_seconds" in metadata:
                return float(metadata["report_seconds"].value)
    return None


def cmd_prepare(args: argparse.Namespace) -> int:
    from orchestration.lib import dbt_project

    print(f"dbt manifest: {dbt_project.prepare(dbt_project.project())}")
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, got {text}")
    return value


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase one person from the raw layer, state and audit trail, then rebuild and republish
    through the normal gate with a run that extracts nothing, and rewrite the work file."""
    import uuid

    from connectors.landing import ensure_schema
    from orchestration.lib import erasure
    from orchestration.lib.warehouse import SyncAlreadyRunning, WarehousePaths, connect_work, exclusive_sync

    settings = _settings(require_sources=not args.dry_run)    # the rebuild needs the sync's configuration
    paths = WarehousePaths.for_settings(settings)
    if not paths.work.exists():
        print(f"bridge: no warehouse at {paths.work}: nothing to erase", file=sys.stderr)
        return 2
    run_id = str(uuid.uuid4())      # the rebuild's run, named in audit.erasure
    try:
        key = erasure.pseudonym_key(settings)
        with exclusive_sync(paths):
            con = connect_work(paths)
            try:
                ensure_schema(con)
                result = erasure.erase(con, key, args.employee_number, args.reason, run_id=run_id,
                                       dry_run=args.dry_run)
                if paths.pg_url and not args.dry_run:
                    erasure.erase_postgres(con, paths.pg_url, result)
                [lms] = erasure.deactivate_and_record(con, settings, result) or [None]
            finally:
                con.close()
    except (erasure.ErasureError, SyncAlreadyRunning) as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return 2
    print("\n".join(result.lines()))
    if lms is not None:
        print(lms.line(), file=sys.stderr if lms.accounts is None else sys.stdout)
    if args.dry_run:
        print("dry run: nothing was changed")
        return 0
    print("rebuilding and republishing without extracting ...", flush=True)
    _, decision, _ = run_sync(trigger="erasure", tags=erasure.REBUILD_TAGS, run_id=run_id)
    erasure.compact_work_file(paths)
    if decision.status != "published":
        print(f"bridge: the rebuild was blocked by {', '.join(decision.blocked_by)}: the raw layer is erased, "
              "the published files still hold the person until a run publishes", file=sys.stderr)
        return 1
    print(f"republished by run {run_id}; work file rewritten")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bridge", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sync", help="run one sync now with the configuration from the environment")
    p.add_argument("--trigger", default="cli", help=argparse.SUPPRESS)
    p.add_argument("--verbose", action="store_true", help="stream Dagster's and dbt's output at info level")
    p.add_argument("--only", metavar="SOURCE[,SOURCE]",
                   help="extract only these sources (hris, xapi, lms, checkins, payroll); the build uses what "
                        "the others last landed")
    p.add_argument("--full-refresh", metavar="SOURCE.STREAM", action="append", default=[],
                   help="re-read this stream from the start (repeatable); needs --reason")
    p.add_argument("--dry-run", action="store_true",
                   help="extract, build and check; publish and provision nothing (decision: dry_run)")
    p.add_argument("--reason", metavar="TEXT", help="why (recorded in audit.operator_request with who asked)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("check", help="validate the configuration and reach every source, writing nothing")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("status", help="print the last runs and the last publication")
    p.add_argument("--limit", type=_positive_int, default=10)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("audit", help="what a run checked, blocked and published")
    p.add_argument("--run-id", help="a run id (default: the latest run)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("simulate", help="run the simulated source systems on loopback")
    p.add_argument("--profile", default="pilot", help="pilot, standard or large (default: pilot)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workdir", type=Path, default=Path(".sim"), help="where ready.json and the data go (default: .sim)")
    p.add_argument("--faults", type=_rate, default=0.0, help="share of data requests answered with a fault")
    p.add_argument("--dialect", help="the simulator's dialect of every feed (see simulator/README.md)")
    p.add_argument("--no-filter", action="store_true", help="the SCIM server says filtering is unsupported")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("demo", help="start the simulator, run one sync, print the summary, stop")
    p.add_argument("--profile", default="standard", choices=("pilot", "standard", "large"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workdir", default=".sim/demo")
    p.add_argument("--warehouse", help="BRIDGE_WAREHOUSE for the demo (default: the environment's)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("report", help="regenerate the static report site from the published warehouse")
    p.add_argument("--out", help="output folder (default: <warehouse dir>/report)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("payroll", help="payroll exports: withdraw a landed one")
    payroll = p.add_subparsers(dest="payroll_command", required=True)
    p = payroll.add_parser("withdraw", help="exclude a landed payroll export from the next build on (audited)")
    p.add_argument("file", metavar="FILE", help="the export: its path, its file name, or its sha256")
    p.add_argument("--reason", required=True, help="why it is withdrawn (kept in the audit trail)")
    p.add_argument("--requested-by", help="who asked (default: your login name)")
    p.set_defaults(func=cmd_payroll_withdraw)

    p = sub.add_parser("provision", help="plan or apply the LMS's users from the published HRIS data (SCIM)")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--plan", action="store_true", help="print the plan (counts by action, changes); write nothing")
    mode.add_argument("--apply", action="store_true", help="apply the latest published state's plan")
    p.add_argument("--allow-over-threshold", action="store_true",
                   help="apply a plan a safeguard holds (after reviewing it)")
    p.add_argument("--limit", type=int, default=50, help="field changes to print (default 50)")
    p.set_defaults(func=cmd_provision)

    p = sub.add_parser("prepare", help="build the dbt manifest")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("erase", help="erase one person on request (needs BRIDGE_PSEUDONYM_KEY)")
    p.add_argument("--employee-number", required=True, help="the person's employee number")
    p.add_argument("--reason", required=True, help="who asked and why (kept in audit.erasure)")
    p.add_argument("--dry-run", action="store_true", help="print what would go; change nothing")
    p.set_defaults(func=cmd_erase)
    return parser


def main(argv: list[str] | None = None) -> int:
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
    try:
        args = build_parser().parse_args(argv)
        code = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (`bridge audit | head`): end quietly, as `cat` does. Python
        # would report the pipe again when it flushes stdout at exit: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    return code


if __name__ == "__main__":
    raise SystemExit(main())
