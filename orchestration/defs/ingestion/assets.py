"""One asset per raw stream, one extraction step for every source (the feeds run side by side).

The connectors do the work (protocols, paging, retries, landing with the cursor in the
same transaction); this only wires them to the environment and to Dagster.
"""


import logging
from collections.abc import Iterator

import dagster as dg

from connectors import sync
from connectors.errors import AuthError
from connectors.suppression import KEY_VARIABLE
from orchestration.defs.resources import BridgeResource, trigger_of
from orchestration.lib import erasure, parallel_extract, pg_warehouse, run_log, sync_request
from orchestration.lib.extract_findings import record_extract_findings
from orchestration.lib.source_config import SOURCES, STREAMS, bridge_sources

DESCRIPTIONS = {
    "hris": "HRIS people over SCIM 2.0 (/Users), incremental by meta.lastModified, full pull weekly.",
    "xapi": "Learning statements from the xAPI LRS, windowed on `stored` up to Consistent-Through.",
    "lms": "LMS REST resources (OAuth2 client credentials), incremental by updated_since.",
    "checkins": "Strategy-execution objectives and weekly check-ins (bearer REST).",
    "payroll": "Payroll CSV exports from PAYROLL_INBOX, each file loaded once by SHA-256.",
}


def raw_key(source: str, stream: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", f"{source}__{stream}"])


def _metadata(result) -> dict:
    if result is None:
        return {"records": 0}
    return {"mode": result.mode, "records": result.records, "pages": result.pages, "bytes": result.bytes,
            "cursor_to": str(result.cursor_to)}


@dg.multi_asset(
    name="extract_feeds",
    specs=[
        dg.AssetSpec(
            raw_key(source, stream),
            group_name="raw",
            kinds={"duckdb", "python"},
            description=f"{DESCRIPTIONS[source]} Append-only version log.",
            skippable=True,
        )
        for source in SOURCES
        for stream in STREAMS[source]
    ],
    can_subset=True,
    retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
)
def extract_feeds(context: dg.AssetExecutionContext, bridge: BridgeResource) -> Iterator[dg.MaterializeResult]:
    """The feeds side by side (orchestration/lib/parallel_extract.py: threads of this one step,
    within the cores and the work file's memory share). A selection of raw assets extracts
    the sources they belong to; `bridge sync --only` leaves the others' streams as landed."""
    selected = context.selected_asset_keys
    sources = [s for s in SOURCES if any(raw_key(s, stream) in selected for stream in STREAMS[s])]
    skipped = [s for s in sources if not sync_request.extracts(s, context.run.tags)]
    for source in skipped:
        # `bridge sync --only`: the build reads what this source last landed
        context.log.info(f"{source} not extracted by this run (--only)")
        for stream in STREAMS[source]:
            if raw_key(source, stream) in selected:
                yield dg.MaterializeResult(asset_key=raw_key(source, stream),
                                           metadata={"extracted": False, "records": 0})
    try:
        outcomes = _extract_and_land(context, bridge, [s for s in sources if s not in skipped])
    except Exception:
        raise
    except BaseException as exc:
        # Ctrl-C or SIGTERM (Dagster raises them as a BaseException): the operator asked the
        # run to stop, so the retry policy must not start the step again
        raise dg.Failure(description="interrupted", allow_retries=False) from exc
    for outcome in outcomes.values():
        if outcome.results is None:
            continue
        context.log.info(f"{outcome.source}: extracted in {outcome.seconds:.1f} s")
        by_stream = {r.stream: r for r in outcome.results}
        for stream in STREAMS[outcome.source]:
            if raw_key(outcome.source, stream) in selected:
                yield dg.MaterializeResult(asset_key=raw_key(outcome.source, stream),
                                           metadata=_metadata(by_stream.get(stream)))
    failed = [o for o in outcomes.values() if o.error is not None]
    for outcome in failed:
        context.log.error(f"{outcome.source} failed after {outcome.seconds:.1f} s: {outcome.error}")
    if failed:
        # the step fails with the first feed's own error (it names the source, stream and what
        # happened) once the others' records are landed and materialised; refused credentials
        # stay refused, so they are not retried
        first = failed[0].error
        names = ", ".join(o.source for o in failed)
        raise dg.Failure(description=f"{names} failed: {first}",
                         allow_retries=not any(isinstance(o.error, AuthError) for o in failed)) from first


def _extract_and_land(context: dg.AssetExecutionContext, bridge: BridgeResource,
                      sources: list[str]) -> dict[str, parallel_extract.FeedOutcome]:
    settings = bridge.settings()
    as_of = settings.as_of_or_today()
    run_id = context.run.run_id
    configs = bridge_sources(settings)
    outcomes: dict[str, parallel_extract.FeedOutcome] = {}
    with bridge.work() as con:
        run_log.ensure_started(con, run_id, trigger_of(context))
        # an erasure's rebuild republishes what is landed: no extraction, no retention
        if not erasure.REBUILD_TAGS.items() <= context.run.tags.items():
            def feed(source: str) -> parallel_extract.Extract:
                log = logging.getLogger(f"bridge.connectors.{source}")
                return lambda cursor: sync.extract_source(cursor, source, configs.get(source), run_id, as_of, log,
                                                          pseudonym_key=settings.extra.get(KEY_VARIABLE))

            outcomes = parallel_extract.extract_feeds(con, {source: feed(source) for source in sources})
            hris = outcomes.get("hris")
            if hris is not None and hris.results is not None:
                for finding in record_extract_findings(
                    con, run_id, hris.results, configs.get("hris").max_absence_termination_rate
                ):
                    if not finding.success:
                        context.log.warning(f"{finding.check_name}: {finding.observed_value}")
                # retention: termination dates come from the HRIS just landed; after every feed,
                # so it also reaches what the others landed tonight
                done = erasure.apply_retention(con, settings, run_id, as_of, pg_url=bridge.paths().pg_url)
                if any(done.values()):
                    context.log.info(f"retention: {done['people_erased']} people erased, "
                                     f"{done['payroll_rows_removed']} payroll rows removed, "
                                     f"{done['lms_accounts']} LMS accounts deactivated (or, in plan mode, to be)")
        else:
            outcomes = {source: parallel_extract.FeedOutcome(source, [], None, 0.0) for source in sources}
        paths = bridge.paths()
        if paths.pg_url:
            # once, after every feed: what the failed ones committed travels too
            copied = pg_warehouse.mirror_raw(con, paths.pg_url)
            context.log.info(f"copied {sum(copied.values())} new raw versions to PostgreSQL")
    return outcomes


extract_assets = [extract_feeds]
