"""Write-audit-publish for the DuckDB warehouse.

The run builds and checks everything in the internal work file. Publishing writes a
fresh file next to the published one and renames it into place: readers that hold the
old file keep reading it (the rename swaps the directory entry, not the open inode) and
new readers see the new one, never a mix. A blocked run republishes the previous
reporting tables unchanged, only with the audit trail brought up to date.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib import interrupts
from orchestration.lib.warehouse import WarehousePaths

# schema -> which published file holds it
PUBLISHED_SCHEMAS = ("reporting", "restricted")


@dataclass(frozen=True)
class PublicationDecision:
    run_id: str
    status: str  # published | blocked | abandoned (interrupted) | dry_run
    blocked_by: list[str]
    row_counts: dict[str, int]


DRY_RUN_TAG = "bridge/dry_run"  # `bridge sync --dry-run`: no publication, no provisioning


def is_dry_run(tags: dict[str, str] | None) -> bool:
    return (tags or {}).get(DRY_RUN_TAG) == "true"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = ? and table_type = 'BASE TABLE' order by 1",
        [catalog, schema],
    ).fetchall()
    return [r[0] for r in rows]


def _work_catalog(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_database()").fetchone()[0]


def blocking_failures(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """Names of the blocking checks of this run that failed (GX, SQL and dbt alike)."""
    rows = con.execute(
        "select distinct check_name from audit.dq_result "
        "where run_id = ? and severity = 'blocking' and not success order by 1",
        [run_id],
    ).fetchall()
    return [r[0] for r in rows]


def _copy_schema(con, src_catalog: str, dst_catalog: str, schema: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    con.execute(f'create schema if not exists {dst_catalog}."{schema}"')
    for table in _tables(con, src_catalog, schema):
        con.execute(
            f'create table {dst_catalog}."{schema}"."{table}" as '
            f'select * from {src_catalog}."{schema}"."{table}"'
        )
        counts[f"{schema}.{table}"] = con.execute(
            f'select count(*) from {dst_catalog}."{schema}"."{table}"'
        ).fetchone()[0]
    return counts


def _build_file(
    con: duckdb.DuckDBPyConnection, target: Path, run_id: str, schemas: list[tuple[str, str]], mode: int
) -> tuple[Path, dict[str, int]]:
    """Build a complete copy of `target` beside it from (source catalog, schema) pairs."""
    tmp = target.with_name(f".{target.name}.{run_id}.tmp")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con.execute(f"attach '{tmp}' as pub_tmp")
    try:
        for catalog, schema in schemas:
            counts.update(_copy_schema(con, catalog, "pub_tmp", schema))
        con.execute("checkpoint pub_tmp")
    finally:
        con.execute("detach pub_tmp")
    os.chmod(tmp, mode)
    return tmp, counts


def write_published_files(
    con: duckdb.DuckDBPyConnection, paths: WarehousePaths, run_id: str, *, publish_new: bool
) -> dict[str, int]:
    """Replace the published files. With publish_new=False the previous reporting and
    restricted tables are carried over unchanged and only `audit` is refreshed.

    Both files are built completely before either is renamed into place, so a failure
    while building leaves the published state exactly as it was."""
    if paths.pg_url:
        # Postgres: publishing is the schema swap (see publish()); here only the audit
        # trail is appended to the warehouse's audit schema.
        from orchestration.lib import pg_warehouse

        pg_warehouse.mirror_audit(con, paths.pg_url)
        return {}
    work = _work_catalog(con)
    counts: dict[str, int] = {}
    attached_prev: list[str] = []
    built: list[tuple[Path, Path]] = []
    try:
        if publish_new:
            reporting_src, restricted_src = work, work
        else:
            reporting_src = restricted_src = None
            if paths.published.exists():
                con.execute(f"attach '{paths.published}' as prev_pub (read_only)")
                attached_prev.append("prev_pub")
                reporting_src = "prev_pub"
            if paths.restricted.exists():
                con.execute(f"attach '{paths.restricted}' as prev_restricted (read_only)")
                attached_prev.append("prev_restricted")
                restricted_src = "prev_restricted"

        main_schemas = [(work, "audit")]
        if reporting_src and "reporting" in _schemas(con, reporting_src):
            main_schemas.insert(0, (reporting_src, "reporting"))
        tmp, main_counts = _build_file(con, paths.published, run_id, main_schemas, 0o644)
        built.append((tmp, paths.published))
        counts.update(main_counts)
        if restricted_src and "restricted" in _schemas(con, restricted_src):
            tmp, restricted_counts = _build_file(
                con, paths.restricted, run_id, [(restricted_src, "restricted")], 0o600
            )
            built.append((tmp, paths.restricted))
            counts.update(restricted_counts)
    except BaseException:
        for tmp, _ in built:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        for alias in attached_prev:
            con.execute(f"detach {alias}")
    # Restricted first: a reader of the main file never sees a newer state than salaries.
    for tmp, target in reversed(built):
        os.replace(tmp, target)  # atomic on POSIX: readers see the old file or the new one
    return {k: v for k, v in counts.items() if not k.startswith("audit.")}


def refresh_published_audit(con: duckdb.DuckDBPyConnection, paths: WarehousePaths, run_id: str) -> None:
    """Bring the published `audit` schema up to date after `run_id` appended to it (provisioning
    writes its plan and results after the run published), at the cost of what was appended.

    The published main file is copied byte for byte beside itself, and only the audit rows it
    lacks travel: every row of `run_id`, the rows of any run whose row count differs (audit
    tables are append-only, as Postgres' mirror assumes), and `audit.pipeline_run` whole (one
    row per run, updated in place). `reporting` is not rebuilt and the restricted file is not
    touched: rebuilding both cost ~5 s a night on the `large` profile. The copy is renamed
    into place as a publication's file is, so readers see the old audit or the new one."""
    if paths.pg_url or not paths.published.exists():
        write_published_files(con, paths, run_id, publish_new=False)
        return
    work = _work_catalog(con)
    tmp = paths.published.with_name(f".{paths.published.name}.{run_id}.tmp")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(paths.published, tmp)
    try:
        con.execute(f"attach '{tmp}' as pub_tmp")
        try:
            con.execute("create schema if not exists pub_tmp.audit")
            published = set(_tables(con, "pub_tmp", "audit"))
            for table in _tables(con, work, "audit"):
                _refresh_audit_table(con, work, table, run_id, table in published)
            con.execute("checkpoint pub_tmp")
        finally:
            con.execute("detach pub_tmp")
        os.chmod(tmp, 0o644)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, paths.published)


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[tuple[str, str]]:
    return con.execute("select column_name, data_type from information_schema.columns where table_catalog = ? "
                       "and table_schema = 'audit' and table_name = ? order by ordinal_position",
                       [catalog, table]).fetchall()


