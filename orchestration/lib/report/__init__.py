"""The static report site written beside each publication (issue 7).

`generate_report(published_db, out_dir)` reads only the `reporting` and `audit`
schemas of the published DuckDB file, read-only, and writes self-contained HTML pages
(index, strategy, capability, people, audit) with inline SVG charts and no network use.
"""

from orchestration.lib.report.site import ReportResult, generate_report

__all__ = ["ReportResult", "generate_report"]
