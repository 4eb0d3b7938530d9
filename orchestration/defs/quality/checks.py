"""Great Expectations suites and cross-system reconciliation as Dagster asset checks.

One check per property, declared at import from the suites' specs (no database touched),
with `blocking=True` for blocking severity so Dagster holds back everything downstream,
`publish` included. Every outcome is also written to audit.dq_result.
"""


from collections.abc import Iterator

import dagster as dg

from orchestration.defs.resources import BridgeResource
from orchestration.lib.quality import reconciliation, suites
from orchestration.lib.quality.audit_rows import write_dq_results
from orchestration.lib.quality.outcome import CheckOutcome, CheckSpec


def asset_key_for(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("."))


def _check_spec(spec: CheckSpec) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=spec.check_name,
        asset=asset_key_for(spec.target_table),
        blocking=spec.severity == "blocking",
        description=f"[{spec.severity}] {spec.description}",
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


def _suite_check(suite_name: str) -> dg.AssetChecksDefinition:
    specs = suites.check_specs(suite_name)

    @dg.multi_asset_check(
        name=f"gx__{suite_name.replace('.', '__')}",
        specs=[_check_spec(s) for s in specs],
        can_subset=False,
    )
    def _run(context: dg.AssetCheckExecutionContext, bridge: BridgeResource) -> Iterator[dg.AssetCheckResult]:
        with bridge.work() as con:
            outcomes = suites.run_suite(con, suite_name)
            write_dq_results(con, context.run_id, outcomes)
        for outcome in outcomes:
            yield _result(outcome)

    return _run


def _reconciliation_check() -> dg.AssetChecksDefinition:
    specs = reconciliation.reconciliation_specs()

    @dg.multi_asset_check(
        name="reconciliation", specs=[_check_spec(s) for s in specs], can_subset=False
    )
    def _run(context: dg.AssetCheckExecutionContext, bridge: BridgeResource) -> Iterator[dg.AssetCheckResult]:
        thresholds = reconciliation.QualityThresholds.from_env(bridge.settings().extra)
        with bridge.work() as con:
            outcomes = reconciliation.run_reconciliation(con, thresholds)
            write_dq_results(con, context.run_id, outcomes)
        for outcome in outcomes:
            yield _result(outcome)

    return _run


def build_checks(known_assets: set[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Checks for every suite whose target is an asset of this code location."""
    checks = [
        _suite_check(name)
        for name, suite in suites.SUITES.items()
        if asset_key_for(suite.target_table) in known_assets
    ]
    checks.append(_reconciliation_check())
    return checks
