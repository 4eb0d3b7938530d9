"""The report's templates, stylesheet and one small script, inlined into every page so
each HTML file stands alone (no network, no CDN, no web fonts)."""

from __future__ import annotations

CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#e3e6ec; --bg:#f4f6f9; --card:#fff; --accent:#2f6db5;
  --on_track:#1f8a4c; --at_risk:#c98a00; --off_track:#c4302b; --done:#2f6db5; --no_data:#8a94a6; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--bg); }
header.top { background:#18324f; color:#fff; padding: 10px 28px; display:flex; flex-wrap:wrap; align-items:center; gap: 18px; }
header.top .brand { font-weight:700; letter-spacing:.02em; }
header.top nav a { color:#cfe0f5; text-decoration:none; margin-right:14px; padding:4px 0; }
header.top nav a.active { color:#fff; border-bottom:2px solid #fff; }
header.top .meta { margin-left:auto; font-size:12px; color:#cfe0f5; }
main { max-width: 1280px; margin: 0 auto; padding: 20px 28px 40px; }
h1 { font-size: 24px; margin: 4px 0 2px; }
h2 { font-size: 17px; margin: 0 0 10px; }
p.lead { color: var(--muted); margin: 0 0 18px; }
section { background: var(--card); border:1px solid var(--line); border-radius:8px; padding:16px 18px; margin: 0 0 18px; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(125px, 1fr)); gap:12px; margin: 0 0 18px; }
.card { background: var(--card); border:1px solid var(--line); border-left:4px solid var(--accent); border-radius:8px;
  padding:10px 12px; }
.card .value { font-size:24px; font-weight:700; }
.card .label { color: var(--muted); font-size:12px; text-transform: uppercase; letter-spacing:.04em; }
.card.on_track { border-left-color: var(--on_track); } .card.at_risk { border-left-color: var(--at_risk); }
.card.off_track { border-left-color: var(--off_track); } .card.done { border-left-color: var(--done); }
.card.no_data { border-left-color: var(--no_data); } .card.warn { border-left-color: var(--at_risk); }
.card.bad { border-left-color: var(--off_track); } .card.good { border-left-color: var(--on_track); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align:left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background:#f0f3f7; font-weight:600; color:#333c4d; position: sticky; top: 0; }
td.nw { white-space: nowrap; } td.late { color: var(--off_track); font-weight: 600; }
td.n, th.n { text-align:right; font-variant-numeric: tabular-nums; }
tr.group td { background:#f7f9fc; font-weight:600; }
tr.total td { font-weight:700; border-top:2px solid #c9cfd9; }
tr.cancelled td { color:#9aa1ad; text-decoration: line-through; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#fff;
  white-space:nowrap; background: var(--no_data); }
.risk-on_track, .st-published, .st-pass, .st-succeeded, .st-applied { background: var(--on_track); }
.risk-at_risk, .st-warn, .st-held { background: var(--at_risk); }
.risk-off_track, .st-blocked, .st-fail, .st-failed { background: var(--off_track); }
.risk-done { background: var(--done); } .risk-no_data { background: var(--no_data); }
.lvl { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing:.03em; margin-left:6px; }
.pbar { display:inline-block; width: 90px; height: 8px; background:#e6e9ef; border-radius:4px; vertical-align: middle;
  overflow:hidden; } .pbar span { display:block; height:100%; background: var(--accent); }
.pct { margin-left:6px; font-variant-numeric: tabular-nums; }
.filters { display:flex; gap: 16px; align-items: center; flex-wrap: wrap; margin-bottom: 14px; }
.filters label { font-weight:600; } select { font: inherit; padding: 3px 6px; }
.heat td.cell { text-align:center; font-weight:600; min-width: 70px; border: 2px solid #fff; }
.heat td.cell.largest { outline: 3px solid #18324f; outline-offset: -3px; }
.legend span { display:inline-block; margin-right: 14px; font-size:12px; color: var(--muted); }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align: middle; }
.notice { background:#fff4e5; border:1px solid #f0c27b; border-radius:8px; padding: 10px 14px; margin-bottom: 18px; }
.empty { color: var(--muted); font-style: italic; }
.keys { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; color:#444; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap: 18px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
.tiles { display:grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 16px; }
.tile { display:block; text-decoration:none; color: inherit; background: var(--card); border:1px solid var(--line);
  border-radius: 8px; padding: 16px 18px; } .tile:hover { border-color: var(--accent); }
.tile h2 { color: var(--accent); } .tile dl { margin:0; display:grid; grid-template-columns: 1fr auto; gap: 4px 12px; }
.tile dt { color: var(--muted); } .tile dd { margin:0; font-weight:700; text-align:right; }
svg.chart { max-width: 100%; height: auto; } svg .lbl { font-size: 12px; fill: #333c4d; }
svg .val { font-size: 12px; fill: #5b6475; }
footer { color: var(--muted); font-size: 12px; text-align:center; padding: 0 0 24px; }
.scroll { max-height: 560px; overflow: auto; }
"""

# Filters rows of every table marked data-filterable by period (a year also selects its
# halves and quarters, a half its quarters), org unit and risk; shows how many rows remain.
FILTER_JS = """
(function () {
  'use strict';
  var period = document.getElementById('filter-period');
  var org = document.getElementById('filter-org');
  var risk = document.getElementById('filter-risk');
  if (!period || !org || !risk) { return; }
  var HALVES = { H1: ['Q1', 'Q2'], H2: ['Q3', 'Q4'] };
  function inPeriod(rp, p) {
    if (!p || rp === p || rp.indexOf(p + '-') === 0) { return true; }
    var cut = p.lastIndexOf('-'), quarters = HALVES[p.slice(cut + 1)];
    return !!quarters && cut > 0 && quarters.some(function (q) { return rp === p.slice(0, cut + 1) + q; });
  }
  function matches(row) {
    var p = period.value, o = org.value, k = risk.value;
    return inPeriod(row.getAttribute('data-period') || '', p) &&
      (!o || (row.getAttribute('data-org') || '') === o) &&
      (!k || (row.getAttribute('data-risk') || '') === k);
  }
  function apply() {
    var tables = document.querySelectorAll('table[data-filterable]');
    for (var i = 0; i < tables.length; i++) {
      var rows = tables[i].querySelectorAll('tbody tr[data-period]');
      var shown = 0;
      for (var j = 0; j < rows.length; j++) {
        var ok = matches(rows[j]);
        rows[j].hidden = !ok;
        if (ok) { shown++; }
      }
      var out = document.querySelector('[data-shown-for="' + tables[i].id + '"]');
      if (out) { out.textContent = String(shown); }
    }
  }
  period.addEventListener('change', apply);
  org.addEventListener('change', apply);
  risk.addEventListener('change', apply);
  if (period.value || org.value || risk.value) { apply(); }  // a restored form state
})();
"""

BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>{{ page.title }} · HR bridge report</title>
<style>{{ css }}</style>
</head>
<body data-page="{{ page.name }}">
<header class="top">
  <div class="brand">HR bridge report</div>
  <nav>{% for name, label in nav %}<a href="{{ name }}.html"{% if name == page.name %} class="active"{% endif %}>{{ label }}</a>{% endfor %}</nav>
  <div class="meta">publication <code data-testid="header-run-id">{{ meta.publication_run_id or 'none' }}</code>
    · as of <span data-testid="header-as-of">{{ meta.as_of_date|d }}</span></div>
</header>
<main>
{% block content %}{% endblock %}
</main>
<footer>Generated {{ meta.generated_at|d }} UTC from the published warehouse <code>{{ db_name }}</code>
(schemas reporting and audit, opened read-only). Contains no compensation amounts.</footer>
{% block script %}{% endblock %}
</body>
</html>
"""

MACROS = """
{% macro card(label, value, testid, tone='', digits=0) %}
<div class="card {{ tone }}"><div class="value" id="{{ testid }}" data-testid="{{ testid }}" data-value="{{ value if value is not none else '' }}">{{ value|num(digits) }}</div><div class="label">{{ label }}</div></div>
{% endmacro %}
{% macro risk(status) %}<span class="badge risk-{{ status or 'no_data' }}">{{ (status or 'no_data')|label }}</span>{% endmacro %}
{% macro badge(status) %}<span class="badge st-{{ status or 'none' }}">{{ status or 'none' }}</span>{% endmacro %}
{% macro progress(pct) %}{% if pct is none %}<span class="empty">–</span>{% else %}<span class="pbar"><span style="width: {{ [[pct|float, 0]|max, 100]|min }}%"></span></span><span class="pct">{{ pct|num }}%</span>{% endif %}{% endmacro %}
{% macro yesno(v) %}{{ 'yes' if v else ('no' if v is not none else '–') }}{% endmacro %}
"""

INDEX = """{% extends "base.html" %}{% import "macros.html" as m %}
{% block content %}
<h1>HR bridge report</h1>
<p class="lead">Publication <code id="publication-run-id" data-testid="publication-run-id">{{ meta.publication_run_id or 'none' }}</code>,
as of <strong id="as-of-date" data-testid="as-of-date">{{ meta.as_of_date|d }}</strong>{% if meta.published_at %}, published {{ meta.published_at|d }} UTC{% endif %}.</p>
{% if meta.latest_status == 'blocked' %}
<div class="notice" data-testid="latest-run-blocked">The latest run <code>{{ meta.latest_run_id }}</code> was <strong>blocked</strong>
{% if meta.latest_blocked_by %}by {{ meta.latest_blocked_by|join(', ') }}{% endif %}: the pages show the data of the last publication, and the audit page shows the blocked run.</div>
{% elif not meta.publication_run_id %}
<div class="notice">Nothing has been published yet: only the audit trail is available.</div>
{% endif %}
<div class="tiles">
  <a class="tile" href="strategy.html"><h2>Strategy execution</h2><dl>
    <dt>Objectives</dt><dd data-testid="index-objectives">{{ s.objectives|num }}</dd>
    <dt>At risk</dt><dd data-testid="index-at-risk">{{ s.at_risk|num }}</dd>
    <dt>Off track</dt><dd data-testid="index-off-track">{{ s.off_track|num }}</dd>
    <dt>Slipped since previous publication</dt><dd>{{ s.slipped|num }}</dd></dl></a>
  <a class="tile" href="capability.html"><h2>Capability</h2><dl>
    <dt>Open competency gaps</dt><dd>{{ c.gaps|num }}</dd>
    <dt>Unassessed requirements</dt><dd>{{ c.unassessed|num }}</dd>
    <dt>Overdue compliance training</dt><dd>{{ c.overdue_compliance|num }}</dd></dl></a>
  <a class="tile" href="people.html"><h2>People</h2><dl>
    <dt>Active headcount</dt><dd data-testid="index-headcount">{{ p.active_headcount|num }}</dd>
    <dt>Canonical job titles</dt><dd>{{ p.canonical_titles|num }}</dd>
    <dt>Unmapped titles</dt><dd>{{ p.unmapped_titles|num }}</dd></dl></a>
  <a class="tile" href="audit.html"><h2>Audit</h2><dl>
    <dt>Latest run</dt><dd><code>{{ a.run_id or 'none' }}</code></dd>
    <dt>Decision</dt><dd>{{ m.badge(a.decision) }}</dd>
    <dt>Blocking checks failed</dt><dd>{{ a.blocking_fail|num }}</dd>
    <dt>Blocked runs (last {{ a.history_runs }})</dt><dd>{{ a.history_blocked|num }}</dd></dl></a>
</div>
{% endblock %}
"""

STRATEGY = """{% extends "base.html" %}{% import "macros.html" as m %}
{% block content %}
<h1>Strategy execution</h1>
<p class="lead">From each strategic objective down to individual tasks: progress, forecast completion against the due date, and risk as of {{ meta.as_of_date|d }}. Cancelled objectives are listed but not counted.</p>
<div class="cards">
  {{ m.card('Objectives', figures.objectives, 'count-objectives') }}
  {{ m.card('On track', figures.on_track, 'count-on-track', 'on_track') }}
  {{ m.card('At risk', figures.at_risk, 'count-at-risk', 'at_risk') }}
  {{ m.card('Off track', figures.off_track, 'count-off-track', 'off_track') }}
  {{ m.card('Done', figures.done, 'count-done', 'done') }}
  {{ m.card('No data', figures.no_data, 'count-no-data', 'no_data') }}
  {{ m.card('Slipped since previous', figures.slipped, 'count-slipped', 'bad' if figures.slipped else 'good') }}
  {{ m.card('Open impediments', figures.open_impediments, 'count-impediments', 'warn' if figures.open_impediments else '') }}
  {{ m.card('Help requests', figures.help_requests, 'count-help-requests', 'warn' if figures.help_requests else '') }}
</div>
<section>
  <h2>Risk across the cascade</h2>
  {{ risk_bar }}
  <p class="legend">{% for r, n in risk_counts.items() %}<span><i style="background: {{ risk_colours[r] }}"></i>{{ r|label }} {{ n }}</span>{% endfor %}</p>
</section>
<div class="filters">
  <label for="filter-period">Period</label>
  <select id="filter-period"><option value="">All periods</option>{% for p in periods %}<option value="{{ p }}">{{ p }}</option>{% endfor %}</select>
  <label for="filter-org">Department / org unit</label>
  <select id="filter-org"><option value="">All</option>{% for o in org_units %}<option value="{{ o }}">{{ o }}</option>{% endfor %}</select>
  <label for="filter-risk">Risk</label>
  <select id="filter-risk"><option value="">All</option>{% for r in risk_counts %}<option value="{{ r }}">{{ r|label }}</option>{% endfor %}</select>
</div>
<section>
  <h2>Slipped since the previous publication (<span data-shown-for="slipped">{{ slipped|length }}</span>)</h2>
  {% if baseline is none %}
  <p class="empty" data-testid="no-baseline">This is the first report: there is no previous publication to compare with yet.</p>
  {% elif not slipped %}
  <p class="empty">Nothing slipped since publication <code>{{ baseline.run_id }}</code> (as of {{ baseline.as_of_date }}).</p>
  {% else %}
  <p>Compared with publication <code data-testid="baseline-run-id">{{ baseline.run_id }}</code> (as of {{ baseline.as_of_date }}): risk got worse or the forecast completion moved later.</p>
  <table id="slipped" data-filterable>
    <thead><tr><th>Objective</th><th>Org unit</th><th>Period</th><th>Risk before</th><th>Risk now</th><th>Forecast before</th><th>Forecast now</th><th class="n">Days later</th><th>Due</th></tr></thead>
    <tbody>
    {% for r in slipped %}
    <tr data-testid="slipped-row" data-objective-id="{{ r.slip.objective_id }}" data-period="{{ r.period or '' }}" data-org="{{ r.org_unit or '' }}" data-risk="{{ r.risk_status or 'no_data' }}">
      <td>{{ r.title or r.slip.objective_id }}<span class="lvl">{{ r.level|label }}</span></td><td>{{ r.org_unit or '–' }}</td><td>{{ r.period or '–' }}</td>
      <td>{{ m.risk(r.slip.previous_risk) }}</td><td>{{ m.risk(r.slip.risk) }}</td>
      <td>{{ r.slip.previous_forecast or '–' }}</td><td>{{ r.slip.forecast or '–' }}</td>
      <td class="n" data-testid="days-later" data-objective-id="{{ r.slip.objective_id }}" data-value="{{ r.slip.days_later if r.slip.days_later is not none else '' }}">{{ r.slip.days_later if r.slip.days_later is not none else '–' }}</td><td>{{ r.due_date|d }}</td>
    </tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
</section>
<section>
  <h2>Cascade (<span data-shown-for="cascade">{{ objectives|length }}</span> shown)</h2>
  {% if objectives_total > objectives|length %}<p class="notice">The cascade has {{ objectives_total|num }} objectives: shown are its top levels and the objectives at risk or off track ({{ objectives|length|num }}).</p>{% endif %}
  {% if objectives %}
  <div class="scroll">
  <table id="cascade" data-filterable>
    <thead><tr><th>Objective</th><th>Owner</th><th>Org unit</th><th>Period</th><th>Due</th><th>Progress</th><th>Forecast</th><th class="n">Slip (days)</th><th>Risk</th><th>Last check-in</th></tr></thead>
    <tbody>
    {% for o in objectives %}
    <tr data-testid="objective-row" data-objective-id="{{ o.objective_id }}" data-period="{{ o.period or '' }}" data-org="{{ o.org_unit or '' }}" data-risk="{{ o.risk_status or 'no_data' }}"{% if o.status == 'cancelled' %} class="cancelled"{% endif %}>
      <td style="padding-left: {{ 8 + 18 * o.indent }}px">{% if o.indent %}↳ {% endif %}{% if o.depth == 0 %}<strong>{{ o.title }}</strong>{% else %}{{ o.title }}{% endif %}<span class="lvl">{{ o.level|label }}</span></td>
      <td>{{ o.owner_name or o.owner_employee_number or '–' }}</td><td>{{ o.org_unit or '–' }}</td><td>{{ o.period or '–' }}</td><td class="nw">{{ o.due_date|d }}</td>
      <td class="nw">{{ m.progress(o.progress_pct) }}</td><td class="nw{% if (o.forecast_slip_days or 0) > 0 %} late{% endif %}">{{ o.forecast_completion_date|d }}</td>
      <td class="n">{{ o.forecast_slip_days if o.forecast_slip_days is not none else '–' }}</td>
      <td data-testid="risk">{{ m.risk(o.risk_status) }}</td>
      <td class="nw">{{ o.last_checkin_date|d }}{% if o.days_since_checkin is not none %}<br><span class="lvl">{{ o.days_since_checkin }} days ago</span>{% endif %}</td>
    </tr>
    {% endfor %}
    </tbody>
  </table>
  </div>
  {% else %}<p class="empty">No objectives published.</p>{% endif %}
</section>
<section>
  <h2>Open impediments and help requests (<span data-shown-for="issues">{{ issues|length }}</span>)</h2>
  <p class="lead">From each objective's latest check-in, for objectives not done or cancelled{% if issues_total > issues|length %}; the {{ issues|length }} most recent of {{ issues_total|num }} are listed{% endif %}.</p>
  {% if issues %}
  <table id="issues" data-filterable>
    <thead><tr><th>Objective</th><th>Org unit</th><th>Check-in</th><th>By</th><th>Manager</th><th>Confidence</th><th>Progress</th><th>Impediment</th><th>Help requested</th></tr></thead>
    <tbody>
    {% for i in issues %}
    <tr data-testid="issue-row" data-period="{{ i.period or '' }}" data-org="{{ i.org_unit or '' }}" data-risk="">
      <td>{{ i.title }}</td><td>{{ i.org_unit or '–' }}</td><td>{{ i.meeting_date|d }}</td>
      <td>{{ i.employee_name or i.employee_number or '–' }}</td><td>{{ i.manager_name or i.manager_employee_number or '–' }}</td>
      <td>{{ m.risk(i.confidence if i.confidence in risk_colours else 'off_track' if i.confidence == 'blocked' else i.confidence) }}</td>
      <td>{{ m.progress(i.progress_pct) }}</td><td>{{ m.yesno(i.has_impediment) }}</td><td>{{ m.yesno(i.help_requested) }}</td>
    </tr>
    {% endfor %}
    </tbody>
  </table>
  {% else %}<p class="empty">No open impediments or help requests.</p>{% endif %}
</section>
{% endblock %}
{% block script %}<script>{{ filter_js }}</script>{% endblock %}
"""

CAPABILITY = """{% extends "base.html" %}{% import "macros.html" as m %}
{% block content %}
<h1>Capability</h1>
<p class="lead">Competency gaps of active employees against the requirements of their job, assessment coverage, the training that closes the gaps, and learning time.</p>
<div class="cards">
  {{ m.card('Open competency gaps', figures.gaps, 'count-gaps', 'warn') }}
  <div class="card bad"><div class="value" data-testid="largest-gap-cell" data-value="{{ figures.largest_gap_count }}"
    data-department="{{ figures.largest_gap_department or '' }}" data-category="{{ figures.largest_gap_category or '' }}">{{ figures.largest_gap_count|num }}</div>
    <div class="label">Largest cell{% if largest %}: {{ largest.department }} × {{ largest.category }}{% endif %}</div></div>
  {{ m.card('Unassessed requirements', figures.unassessed, 'count-unassessed', 'no_data') }}
  {{ m.card('Overdue compliance training', figures.overdue_compliance, 'count-overdue-compliance', 'bad' if figures.overdue_compliance else 'good') }}
</div>
<section>
  <h2>Gaps by department and competency category</h2>
  <p class="lead">Each cell counts employee × competency requirements in gap (assessed below the required level). Hover a cell for the number assessed and the total gap in levels.</p>
  {% if heat_rows %}
  <div class="scroll"><table class="heat" id="gap-heatmap">
    <thead><tr><th>Department</th>{% for c in categories %}<th>{{ c }}</th>{% endfor %}<th class="n">Total</th></tr></thead>
    <tbody>
    {% for r in heat_rows %}
    <tr><th scope="row">{{ r.department }}</th>
      {% for c in r.cells %}
      <td class="cell{% if c.is_largest %} largest{% endif %}" data-testid="gap-cell" data-department="{{ c.department }}" data-category="{{ c.category }}" data-value="{{ c.gaps }}"
        style="background: {{ c.bg }}; color: {{ c.fg }}" title="{{ c.department }} × {{ c.category }}: {{ c.gaps }} in gap of {{ c.assessed }} assessed, {{ c.gap_points }} levels">{{ c.gaps if c.present else '' }}</td>
      {% endfor %}
      <td class="n">{{ r.gaps|num }}</td></tr>
    {% endfor %}
    </tbody>
  </table></div>
  {% else %}<p class="empty">No competency requirements published.</p>{% endif %}
</section>
<div class="grid2">
<section>
  <h2>Assessment coverage</h2>
  <p class="lead">Requirements nobody has rated yet (gap status unassessed), per department.</p>
  {% if coverage %}
  <table id="coverage">
    <thead><tr><th>Department</th><th class="n">Requirements</th><th class="n">Unassessed</th><th class="n">People not fully assessed</th><th>Coverage</th></tr></thead>
    <tbody>
    {% for r in coverage %}
    <tr data-testid="coverage-row" data-department="{{ r.department }}"><td>{{ r.department }}</td><td class="n">{{ r.requirements|num }}</td>
      <td class="n" data-testid="unassessed" data-department="{{ r.department }}" data-value="{{ r.unassessed }}">{{ r.unassessed|num }}</td>
      <td class="n">{{ r.employees_unassessed|num }} / {{ r.employees|num }}</td>
      <td>{{ m.progress(100.0 * (r.requirements - r.unassessed) / r.requirements if r.requirements else none) }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% else %}<p class="empty">No requirements published.</p>{% endif %}
</section>
<section>
  <h2>Learning hours: frontline and other staff</h2>
  <p class="lead">Hours of completed learning per active employee in each group (all completions published).</p>
  {{ hours_chart }}
  {% if hours %}
  <table id="learning-hours">
    <thead><tr><th>Group</th><th class="n">Hours</th><th class="n">Completions</th><th class="n">Learners</th><th class="n">Active staff</th><th class="n">Hours per head</th></tr></thead>
    <tbody>
    {% for h in hours %}
    <tr data-testid="hours-row" data-group="{{ h.grp }}"><td>{{ h.grp }}</td><td class="n" data-testid="hours" data-group="{{ h.grp }}" data-value="{{ '%.1f'|format(h.hours|float) }}">{{ h.hours|num(1) }}</td>
      <td class="n">{{ h.completions|num }}</td><td class="n">{{ h.learners|num }}</td><td class="n">{{ h.active|num }}</td><td class="n">{{ h.hours_per_head|num(2) }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
</section>
</div>
<section>
  <h2>Courses that close the largest gaps</h2>
  <p class="lead">The recommended course of each open gap, ranked by the gap levels it closes; completion is by the people with the gap.</p>
  {% if courses %}
  <table id="courses">
    <thead><tr><th>Course</th><th>Competencies</th><th class="n">Gaps</th><th class="n">Gap levels</th><th class="n">People</th><th class="n">Completed</th><th>Completion</th></tr></thead>
    <tbody>
    {% for c in courses %}
    <tr data-testid="course-row" data-course-id="{{ c.course_id }}"><td><code>{{ c.course_id }}</code></td><td>{{ c.competencies or '–' }}</td>
      <td class="n">{{ c.gaps|num }}</td><td class="n" data-testid="gap-levels" data-value="{{ c.gap_points }}">{{ c.gap_points|num }}</td><td class="n">{{ c.employees|num }}</td>
      <td class="n" data-testid="completed" data-value="{{ c.completed }}">{{ c.completed|num }}</td><td>{{ m.progress(100.0 * c.completed / c.gaps if c.gaps else none) }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% else %}<p class="empty">No open gaps with a recommended course.</p>{% endif %}
</section>
<section>
  <h2>Overdue compliance training ({{ overdue_total|num }})</h2>
  {% if overdue %}
  {{ overdue_chart }}
  <div class="scroll"><table id="overdue">
    <thead><tr><th>Employee</th><th>Department</th><th>Course</th><th>Assigned</th><th>Due</th><th class="n">Days overdue</th></tr></thead>
    <tbody>
    {% for a in overdue %}
    <tr data-testid="overdue-row" data-assignment-id="{{ a.assignment_id }}"><td>{{ a.full_name or a.employee_number }} <span class="lvl">{{ a.employee_number }}</span></td><td>{{ a.department }}</td>
      <td><code>{{ a.course_id }}</code></td><td>{{ a.assigned_at|d }}</td><td>{{ a.due_date|d }}</td><td class="n">{{ a.days_overdue|num }}</td></tr>
    {% endfor %}
    </tbody>
  </table></div>
  {% if overdue_total > overdue|length %}<p class="empty">The {{ overdue|length }} most overdue of {{ overdue_total|num }} are listed.</p>{% endif %}
  {% else %}<p class="empty">No compliance training is overdue.</p>{% endif %}
</section>
{% endblock %}
"""

PEOPLE = """{% extends "base.html" %}{% import "macros.html" as m %}
{% block content %}
<h1>People</h1>
<p class="lead">Headcount from the HRIS (the system of record), how job titles from every system consolidate into the canonical titles, and how the HRIS reconciles with payroll.</p>
<div class="cards">
  {{ m.card('Active headcount', figures.active_headcount, 'count-active-headcount') }}
  {{ m.card('Departments', departments|length, 'count-departments') }}
  {{ m.card('Canonical job titles', figures.canonical_titles, 'count-canonical-titles') }}
  {{ m.card('Title aliases mapped', figures.aliases, 'count-aliases') }}
  {{ m.card('Unmapped titles', figures.unmapped_titles, 'count-unmapped-titles', 'warn' if figures.unmapped_titles else 'good') }}
  {{ m.card('HRIS active', figures.hris_active, 'count-hris-active') }}
  {{ m.card('Payroll active', figures.payroll_active, 'count-payroll-active') }}
  {% if figures.terminated_but_paid is not none %}{{ m.card('Terminated but paid', figures.terminated_but_paid, 'count-terminated-paid', 'bad' if figures.terminated_but_paid else 'good') }}{% endif %}
</div>
<div class="grid2">
<section>
  <h2>Headcount by department</h2>
  {{ dept_chart }}
</section>
<section>
  <h2>Headcount by department and title</h2>
  {% if departments %}
  <div class="scroll"><table id="headcount">
    <thead><tr><th>Department / canonical title</th><th class="n">Active</th></tr></thead>
    <tbody>
    {% for d in departments %}
    <tr class="group"><td>{{ d.name }}</td><td class="n" data-testid="headcount-dept" data-department="{{ d.name }}" data-value="{{ d.headcount }}">{{ d.headcount|num }}</td></tr>
    {% for t in d.titles %}
    <tr><td style="padding-left: 24px">{{ t.title }}</td><td class="n" data-testid="headcount-title" data-department="{{ d.name }}" data-title="{{ t.title }}" data-value="{{ t.headcount }}">{{ t.headcount|num }}</td></tr>
    {% endfor %}
    {% endfor %}
    <tr class="total"><td>Total</td><td class="n">{{ figures.active_headcount|num }}</td></tr>
    </tbody>
  </table></div>
  {% else %}<p class="empty">No active employees published.</p>{% endif %}
</section>
</div>
<section>
  <h2>Job-title consolidation</h2>
  <p class="lead">Every title spelling seen in the HRIS, payroll and the LMS, and the canonical title it resolves to.</p>
  {% if consolidation %}
  <div class="scroll"><table id="title-consolidation">
    <thead><tr><th>Canonical title</th><th class="n">Spellings</th><th>Aliases (system: title · method · occurrences)</th></tr></thead>
    <tbody>
    {% for c in consolidation %}
    <tr data-testid="title-row" data-title="{{ c.title }}"><td>{{ c.title }}</td><td class="n" data-testid="alias-count" data-value="{{ c.aliases|length }}">{{ c.aliases|length }}</td>
      <td>{% for a in c.aliases %}<div>{{ a.source_system }}: “{{ a.source_title }}” <span class="lvl">{{ a.match_method }} · {{ a.occurrences|num }}</span></div>{% endfor %}</td></tr>
    {% endfor %}
    </tbody>
  </table></div>
  {% else %}<p class="empty">No title aliases published.</p>{% endif %}
  <h2 style="margin-top: 16px">Unmapped titles ({{ unmapped|length }})</h2>
  {% if unmapped %}
  <table id="unmapped-titles">
    <thead><tr><th>System</th><th>Title as spelled</th><th class="n">Occurrences</th></tr></thead>
    <tbody>{% for a in unmapped %}<tr data-testid="unmapped-row"><td>{{ a.source_system }}</td><td>{{ a.source_title }}</td><td class="n">{{ a.occurrences|num }}</td></tr>{% endfor %}</tbody>
  </table>
  {% else %}<p class="empty">Every title resolves to a canonical title.</p>{% endif %}
</section>
<section>
  <h2>Remuneration packages by title</h2>
  <p class="lead">The package payroll pays most often for each canonical title in the latest period (a package name; no amounts).</p>
  {% if titles %}
  <div class="scroll"><table id="packages">
    <thead><tr><th>Canonical title</th><th>Job family</th><th>Level</th><th>Remuneration package</th><th class="n">Active headcount</th></tr></thead>
    <tbody>{% for t in titles %}<tr data-testid="package-row" data-title="{{ t.canonical_job_title }}"><td>{{ t.canonical_job_title }}</td><td>{{ t.job_family or '–' }}</td><td>{{ t.job_level or '–' }}</td>
      <td data-testid="package">{{ t.remuneration_package or '–' }}</td><td class="n">{{ t.active_headcount|num }}</td></tr>{% endfor %}</tbody>
  </table></div>
  {% else %}<p class="empty">No job titles published.</p>{% endif %}
  {% if package_findings %}
  <p><strong>Finding:</strong> titles paid under more than one package in the latest period:</p>
  <ul>{% for f in package_findings %}<li data-testid="package-finding">{{ f.canonical_job_title }}: {{ f.remuneration_packages }}</li>{% endfor %}</ul>
  {% endif %}
</section>
<section>
  <h2>HRIS and payroll reconciliation</h2>
  <p class="lead">HRIS active employees against payroll employees active in the latest period, by cost center (matched and HRIS-only under the HRIS cost center, payroll-only under payroll's).</p>
  {% if reconciliation %}
  <div class="scroll"><table id="reconciliation">
    <thead><tr><th>Cost center</th><th class="n">HRIS active</th><th class="n">Payroll active</th><th class="n">Difference</th><th class="n">Matched</th><th class="n">HRIS only</th><th class="n">Payroll only</th></tr></thead>
    <tbody>
    {% for r in reconciliation %}
    <tr data-testid="reconciliation-row" data-cost-center="{{ r.cost_center }}"><td>{{ r.cost_center }}</td><td class="n">{{ r.hris_active|num }}</td><td class="n">{{ r.payroll_active|num }}</td>
      <td class="n" data-testid="difference" data-cost-center="{{ r.cost_center }}" data-value="{{ r.difference }}">{% if r.difference %}<strong>{{ '%+d'|format(r.difference) }}</strong>{% else %}0{% endif %}</td>
      <td class="n">{{ r.matched|num }}</td><td class="n">{{ r.hris_only|num }}</td><td class="n">{{ r.payroll_only|num }}</td></tr>
    {% endfor %}
    <tr class="total"><td>Total</td><td class="n">{{ totals.hris_active|num }}</td><td class="n">{{ totals.payroll_active|num }}</td>
      <td class="n">{{ '%+d'|format(totals.hris_active - totals.payroll_active) }}</td><td class="n">{{ totals.matched|num }}</td><td class="n">{{ totals.hris_only|num }}</td><td class="n">{{ totals.payroll_only|num }}</td></tr>
    </tbody>
  </table></div>
  {% else %}<p class="empty">No reconciliation published.</p>{% endif %}
  <h2 style="margin-top: 16px">Findings</h2>
  {% if findings %}
  <table id="reconciliation-findings">
    <thead><tr><th>Check</th><th>Severity</th><th>Result</th><th class="n">Unexpected</th><th>Employee numbers / keys (sample)</th></tr></thead>
    <tbody>{% for f in findings %}<tr data-testid="finding-row" data-check="{{ f.check_name }}"><td><code>{{ f.check_name }}</code></td><td>{{ f.severity }}</td>
      <td>{{ m.badge('pass' if f.success else ('fail' if f.severity == 'blocking' else 'warn')) }}</td><td class="n" data-testid="unexpected" data-value="{{ f.unexpected_count }}">{{ f.unexpected_count|num }}</td>
      <td class="keys">{{ f['keys']|join(', ') or '–' }}</td></tr>{% endfor %}</tbody>
  </table>
  {% else %}<p class="empty">The publication run recorded no reconciliation checks.</p>{% endif %}
</section>
{% endblock %}
"""

AUDIT = """{% extends "base.html" %}{% import "macros.html" as m %}
{% block content %}
<h1>Audit</h1>
<p class="lead">What the latest run validated, consumed and decided, and the last {{ history_limit }} runs.</p>
{% if run_id %}
<section>
  <h2>Run <code data-testid="audit-run-id">{{ run_id }}</code></h2>
  {% if decision %}
  <p>Publication decision: <span data-testid="decision" data-value="{{ decision.status }}">{{ m.badge(decision.status) }}</span> at {{ decision.decided_at|d }} UTC.
  {% if decision.blocked_list %}Blocked by: {% for b in decision.blocked_list %}<code data-testid="blocked-by">{{ b }}</code>{% if not loop.last %}, {% endif %}{% endfor %}.{% endif %}</p>
  {% if decision.counts %}
  <details><summary>Rows published ({{ decision.counts|length }} tables)</summary>
    <table id="row-counts"><thead><tr><th>Table</th><th class="n">Rows</th></tr></thead>
    <tbody>{% for t, n in decision.counts %}<tr><td><code>{{ t }}</code></td><td class="n">{{ n|num }}</td></tr>{% endfor %}</tbody></table></details>
  {% endif %}
  {% else %}<p class="empty">This run has no publication decision recorded.</p>{% endif %}
</section>
<div class="cards">
  {{ m.card('Blocking checks passed', summary.blocking_pass, 'count-blocking-pass', 'good') }}
  {{ m.card('Blocking checks failed', summary.blocking_fail, 'count-blocking-fail', 'bad' if summary.blocking_fail else 'good') }}
  {{ m.card('Warn checks passed', summary.warn_pass, 'count-warn-pass', 'good') }}
  {{ m.card('Warn checks failed', summary.warn_fail, 'count-warn-fail', 'warn' if summary.warn_fail else 'good') }}
</div>
<section>
  <h2>Checks ({{ checks|length }})</h2>
  {% if checks %}
  <div class="scroll"><table id="checks">
    <thead><tr><th>Check</th><th>Table</th><th>Severity</th><th>Result</th><th>Observed</th><th class="n">Unexpected</th><th>Sample keys</th><th>Engine</th></tr></thead>
    <tbody>
    {% for c in checks %}
    <tr data-testid="check-row" data-check="{{ c.check_name }}" data-severity="{{ c.severity }}" data-success="{{ 'true' if c.success else 'false' }}">
      <td><code>{{ c.check_name }}</code></td><td><code>{{ c.target_table or '–' }}</code></td><td>{{ c.severity }}</td>
      <td>{{ m.badge('pass' if c.success else ('fail' if c.severity == 'blocking' else 'warn')) }}</td>
      <td>{{ c.observed_value if c.observed_value is not none else '–' }}</td><td class="n">{{ c.unexpected_count|num }}</td>
      <td class="keys">{{ c['keys'][:5]|join(', ') or '–' }}{% if c['keys']|length > 5 %} …{% endif %}</td><td>{{ c.engine or '–' }}</td></tr>
    {% endfor %}
    </tbody>
  </table></div>
  {% else %}<p class="empty">No checks recorded for this run.</p>{% endif %}
</section>
<section>
  <h2>Extracts consumed ({{ extracts|length }})</h2>
  {% if extracts %}
  <div class="scroll"><table id="extracts">
    <thead><tr><th>Source</th><th>Stream</th><th>Mode</th><th>Cursor from</th><th>Cursor to</th><th class="n">Records</th><th class="n">Pages</th><th class="n">Bytes</th><th class="n">Seconds</th></tr></thead>
    <tbody>
    {% for e in extracts %}
    <tr data-testid="extract-row" data-source="{{ e.source }}" data-stream="{{ e.stream }}"><td>{{ e.source }}</td><td>{{ e.stream }}</td><td>{{ e.mode or '–' }}</td>
      <td class="keys">{{ e.cursor_from or '–' }}</td><td class="keys">{{ e.cursor_to or '–' }}</td><td class="n" data-testid="records" data-value="{{ e.records }}">{{ e.records|num }}</td>
      <td class="n">{{ e.pages|num }}</td><td class="n">{{ e.bytes|num }}</td><td class="n">{{ e.seconds|num(1) }}</td></tr>
    {% endfor %}
    </tbody>
  </table></div>
  {% else %}<p class="empty">No extracts recorded for this run.</p>{% endif %}
  {% if quarantine %}
  <h2 style="margin-top: 16px">Quarantined records</h2>
  <table id="quarantine"><thead><tr><th>Source</th><th>Stream</th><th>Reason</th><th class="n">Records</th></tr></thead>
  <tbody>{% for q in quarantine %}<tr><td>{{ q.source }}</td><td>{{ q.stream }}</td><td>{{ q.reason }}</td><td class="n">{{ q.records|num }}</td></tr>{% endfor %}</tbody></table>
  {% endif %}
</section>
{% if provisioning %}
<section id="provisioning">
  <h2>Provisioning the LMS</h2>
  {% if provisioning.held %}<p class="notice" data-testid="provisioning-held">The plan was held by a safeguard: {{ provisioning.held|num }} changes were not sent. Review it, then <code>bridge provision --apply --allow-over-threshold</code>.</p>{% endif %}
  <table id="provisioning-planned"><thead><tr><th>Planned action</th><th class="n">Users</th><th class="n">Field changes</th></tr></thead>
  <tbody>{% for p in provisioning.planned %}<tr data-testid="provisioning-planned" data-action="{{ p.action }}" data-value="{{ p.users }}"><td>{{ p.action }}</td><td class="n">{{ p.users|num }}</td><td class="n">{{ p.fields|num }}</td></tr>{% endfor %}</tbody></table>
  {% if provisioning.results %}
  <table id="provisioning-results"><thead><tr><th>Action</th><th>Status</th><th class="n">Users</th></tr></thead>
  <tbody>{% for r in provisioning.results %}<tr data-testid="provisioning-result" data-action="{{ r.action }}" data-status="{{ r.status }}" data-value="{{ r.n }}"><td>{{ r.action }}</td><td>{{ m.badge(r.status) }}</td><td class="n">{{ r.n|num }}</td></tr>{% endfor %}</tbody></table>
  {% else %}<p class="empty">Planned only: nothing was sent to the LMS (BRIDGE_LMS_PROVISIONING=plan).</p>{% endif %}
  {% if provisioning.failures %}
  <h3>Failures</h3>
  <table id="provisioning-failures"><thead><tr><th>Employee</th><th>LMS id</th><th>Action</th><th class="n">HTTP</th><th>SCIM error</th></tr></thead>
  <tbody>{% for f in provisioning.failures %}<tr data-testid="provisioning-failure"><td class="keys">{{ f.employee_number }}</td><td class="keys">{{ f.target_id or '–' }}</td><td>{{ f.action }}</td><td class="n">{{ f.http_status or '–' }}</td><td>{{ f.error }}</td></tr>{% endfor %}</tbody></table>
  {% endif %}
  {% if provisioning.conflicts %}
  <h3>Conflicts (never written; listed with the identity exceptions)</h3>
  <table id="provisioning-conflicts"><thead><tr><th>Employee</th><th>LMS id</th><th>Why</th></tr></thead>
  <tbody>{% for c in provisioning.conflicts %}<tr data-testid="provisioning-conflict"><td class="keys">{{ c.employee_number or '–' }}</td><td class="keys">{{ c.target_id or '–' }}</td><td>{{ c.detail }}</td></tr>{% endfor %}</tbody></table>
  {% endif %}
</section>
{% endif %}
{% else %}
<p class="empty">No runs recorded.</p>
{% endif %}
<section>
  <h2>Last {{ history|length }} runs</h2>
  {{ history_chart }}
  <p class="legend"><span><i style="background: #1f8a4c"></i>published</span><span><i style="background: #c4302b"></i>blocked</span><span><i style="background: #8a94a6"></i>no decision</span> · bar height is run duration</p>
  {% if history %}
  <table id="history">
    <thead><tr><th>Run</th><th>Started</th><th>Finished</th><th class="n">Seconds</th><th>Trigger</th><th>Run status</th><th>Publication</th><th>Blocked by</th><th>Code version</th></tr></thead>
    <tbody>
    {% for h in history %}
    <tr data-testid="history-row" data-run-id="{{ h.run_id }}" data-publication="{{ h.publication_status or '' }}"><td><code>{{ h.run_id }}</code></td><td>{{ h.started_at|d }}</td><td>{{ h.finished_at|d }}</td>
      <td class="n">{{ h.duration_s|num }}</td><td>{{ h.trigger or '–' }}</td><td>{{ h.status or '–' }}</td><td>{{ m.badge(h.shown_status) }}</td>
      <td class="keys">{{ h.blocked_list|join(', ') or '–' }}</td><td class="keys">{{ (h.code_version or '–')[:12] }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
</section>
{% endblock %}
"""

TEMPLATES = {
    "base.html": BASE,
    "macros.html": MACROS,
    "index.html": INDEX,
    "strategy.html": STRATEGY,
    "capability.html": CAPABILITY,
    "people.html": PEOPLE,
    "audit.html": AUDIT,
}
