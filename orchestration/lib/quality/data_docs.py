"""Data Docs for one run: ``<out_dir>/<run_id>/index.html`` plus one GX page per validated frame.

The index is our own self-contained page built from the outcomes (every suite and
reconciliation check, severity, samples). The per-frame pages are rendered by GX's
own renderer (``ValidationResultsPageRenderer`` + ``DefaultJinjaPageView``) from the
validation results, without a GX project or site store.

GX's templates load Bootstrap, jQuery, Vega and Font Awesome from public CDNs
(unpkg, jsdelivr, cdnjs, stackpath, code.jquery.com). The bridge makes no network
calls and a reader's browser should not either, so those ``<script src>`` and
``<link href>`` tags are removed: the pages render unstyled but complete (GX's own
inline CSS stays).
"""

from __future__ import annotations

import copy
import functools
import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.lib.quality.outcome import CheckOutcome, safe_key
from orchestration.lib.quality.suites import SuiteRun

_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.IGNORECASE)
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^\"']*[\"'][^>]*>", re.IGNORECASE)
_REMOTE_IMG = re.compile(r"(<img\b[^>]*\bsrc=)[\"']https?://[^\"']*[\"']", re.IGNORECASE)
_REMOTE_CSS_URL = re.compile(r"url\(\s*[\"']?https?://[^)]*\)", re.IGNORECASE)
# Value lists GX puts in a page; scrubbed where values could be pay data.
_VALUE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "unexpected_list",
               "partial_unexpected_index_list", "unexpected_index_list", "observed_value")


def strip_remote_assets(page: str) -> str:
    """Drop tags that would make a browser fetch CSS/JS from the internet."""
    page = _REMOTE_LINK.sub("", _REMOTE_SCRIPT.sub("", page))
    return _REMOTE_CSS_URL.sub("none", _REMOTE_IMG.sub(r'\1""', page))


def build_data_docs(out_dir: Path | str, run_id: str, suite_runs: Sequence[SuiteRun],
                    extra_outcomes: Sequence[CheckOutcome] = (), *,
                    generated_at: datetime | None = None) -> Path:
    """Write the run's Data Docs and return the path of its ``index.html``."""
    run_dir = Path(out_dir) / _safe_name(run_id)
    pages_dir = run_dir / "validations"
    pages_dir.mkdir(parents=True, exist_ok=True)
    links: dict[str, list[str]] = {}
    for run in suite_runs:
        for index, result in enumerate(run.gx_results):
            name = f"{_safe_name(run.suite_name)}__frame{index}.html"
            page = _render_gx_page(_scrubbed(result, restricted=run.target_table.startswith("restricted.")))
            (pages_dir / name).write_text(page, encoding="utf-8")
            links.setdefault(run.suite_name, []).append(f"validations/{name}")
    outcomes = [o for run in suite_runs for o in run.outcomes] + list(extra_outcomes)
    index = run_dir / "index.html"
    index.write_text(_index_page(run_id, suite_runs, outcomes, links, generated_at or datetime.now(UTC)),
                     encoding="utf-8")
    return index


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _scrubbed(result: Any, *, restricted: bool) -> Any:
    """A copy safe to show: no values at all for restricted tables, no e-mail anywhere."""
    result = copy.deepcopy(result)
    for r in result.results:
        data = r.result or {}
        for key, value in list(data.items()):
            data[key] = _plain(value)
        if restricted:
            for key in _VALUE_KEYS:
                data.pop(key, None)
        for key in ("partial_unexpected_list", "unexpected_list"):
            if key in data:
                data[key] = [safe_key(v) if isinstance(v, str) else v for v in data[key]]
        if "partial_unexpected_counts" in data:
            data["partial_unexpected_counts"] = [
                {**c, "value": safe_key(c["value"]) if isinstance(c.get("value"), str) else c.get("value")}
                for c in data["partial_unexpected_counts"]
            ]
    return result


def _plain(value: Any) -> Any:
    """numpy scalars become Python ones: GX's renderer cannot format np.float64."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def _render_gx_page(result: Any) -> str:
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    document = ValidationResultsPageRenderer().render(result)
    return strip_remote_assets(_page_view().render(document))


@functools.cache
def _page_view() -> Any:
    """One view for every page: each view has its own Jinja environment, and a fresh one
    compiles GX's templates again (about 0.3 s a page)."""
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView()


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.fail-blocking{background:#fde2e2}.fail-warn{background:#fff4d6}
.verdict{font-size:1.2rem;font-weight:600}code{font-size:.85rem}
"""


def _index_page(run_id: str, suite_runs: Sequence[SuiteRun], outcomes: Sequence[CheckOutcome],
                links: dict[str, list[str]], generated_at: datetime) -> str:
    e = html.escape
    blocking = [o for o in outcomes if o.severity == "blocking" and not o.success]
    warns = [o for o in outcomes if o.severity == "warn" and not o.success]
    verdict = (f"{len(blocking)} blocking check(s) failed: publication is withheld" if blocking
               else "every blocking check passed")
    rows = []
    for o in outcomes:
        css = "" if o.success else f"fail-{o.severity}"
        rows.append(
            f"<tr class='{css}'><td><code>{e(o.check_name)}</code></td><td>{e(o.target_table)}</td>"
            f"<td>{e(o.severity)}</td><td>{'pass' if o.success else 'FAIL'}</td>"
            f"<td>{e('' if o.observed_value is None else str(o.observed_value))}</td>"
            f"<td>{o.unexpected_count}</td><td>{e(', '.join(safe_key(k) for k in o.sample_keys))}</td>"
            f"<td>{e(o.engine)}</td><td>{e(o.description)}</td></tr>")
    suite_items = "".join(
        f"<li>{e(run.suite_name)} ({e(run.target_table)}): "
        + (", ".join(f"<a href='{e(href)}'>frame {i}</a>" for i, href in enumerate(links.get(run.suite_name, [])))
           or "no Great Expectations page (table missing or query failed)")
        + "</li>"
        for run in suite_runs)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Data quality, run {e(run_id)}</title><style>{_CSS}</style></head>
<body>
<h1>Data quality for run <code>{e(run_id)}</code></h1>
<p>Generated {e(generated_at.astimezone(UTC).isoformat(timespec='seconds'))}.
{len(outcomes)} checks, {len(blocking)} blocking failure(s), {len(warns)} warning(s).</p>
<p class="verdict">{e(verdict)}</p>
<h2>Checks</h2>
<table><thead><tr><th>check</th><th>table</th><th>severity</th><th>result</th><th>observed</th>
<th>unexpected</th><th>sample keys</th><th>engine</th><th>description</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<h2>Great Expectations validation pages</h2>
<ul>{suite_items}</ul>
</body></html>
"""
