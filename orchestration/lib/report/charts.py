"""Inline SVG charts and colour scales; no scripts, fonts or files outside the page.

Every text that reaches the SVG is escaped here, because the result is marked safe
for the templates.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

RISK_COLOURS = {
    "on_track": "#1f8a4c",
    "at_risk": "#c98a00",
    "off_track": "#c4302b",
    "done": "#2f6db5",
    "no_data": "#8a94a6",
}
STATUS_COLOURS = {"published": "#1f8a4c", "blocked": "#c4302b"}


def heat_colour(value: float, maximum: float) -> str:
    """White to deep red, by value / maximum (0 stays white so empty cells read as empty)."""
    if maximum <= 0 or value <= 0:
        return "#f7f8fa"
    t = min(value / maximum, 1.0)
    low, high = (253, 236, 221), (196, 48, 43)
    r, g, b = (round(lo + (hi - lo) * t) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def text_colour_on(value: float, maximum: float) -> str:
    return "#ffffff" if maximum > 0 and value / maximum > 0.55 else "#1d2330"


def hbar_chart(
    items: Sequence[tuple[str, float]], *, unit: str = "", colour: str = "#2f6db5", testid: str = "bar"
) -> Markup:
    """A horizontal bar chart: one labelled bar per (label, value)."""
    if not items:
        return Markup('<p class="empty">No data.</p>')
    row_h, label_w, bar_w, pad = 26, 170, 330, 70
    height = row_h * len(items) + 8
    top = max(v for _, v in items) or 1
    parts = [
        (f'<svg class="chart" role="img" viewBox="0 0 {label_w + bar_w + pad} {height}" '
        f'width="{label_w + bar_w + pad}" height="{height}" xmlns="http://www.w3.org/2000/svg">')
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_h
        w = max(bar_w * (value / top), 1 if value else 0)
        shown = f"{value:,.1f}" if isinstance(value, float) and not float(value).is_integer() else f"{value:,.0f}"
        parts.append(
            f'<g data-testid="{escape(testid)}" data-label="{escape(label)}" data-value="{escape(value)}">'
            f"<title>{escape(label)}: {shown}{escape(unit)}</title>"
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" class="lbl">{escape(_clip(label, 24))}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" rx="3" fill="{colour}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" class="val">{shown}{escape(unit)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_bar(counts: dict[str, int], colours: dict[str, str], *, width: int = 640) -> Markup:
    """One horizontal bar split by category (e.g. objectives by risk status)."""
    total = sum(counts.values())
    if total == 0:
        return Markup('<p class="empty">No data.</p>')
    parts = [
        (f'<svg class="chart" role="img" viewBox="0 0 {width} 22" width="{width}" height="22" '
        'xmlns="http://www.w3.org/2000/svg">')
    ]
    x = 0.0
    for key, n in counts.items():
        if not n:
            continue
        w = width * n / total
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="22" fill="{colours.get(key, "#999")}">'
            f"<title>{escape(key)}: {n}</title></rect>"
        )
        x += w
    parts.append("</svg>")
    return Markup("".join(parts))


def run_strip(runs: Sequence[dict]) -> Markup:
    """One bar per run (oldest left), height by duration, colour by publication status."""
    if not runs:
        return Markup('<p class="empty">No runs recorded.</p>')
    bar, gap, height = 16, 4, 90
    width = len(runs) * (bar + gap) + gap
    longest = max((r.get("duration_s") or 0) for r in runs) or 1
    parts = [
        (f'<svg class="chart" role="img" viewBox="0 0 {width} {height + 4}" width="{width}" height="{height + 4}" '
        'xmlns="http://www.w3.org/2000/svg">')
    ]
    for i, r in enumerate(runs):
        status = r.get("publication_status") or "none"
        h = max(height * (r.get("duration_s") or 0) / longest, 4)
        x = gap + i * (bar + gap)
        parts.append(
            f'<rect x="{x}" y="{height - h + 2:.1f}" width="{bar}" height="{h:.1f}" rx="2" '
            f'fill="{STATUS_COLOURS.get(status, "#8a94a6")}"><title>{escape(r["run_id"])}: {escape(status)}'
            f"</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
