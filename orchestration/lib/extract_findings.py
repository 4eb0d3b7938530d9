"""What an extract reports that must block publication, as `audit.dq_result` rows.

The connectors only report (connectors/scim.py: a full pull whose absence terminations were held);
recording the blocking finding for the run is orchestration's part.
"""
from __future__ import annotations

from collections.abc import Sequence

import duckdb

from connectors.sync import ExtractResult
from orchestration.lib.quality.audit_rows import write_dq_results
from orchestration.lib.quality.outcome import CheckOutcome

ABSENCE_CHECK = "hris_absence_terminations_within_rate"


def absence_outcomes(results: Sequence[ExtractResult], max_rate: float) -> list[CheckOutcome]:
    """One outcome per full HRIS pull: failed (blocking) when its absence terminations were held."""
    return [
        CheckOutcome(
            check_name=ABSENCE_CHECK, target_table="raw.hris__users", severity="blocking",
            success=r.absent_held == 0,
            observed_value=(f"{r.absent_held} of {r.active_users} active users absent from the full pull "
                            f"(more than {max_rate:.1%}); no one terminated, the next full pull decides again"
                            if r.absent_held else f"absence terminations within {max_rate:.1%}"),
            unexpected_count=r.absent_held, engine="sql",
            description="A full SCIM pull may terminate by absence at most "
                        "BRIDGE_MAX_ABSENCE_TERMINATION_RATE of the active users.",
        )
        for r in results if r.source == "hris" and r.mode == "full"
    ]


def record_extract_findings(con: duckdb.DuckDBPyConnection, run_id: str, results: Sequence[ExtractResult],
                            max_absence_rate: float) -> list[CheckOutcome]:
    outcomes = absence_outcomes(results, max_absence_rate)
    write_dq_results(con, run_id, outcomes)
    return outcomes
