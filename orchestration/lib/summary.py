"""What a run did, read back from the audit trail: for the CLI, the demo and auditors."""

from __future__ import annotations

import json
from typing import Any

import duckdb


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("select run_id from audit.pipeline_run order by started_at desc limit 1").fetchone()
    return row[0] if row else None


def run_report(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """Everything an auditor asks of one run, keys and counts only."""
    run = _rows(con, "select * from audit.pipeline_run where run_id = ?", [run_id])
    extracts = _rows(
        con,
        "select source, stream, mode, cursor_from, cursor_to, records, pages, bytes, checksum, "
        "started_at, finished_at from audit.source_extract where run_id = ? order by source, stream",
        [run_id],
    )
    checks = _rows(
        con,
        "select check_name, target_table, severity, success, observed_value, unexpected_count, "
        "sample_keys, engine from audit.dq_result where run_id = ? "
        "order by success nulls last, severity, check_name",
        [run_id],
    )
    for c in checks:
        c["sample_keys"] = json.loads(c["sample_keys"]) if c["sample_keys"] else []
    publication = _rows(
        con,
        "select status, decided_at, blocked_by, row_counts from audit.publication where run_id = ? "
        "order by decided_at desc limit 1",
        [run_id],
    )
    for p in publication:
        p["blocked_by"] = json.loads(p["blocked_by"]) if p["blocked_by"] else []
        p["row_counts"] = json.loads(p["row_counts"]) if p["row_counts"] else {}
    quarantine = _rows(
        con,
        "select source, stream, count(*) as records, min(record_ref) as example_ref, min(reason) as example_reason "
        "from audit.quarantine where run_id = ? group by 1, 2 order by 1, 2",
        [run_id],
    )
    return {
        "run": run[0] if run else {"run_id": run_id},
        "extracts": extracts,
        "checks": checks,
        "publication": publication[0] if publication else None,
        "quarantine": quarantine,
        "provisioning": provisioning_report(con, run_id),
    }


def provisioning_report(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any] | None:
    """What the run planned for the LMS (users per action) and what came of it (per action and status)."""
    if not _has_table(con, "audit", "provisioning_change"):
        return None
    planned = _rows(
        con,
        "select action, count(distinct coalesce(employee_number, '') || '|' || coalesce(target_id, '') "
        "|| '|' || case when action = 'skip' and employee_number is null then field else '' end) as users, "
        "count(*) as fields from audit.provisioning_change where run_id = ? group by 1 order by 1",
        [run_id],
    )
    if not planned:
        return None
    results = _rows(
        con,
        "select action, status, count(*) as n from audit.provisioning_result where run_id = ? "
        "group by 1, 2 order by 1, 2",
        [run_id],
    ) if _has_table(con, "audit", "provisioning_result") else []
    failures = _rows(
        con,
        "select employee_number, target_id, action, http_status, error from audit.provisioning_result "
        "where run_id = ? and status = 'failed' order by employee_number limit 10",
        [run_id],
    ) if results else []
    return {"planned": planned, "results": results, "failures": failures}


def reconciliation_summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """People matched per source, unmapped titles, identity exceptions, headcount gaps."""
    out: dict[str, Any] = {}
    if _has_table(con, "intermediate", "int_identity__links"):
        out["identity"] = _rows(
            con,
            "select source_system, count(*) as records, count(employee_number) as matched, "
            "count(*) filter (where reason = 'no_match') as no_match, "
            "count(*) filter (where reason = 'ambiguous') as ambiguous "
            "from intermediate.int_identity__links group by 1 order by 1",
        )
    if _has_table(con, "reporting", "job_title_alias"):
        out["unmapped_titles"] = _rows(
            con,
            "select source_system, source_title, occurrences from reporting.job_title_alias "
            "where match_method = 'unmapped' order by occurrences desc, source_title limit 20",
        )
        out["title_methods"] = _rows(
            con,
            "select match_method, count(*) as aliases, sum(occurrences) as occurrences "
            "from reporting.job_title_alias group by 1 order by 1",
        )
    if _has_table(con, "reporting", "rpt_headcount_reconciliation"):
        out["headcount_differences"] = _rows(
            con,
            "select cost_center, hris_active, payroll_active, hris_only, payroll_only "
            "from reporting.rpt_headcount_reconciliation where hris_only > 0 or payroll_only > 0 "
            "order by abs(hris_active - payroll_active) desc, cost_center limit 20",
        )
    if _has_table(con, "reporting", "identity_exception"):
        out["identity_exceptions"] = _rows(
            con,
            "select source_system, reason, count(*) as n from reporting.identity_exception group by 1, 2 order by 1, 2",
        )
    return out


def format_run_report(report: dict[str, Any], *, published_file: str | None = None) -> str:
    lines: list[str] = []
    run = report["run"]
    lines.append(
        f"run {run.get('run_id')}  status={run.get('status')}  trigger={run.get('trigger')}  "
        f"code={str(run.get('code_version'))[:12]}"
    )
    lines.append(f"  started {run.get('started_at')}  finished {run.get('finished_at')}")
    lines.append("")
    lines.append("extracted:")
    for e in report["extracts"]:
        lines.append(
            f"  {e['source']:>9}.{e['stream']:<22} {e['mode']:<11} {e['records']:>9} records "
            f"{e['pages']:>6} pages  cursor {e['cursor_from'] or '-'} -> {e['cursor_to'] or '-'}"
        )
    for q in report["quarantine"]:
        lines.append(
            f"  quarantined {q['records']} from {q['source']}.{q['stream']} "
            f"(e.g. {q['example_ref']}: {q['example_reason']})"
        )
    checks = report["checks"]
    passed = sum(1 for c in checks if c["success"])
    failed_blocking = [c for c in checks if c["success"] is False and c["severity"] == "blocking"]
    failed_warn = [c for c in checks if c["success"] is False and c["severity"] == "warn"]
    lines.append("")
    lines.append(
        f"checked: {len(checks)} checks, {passed} passed, {len(failed_blocking)} blocking failed, "
        f"{len(failed_warn)} warnings"
    )
    by_engine: dict[str, int] = {}
    for c in checks:
        by_engine[c["engine"]] = by_engine.get(c["engine"], 0) + 1
    lines.append("  by engine: " + ", ".join(f"{k} {v}" for k, v in sorted(by_engine.items())))
    for c in failed_blocking + failed_warn:
        keys = ", ".join(c["sample_keys"][:5])
        lines.append(
            f"  FAIL [{c['severity']}] {c['check_name']} on {c['target_table']}: "
            f"observed {c['observed_value']}, {c['unexpected_count']} unexpected" + (f" (e.g. {keys})" if keys else "")
        )
    prov = report.get("provisioning")
    if prov:
        lines.append("")
        lines.append("provisioning the LMS: planned " + ", ".join(
            f"{p['action']} {p['users']}" for p in prov["planned"]) + " (audit.provisioning_change)")
        if prov["results"]:
            lines.append("  results: " + ", ".join(f"{r['action']} {r['status']} {r['n']}" for r in prov["results"]))
        else:
            lines.append("  nothing applied (plan only)")
        for f in prov["failures"]:
            lines.append(f"  failed {f['action']} {f['employee_number']} (LMS id {f['target_id'] or '-'}): "
                         f"{f['error']}")
    pub = report["publication"]
    lines.append("")
    if pub is None:
        lines.append("publication: no decision recorded (run still in progress?)")
    elif pub["status"] == "published":
        lines.append(f"published at {pub['decided_at']}" + (f" to {published_file}" if published_file else ""))
        for table, n in sorted(pub["row_counts"].items()):
            lines.append(f"  {table:<45} {n:>9} rows")
    else:
        lines.append(f"BLOCKED at {pub['decided_at']}: the published tables were left as they were")
        for name in pub["blocked_by"]:
            lines.append(f"  blocked by {name}")
    return "\n".join(lines)


def format_reconciliation(summary: dict[str, Any]) -> str:
    lines = ["reconciliation:"]
    for row in summary.get("identity", []):
        rate = row["matched"] / row["records"] if row["records"] else 1.0
        lines.append(
            f"  {row['source_system']:>9}: {row['matched']}/{row['records']} people matched ({rate:.1%}), "
            f"{row['no_match']} no_match, {row['ambiguous']} ambiguous"
        )
    methods = summary.get("title_methods", [])
    if methods:
        lines.append(
            "  job titles: "
            + ", ".join(f"{m['match_method']} {m['aliases']} aliases/{m['occurrences']} uses" for m in methods)
        )
    for t in summary.get("unmapped_titles", [])[:10]:
        lines.append(f"    unmapped ({t['source_system']}): {t['source_title']!r} x{t['occurrences']}")
    diffs = summary.get("headcount_differences", [])
    lines.append(f"  headcount: {len(diffs)} cost centers differ between HRIS and payroll")
    for d in diffs[:10]:
        lines.append(
            f"    {d['cost_center']}: hris {d['hris_active']} vs payroll {d['payroll_active']} "
            f"({d['hris_only']} hris-only, {d['payroll_only']} payroll-only)"
        )
    return "\n".join(lines)
