"""Data-quality checks: GX suites over the warehouse's tables and cross-system SQL reconciliation.

Pure library code; Dagster wiring lives in ``orchestration/defs/quality``.
Importing this package does not import Great Expectations (that costs ~5 s here):
specs are plain data so Dagster can declare asset checks at import time.
"""

from orchestration.lib.quality.outcome import CheckOutcome, CheckSpec

__all__ = ["CheckOutcome", "CheckSpec"]