def _refresh_audit_table(con: duckdb.DuckDBPyConnection, work: str, table: str, run_id: str, exists: bool) -> None:
    src, dst = f'"{work}".audit."{table}"', f'pub_tmp.audit."{table}"'
    columns = _columns(con, work, table)
    if (not exists or table == "pipeline_run" or "run_id" not in {c for c, _ in columns}
            or columns != _columns(con, "pub_tmp", table)):
        # new, updated in place, or its columns changed since the copy was made: whole
        con.execute(f"create or replace table {dst} as select * from {src}")
        return
    con.execute("create or replace temp table _bridge_stale_runs as "
                f"with w as (select run_id, count(*) as n from {src} group by run_id), "
                f"p as (select run_id, count(*) as n from {dst} group by run_id) "
                "select coalesce(w.run_id, p.run_id) as run_id from w full join p on p.run_id is not distinct from w.run_id "
                "where w.n is distinct from p.n or w.run_id is not distinct from ?", [run_id])
    try:
        stale = "(select 1 from _bridge_stale_runs s where s.run_id is not distinct from t.run_id)"
        con.execute(f"delete from {dst} t where exists {stale}")
        con.execute(f"insert into {dst} select * from {src} t where exists {stale}")
    finally:
        con.execute("drop table if exists _bridge_stale_runs")


def work_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    work = _work_catalog(con)
    counts = {}
    for schema in PUBLISHED_SCHEMAS:
        for table in _tables(con, work, schema):
            counts[f"{schema}.{table}"] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
    return counts


def _schemas(con, catalog: str) -> set[str]:
    rows = con.execute(
        "select distinct schema_name from information_schema.schemata where catalog_name = ?", [catalog]
    ).fetchall()
    return {r[0] for r in rows}


def record_decision(con: duckdb.DuckDBPyConnection, decision: PublicationDecision) -> None:
    con.execute(
        "insert into audit.publication (run_id, decided_at, status, blocked_by, row_counts) values (?, ?, ?, ?, ?)",
        [
            decision.run_id,
            _now(),
            decision.status,
            json.dumps(decision.blocked_by) if decision.blocked_by else None,
            json.dumps(decision.row_counts, sort_keys=True),
        ],
    )


def mark_run_finished(con: duckdb.DuckDBPyConnection, run_id: str, status: str) -> None:
    con.execute(
        "update audit.pipeline_run set finished_at = ?, status = ? where run_id = ?", [_now(), status, run_id]
    )


