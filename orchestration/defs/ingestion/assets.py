"""One asset per raw stream, one extraction step per source.

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
from orchestration.lib import erasure, pg_warehouse, run_log, sync_request
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


def _extract_asset(source: str) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            raw_key(source, stream),
            group_name="raw",
            kinds={"duckdb", "python"},
            description=f"{DESCRIPTIONS[source]} Append-only version log.",
        )
        for stream in STREAMS[source]
    ]

    @dg.multi_asset(
        name=f"extract_{source}",
        specs=specs,
        retry_policy=dg.RetryPolicy(max_retries=1, delay=5),
    )
    def _extract(context: dg.AssetExecutionContext, bridge: BridgeResource) -> Iterator[dg.MaterializeResult]:
        log = logging.getLogger(f"bridge.connectors.{source}")
        if not sync_request.extracts(source, context.run.tags):
            # `bridge sync --only`: the build reads what this source last landed
            context.log.info(f"{source} not extracted by this run (--only)")
            for stream in STREAMS[source]:
                yield dg.MaterializeResult(asset_key=raw_key(source, stream),
                                           metadata={"extracted": False, "records": 0})
            return
        try:
            results = _extract_and_land(context, bridge, source, log)
        except AuthError as exc:
            # refused credentials stay refused: fail now, not again after the retry delay
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        except Exception:
            raise
        except BaseException as exc:
            # Ctrl-C or SIGTERM (Dagster raises them as a BaseException): the operator asked the
            # run to stop, so the retry policy must not start the step again
            raise dg.Failure(description="interrupted", allow_retries=False) from exc
        by_stream = {r.stream: r for r in results}
        for stream in STREAMS[source]:
            r = by_stream.get(stream)
            metadata = (
                {
                    "mode": r.mode,
                    "records": r.records,
                    "pages": r.pages,
                    "bytes": r.bytes,
                    "cursor_to": str(r.cursor_to),
                }
                if r
                else {"records": 0}
            )
            yield dg.MaterializeResult(asset_key=raw_key(source, stream), metadata=metadata)

    return _extract


def _extract_and_land(context: dg.AssetExecutionContext, bridge: BridgeResource, source: str,
                      log: logging.Logger) -> list:
    settings = bridge.settings()
    with bridge.work() as con:
        run_log.ensure_started(con, context.run.run_id, trigger_of(context))
        results = []
        # an erasure's rebuild republishes what is landed: no extraction, no retention
        if not erasure.REBUILD_TAGS.items() <= context.run.tags.items():
            config = bridge_sources(settings).get(source)
            results = sync.extract_source(
                con, source, config, context.run.run_id, settings.as_of_or_today(), log,
                pseudonym_key=settings.extra.get(KEY_VARIABLE),
            )
            if source == "hris":
                for finding in record_extract_findings(
                    con, context.run.run_id, results, config.max_absence_termination_rate
                ):
                    if not finding.success:
                        context.log.warning(f"{finding.check_name}: {finding.observed_value}")
                # retention: termination dates come from the HRIS just landed
                done = erasure.apply_retention(con, settings, context.run.run_id, settings.as_of_or_today(),
                                               pg_url=bridge.paths().pg_url)
                if any(done.values()):
                    context.log.info(f"retention: {done['people_erased']} people erased, "
                                     f"{done['payroll_rows_removed']} payroll rows removed, "
                                     f"{done['lms_accounts']} LMS accounts deactivated (or, in plan mode, to be)")
        paths = bridge.paths()
        if paths.pg_url:
            copied = pg_warehouse.mirror_raw(con, paths.pg_url)
            context.log.info(f"copied {sum(copied.values())} new raw versions to PostgreSQL")
    return results


extract_assets = [_extract_asset(source) for source in SOURCES]
