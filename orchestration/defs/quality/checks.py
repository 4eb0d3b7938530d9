"""Great Expectations suites and cross-system reconciliation as Dagster asset checks.

One check per property, declared at import from the suites' specs (no database touched),
with `blocking=True` for blocking severity so Dagster holds back everything downstream,
`publish` included. Every suite runs in one step after dbt has built into its working
schemas, raw feeds included: dbt building on a bad feed publishes nothing (`publish`
holds on any blocking failure of the run), and the step pays Great Expectations' fixed
costs once, its import (~5 s of one core) overlapping the dbt build, not the extract.
Every outcome is written to audit.dq_result and the run's Data Docs; the dbt step's results
reach this step the same way, as its rows in audit.dq_result.
"""

from collections.abc import Iterator

import dagster as dg

from orchestration.defs.resources import BridgeResource
from orchestration.lib.quality import reconciliation, suites
from orchestration.lib.quality.audit_rows import write_dq_results
from orchestration.lib.quality.data_docs import build_data_docs
from orchestration.lib.quality.outcome import CheckOutcome, CheckSpec


def asset_key_for(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("."))


def _check_spec(spec: CheckSpec) -> dg.AssetCheckSpec:
    # A blocking check on a raw feed cannot be blocking to Dagster: that would make dbt wait
    # for this step, which runs after dbt. Its failure holds `publish` all the same, which
    # refuses to run on any blocking failure recorded in audit.dq_result for the run.
    on_raw = suites.on_raw(spec.target_table)
    return dg.AssetCheckSpec(
        name=spec.check_name,
        asset=asset_key_for(spec.target_table),
        blocking=spec.severity == "blocking" and not on_raw,
        description=f"[{spec.severity}{': holds publish' if on_raw and spec.severity == 'blocking' else ''}] "
        f"{spec.description}",
    )


def _result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=outcome.check_name,
        asset_key=asset_key_for(outcome.target_table),
        passed=bool(outcome.success),
        severity=dg.AssetCheckSeverity.ERROR if outcome.severity == "blocking" else dg.AssetCheckSeverity.WARN,
        description=outcome.description,
        metadata={
            "severity": outcome.severity,
            "observed_value": str(outcome.observed_value),
            "unexpected_count": outcome.unexpected_count,
            "sample_keys": ", ".join(outcome.sample_keys[:20]),
            "engine": outcome.engine,
        },
    )


def _quality_checks(raw_suites: list[str], warehouse_suites: list[str]) -> dg.AssetChecksDefinition:
    names = raw_suites + warehouse_suites
    specs = [s for name in names for s in suites.check_specs(name)] + reconciliation.reconciliation_specs()

    @dg.multi_asset_check(name="quality_checks", specs=[_check_spec(s) for s in specs], can_subset=False)
    def quality_checks(
        context: dg.AssetCheckExecutionContext, bridge: BridgeResource
    ) -> Iterator[dg.AssetCheckResult]:
        settings = bridge.settings()
        thresholds = reconciliation.QualityThresholds.from_settings(settings)
        batch_rows = settings.get("BRIDGE_CHECK_BATCH_ROWS")  # bounds the checks' memory on DuckDB
        paths = bridge.paths()
        if paths.pg_url:
            # the same suites, run as SQL in Postgres on what dbt built in its build schemas
            from orchestration.lib.quality import postgres_checks

            built = postgres_checks.run_suites(paths.pg_url, warehouse_suites)
            recon = postgres_checks.run_reconciliation(paths.pg_url, thresholds)
        with bridge.work() as con:
            if not paths.pg_url:
                built = suites.run_suites(con, warehouse_suites, batch_rows=batch_rows)
                recon = reconciliation.run_reconciliation(con, thresholds)
            # raw versions live in the work file on either target
            runs = [suites.run_suite_detailed(con, n, batch_rows=batch_rows) for n in raw_suites] + built
            outcomes = [o for r in runs for o in r.outcomes] + recon
            write_dq_results(con, context.run.run_id, outcomes)
            earlier = _recorded_outcomes(con, context.run.run_id, exclude={o.check_name for o in outcomes})
        # Data Docs show every check of the run, dbt tests included.
        docs = build_data_docs(paths.data_docs, context.run.run_id, runs, [*recon, *earlier])
        context.log.info(f"Great Expectations Data Docs: {docs}")
        for outcome in outcomes:
            yield _result(outcome)

    return quality_checks


def _recorded_outcomes(con, run_id: str, exclude: set[str]) -> list[CheckOutcome]:
    import json

    rows = con.execute(
        "select check_name, target_table, severity, success, observed_value, unexpected_count, sample_keys, "
        "engine from audit.dq_result where run_id = ?",
        [run_id],
    ).fetchall()
    return [
        CheckOutcome(name, table, severity, bool(success), observed, int(count or 0),
                     json.loads(keys) if keys else [], engine, "")
        for name, table, severity, success, observed, count, keys, engine in rows
        if name not in exclude
    ]


def build_checks(known_assets: set[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Checks for every suite whose target is an asset of this code location."""
    names = [n for n, s in suites.SUITES.items() if asset_key_for(s.target_table) in known_assets]
    raw = [n for n in names if suites.on_raw(suites.SUITES[n].target_table)]
    return [_quality_checks(raw, [n for n in names if n not in raw])]