def run_status_for(decision_status: str) -> str:
    """audit.pipeline_run.status for a run closed with this decision."""
    return {"published": "succeeded"}.get(decision_status, decision_status)


def run_status(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    row = con.execute("select status from audit.pipeline_run where run_id = ?", [run_id]).fetchone()
    return row[0] if row else None


def decision_for(con: duckdb.DuckDBPyConnection, run_id: str) -> PublicationDecision | None:
    row = con.execute(
        "select status, blocked_by, row_counts from audit.publication where run_id = ? "
        "order by decided_at desc limit 1",
        [run_id],
    ).fetchone()
    if row is None:
        return None
    return PublicationDecision(
        run_id, row[0], json.loads(row[1]) if row[1] else [], json.loads(row[2]) if row[2] else {}
    )


def replace_decision(con: duckdb.DuckDBPyConnection, decision: PublicationDecision) -> None:
    """Record the run's one decision, replacing any earlier row of the same run (a publication
    that failed after recording `published` becomes `blocked`, never a second row)."""
    con.execute("delete from audit.publication where run_id = ?", [decision.run_id])
    record_decision(con, decision)


def publish(con: duckdb.DuckDBPyConnection, paths: WarehousePaths, run_id: str) -> PublicationDecision:
    """Publish the work build if every blocking check of the run passed; otherwise keep
    the published state and record why. Returns the decision (recorded either way).

    Ctrl-C and SIGTERM wait while the decision is recorded and the published state replaced
    (seconds at most), so the decision row always says what the published files hold."""
    failing = blocking_failures(con, run_id)
    if failing:
        return block(con, paths, run_id, failing)
    with interrupts.deferred():
        return _publish(con, paths, run_id)


def _publish(con: duckdb.DuckDBPyConnection, paths: WarehousePaths, run_id: str) -> PublicationDecision:
    if paths.pg_url:
        from orchestration.lib import pg_warehouse

        try:
            counts = pg_warehouse.swap(paths.pg_url)
        except Exception as exc:
            replace_decision(
                con, PublicationDecision(run_id, "blocked", [f"publish_failed: {type(exc).__name__}"], {})
            )
            mark_run_finished(con, run_id, "failed")
            write_published_files(con, paths, run_id, publish_new=False)
            raise
        decision = PublicationDecision(run_id, "published", [], counts)
        replace_decision(con, decision)
        mark_run_finished(con, run_id, "succeeded")
        write_published_files(con, paths, run_id, publish_new=False)
        return decision
    decision = PublicationDecision(run_id, "published", [], work_row_counts(con))
    # Record the verdict and close the run first, so the published audit copy carries both.
    replace_decision(con, decision)
    mark_run_finished(con, run_id, "succeeded")
    try:
        write_published_files(con, paths, run_id, publish_new=True)
    except Exception as exc:
        replace_decision(
            con, PublicationDecision(run_id, "blocked", [f"publish_failed: {type(exc).__name__}"], {})
        )
        mark_run_finished(con, run_id, "failed")
        raise
    return decision


def close_unpublished(
    con: duckdb.DuckDBPyConnection, paths: WarehousePaths, run_id: str, status: str, reasons: list[str],
    run_status: str,
) -> PublicationDecision:
    """A run that publishes nothing (blocked, dry_run, abandoned): its one decision, the
    published tables carried over unchanged, the audit copy brought up to date."""
    with interrupts.deferred():
        counts = work_row_counts(con) if status == "dry_run" else {}
        decision = PublicationDecision(run_id, status, reasons, counts)
        replace_decision(con, decision)
        mark_run_finished(con, run_id, run_status)
        write_published_files(con, paths, run_id, publish_new=False)
    return decision


def dry_run(con: duckdb.DuckDBPyConnection, paths: WarehousePaths, run_id: str) -> PublicationDecision:
    """Everything but publication: the decision is `dry_run`, naming the blocking checks that
    would have blocked a real run."""
    return close_unpublished(con, paths, run_id, "dry_run", blocking_failures(con, run_id), "dry_run")


def block(
    con: duckdb.DuckDBPyConnection, paths: WarehousePaths, run_id: str, blocked_by: list[str]
) -> PublicationDecision:
    return close_unpublished(con, paths, run_id, "blocked", blocked_by, "blocked")


def report_source(paths: WarehousePaths) -> Path:
    """The DuckDB file the report site is built from: the published file, or on Postgres a
    snapshot of what Postgres published (`reporting` and `audit`, never `restricted`)."""
    if not paths.pg_url:
        return paths.published
    from orchestration.lib import pg_warehouse

    return pg_warehouse.snapshot_published(paths, paths.report.parent / ".report_source.duckdb")
