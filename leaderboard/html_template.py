"""The leaderboard page template (Jinja2, autoescaped): inline CSS and JS, no external resource.

Kept in a module rather than a package-data file so it ships with every install. The script reads
only the DOM (no report text is ever interpolated into JavaScript).
"""

from __future__ import annotations

CSS = """
:root { --bg:#f6f7fb; --card:#fff; --ink:#1d2433; --muted:#667085; --line:#e4e7ec; --accent:#0072B2;
  --best:#e7f6ee; --best-ink:#067647; --warn:#b54708; --warn-bg:#fffaeb; --code:#f2f4f7; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#0f1420; --card:#171d2b; --ink:#e6e9ef; --muted:#98a2b3; --line:#2a3345; --accent:#56B4E9;
    --best:#0d3324; --best-ink:#75e0a7; --warn:#fdb022; --warn-bg:#2d2212; --code:#1f2737; } }
* { box-sizing:border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
header { background:linear-gradient(120deg,#0b3d66,#0072B2); color:#fff; padding:22px 32px 18px; }
header h1 { margin:0; font-size:22px; letter-spacing:.2px; }
header p { margin:4px 0 0; opacity:.85; font-size:13px; }
nav { display:flex; flex-wrap:wrap; gap:8px; padding:14px 32px 0; }
nav a { text-decoration:none; color:var(--accent); background:var(--card); border:1px solid var(--line);
  padding:4px 10px; border-radius:999px; font-size:12.5px; }
main { padding:8px 32px 40px; max-width:1400px; }
section.board, section.systems { background:var(--card); border:1px solid var(--line); border-radius:12px;
  padding:18px 20px; margin:18px 0; box-shadow:0 1px 2px rgba(16,24,40,.05); }
h2 { margin:0 0 4px; font-size:18px; }
h3 { margin:20px 0 8px; font-size:14px; color:var(--muted); text-transform:uppercase; letter-spacing:.6px; }
.meta { color:var(--muted); font-size:12.5px; display:flex; flex-wrap:wrap; gap:6px 14px; }
.meta code, td code, dd code { background:var(--code); padding:1px 5px; border-radius:4px; font-size:12px; }
.apart { background:var(--warn-bg); color:var(--warn); border-radius:8px; padding:8px 12px; margin:10px 0 0; }
.scroll { overflow-x:auto; margin-top:12px; }
table.scores { border-collapse:separate; border-spacing:0; width:100%; font-variant-numeric:tabular-nums; }
table.scores th, table.scores td { padding:7px 10px; border-bottom:1px solid var(--line); white-space:nowrap; }
table.scores th { text-align:right; font-size:12.5px; color:var(--muted); cursor:pointer; user-select:none;
  position:sticky; top:0; background:var(--card); white-space:normal; min-width:5.5em; vertical-align:bottom; }
table.scores .secondary { display:none; }
input.more:checked ~ .scroll table.scores .secondary { display:table-cell; }
input.more:checked ~ details.more-charts { display:block; }
label.more { font-size:12.5px; color:var(--accent); cursor:pointer; margin-left:4px; }
details.more-charts { margin-top:8px; }
details.more-charts summary { cursor:pointer; color:var(--accent); font-size:13px; }
table.scores th.sys, table.scores td.sys { text-align:left; }
table.scores th .arrow { color:var(--accent); font-weight:700; }
table.scores th.secondary, table.scores td.secondary { color:var(--muted); }
table.scores th.partial { color:var(--warn); }
table.scores td { text-align:right; }
table.scores td.rank { color:var(--muted); text-align:right; width:2em; }
table.scores tbody tr:hover td { background:rgba(0,114,178,.05); }
td.best { background:var(--best); color:var(--best-ink); font-weight:700; }
td.na { color:var(--muted); }
td.sys a { color:inherit; text-decoration:none; font-weight:600; }
td.sys .id { color:var(--muted); font-weight:400; margin-left:4px; }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:7px; vertical-align:0; }
.tag { display:inline-block; font-size:11px; border-radius:999px; padding:0 7px; margin-left:6px;
  background:var(--warn-bg); color:var(--warn); border:1px solid currentColor; }
.charts { display:grid; grid-template-columns:repeat(auto-fill,minmax(470px,1fr)); gap:10px 18px; }
figure { margin:0; }
figcaption { font-weight:600; font-size:13px; margin:6px 0 2px; }
figcaption .arrow { color:var(--accent); }
svg.chart { max-width:100%; height:auto; color:var(--ink); }
svg .grid { stroke:var(--line); stroke-width:1; }
svg .zero { stroke:var(--muted); stroke-width:1; }
svg .tick, svg .missing { fill:var(--muted); font-size:10.5px; }
svg .label { fill:var(--ink); font-size:12px; }
svg .value { fill:var(--ink); font-size:11.5px; }
svg circle.dot:hover { r:4.5; }
.dist-controls { display:flex; gap:10px; align-items:center; margin:4px 0 6px; font-size:13px; }
select { font:inherit; padding:3px 6px; border-radius:6px; border:1px solid var(--line); background:var(--card);
  color:var(--ink); }
.dist[hidden] { display:none; }
dl.sigs { display:grid; grid-template-columns:max-content 1fr; gap:4px 14px; margin:0; font-size:12.5px; }
dl.sigs dt { font-weight:600; }
dl.sigs dd { margin:0; word-break:break-all; }
dl.sigs .note { color:var(--warn); word-break:normal; }
ul.notes { margin:8px 0 0; padding-left:18px; color:var(--muted); font-size:12.5px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(360px,1fr)); gap:14px; }
.card { border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
.card h4 { margin:0 0 4px; font-size:15px; }
.card p { margin:4px 0; color:var(--muted); }
.card pre { background:var(--code); padding:8px; border-radius:6px; overflow:auto; max-height:220px; font-size:11.5px; }
.card table { font-size:12.5px; border-collapse:collapse; table-layout:fixed; width:100%; }
.card td code { word-break:break-all; }
.card td a { color:var(--accent); text-decoration:none; white-space:nowrap; }
.card td:first-child { width:7em; }
.card td { padding:2px 10px 2px 0; vertical-align:top; }
.card td:first-child { color:var(--muted); }
footer { color:var(--muted); font-size:12px; padding:0 32px 30px; }
.empty { padding:30px; text-align:center; color:var(--muted); }
"""

JS = """
(function () {
  function cellValue(td) {
    var v = td.getAttribute('data-value');
    return v === null || v === '' ? null : parseFloat(v);
  }
  document.querySelectorAll('table.scores').forEach(function (table) {
    table.querySelectorAll('th[data-col]').forEach(function (th, index) {
      th.addEventListener('click', function () {
        var col = th.getAttribute('data-col');
        var higher = th.getAttribute('data-higher') === '1';
        var flip = th.getAttribute('data-sorted') === 'best';
        table.querySelectorAll('th').forEach(function (o) { o.removeAttribute('data-sorted'); });
        th.setAttribute('data-sorted', flip ? 'worst' : 'best');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a.querySelector('td[data-col="' + col + '"]'));
          var y = cellValue(b.querySelector('td[data-col="' + col + '"]'));
          if (x === null && y === null) return 0;
          if (x === null) return 1;
          if (y === null) return -1;
          var d = higher ? y - x : x - y;
          return flip ? -d : d;
        });
        rows.forEach(function (r, i) { body.appendChild(r); r.querySelector('td.rank').textContent = i + 1; });
      });
    });
  });
  document.querySelectorAll('select.dist-select').forEach(function (select) {
    var holder = document.getElementById(select.getAttribute('data-target'));
    function show() {
      holder.querySelectorAll('.dist').forEach(function (d) {
        d.hidden = d.getAttribute('data-col') !== select.value;
      });
    }
    select.addEventListener('change', show);
    show();
  });
  document.documentElement.setAttribute('data-js', 'ready');
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
  content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>ArchEHR-QA leaderboard</title>
<style>{{ css }}</style>
</head>
<body>
<header>
  <h1>ArchEHR-QA leaderboard</h1>
  <p>{{ entry_count }} score report{{ '' if entry_count == 1 else 's' }} in {{ tables|length }} comparable
  table{{ '' if tables|length == 1 else 's' }} · generated {{ generated_at }} by archehr-harness {{ harness_version }}
  · numbers share a column only when split, case ids, key and metric signature agree</p>
</header>
{% if tables %}
<nav>{% for t in tables %}<a href="#{{ t.id }}">{{ t.title }} · {{ t.split }}
{%- if t.apart_reason %} ({{ t.n_cases }} cases){% endif %}</a>{% endfor %}
<a href="#systems">Systems</a></nav>
{% endif %}
<main>
{% if not tables %}<section class="board empty">The leaderboard is empty: add score reports with
<code>archehr leaderboard add REPORT.json</code>.</section>{% endif %}
{% for t in tables %}
<section class="board" id="{{ t.id }}">
  <h2>{{ t.title }}</h2>
  <div class="meta"><span>split <code>{{ t.split }}</code></span><span>{{ t.case_summary }}</span>
  <span>key <code title="{{ t.key_hash }}">{{ t.key_short }}</code></span>
  <span>{{ t.rows|length }} entr{{ 'y' if t.rows|length == 1 else 'ies' }}</span></div>
  {% if t.apart_reason %}<p class="apart">Shown apart: {{ t.apart_reason }}</p>{% endif %}
  {% if t.secondary_count %}<input type="checkbox" class="more" id="more-{{ t.id }}">
  <label class="more" for="more-{{ t.id }}">show all {{ t.columns|length }} metrics
    ({{ t.secondary_count }} more)</label>{% endif %}
  <div class="scroll"><table class="scores">
    <thead><tr><th class="rank">#</th><th class="sys">System</th>
    {% for c in t.columns %}<th data-col="{{ c.id }}" data-higher="{{ 1 if c.higher_is_better else 0 }}"
      class="{{ '' if c.primary else 'secondary' }}{{ ' partial' if c.partial else '' }}"
      title="{{ c.signature }}{% if c.note %} — {{ c.note }}{% endif %}">{{ c.label }}
      <span class="arrow">{{ c.arrow }}</span></th>{% endfor %}</tr></thead>
    <tbody>
    {% for r in t.rows %}<tr>
      <td class="rank">{{ loop.index }}</td>
      <td class="sys"><span class="swatch" style="background:{{ r.color }}"></span><a href="#{{ r.card_anchor }}"
        title="{{ r.entry.fingerprint or '' }}">{{ r.entry.system }}</a><span class="id">#{{ r.entry.id }}</span>
        {% for flag in r.flags %}<span class="tag" title="{{ flag.title }}">{{ flag.text }}</span>{% endfor %}</td>
      {% for cell in r.cells %}<td data-col="{{ cell.column.id }}" data-value="{{ cell.raw }}"
        class="{{ cell.css }}"
        {% if cell.title %}title="{{ cell.title }}"{% endif %}>{{ cell.text }}</td>{% endfor %}
    </tr>{% endfor %}
    </tbody>
  </table></div>
  {% if t.notes %}<ul class="notes">{% for n in t.notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
  <h3>Scores per metric</h3>
  <div class="charts">{% for chart in t.bar_charts if chart.primary %}<figure><figcaption>{{ chart.label }}
    <span class="arrow">{{ chart.arrow }}</span></figcaption>{{ chart.svg }}</figure>{% endfor %}</div>
  {% if t.secondary_count %}<details class="more-charts"><summary>charts of the other metrics</summary>
  <div class="charts">{% for chart in t.bar_charts if not chart.primary %}<figure><figcaption>{{ chart.label }}
    <span class="arrow">{{ chart.arrow }}</span></figcaption>{{ chart.svg }}</figure>{% endfor %}</div>
  </details>{% endif %}
  {% if t.distributions %}
  <h3>Per-case scores</h3>
  <div class="dist-controls"><label for="sel-{{ t.id }}">Metric</label>
  <select id="sel-{{ t.id }}" class="dist-select" data-target="dist-{{ t.id }}">
    {% for d in t.distributions %}<option value="{{ d.column_id }}">{{ d.label }}</option>{% endfor %}
  </select><span class="meta">box: quartiles and median · whiskers: 1.5 IQR · ◆ mean · one dot per case</span></div>
  <div id="dist-{{ t.id }}">{% for d in t.distributions %}<figure class="dist" data-col="{{ d.column_id }}"
    {% if not loop.first %}hidden{% endif %}><figcaption>{{ d.label }}</figcaption>{{ d.svg }}</figure>
  {%- endfor %}</div>
  {% endif %}
  <h3>Signatures</h3>
  <dl class="sigs">{% for c in t.columns %}<dt>{{ c.label }}</dt><dd><code>{{ c.signature }}</code>
    {% if c.note %}<div class="note">{{ c.note }}</div>{% endif %}</dd>{% endfor %}</dl>
</section>
{% endfor %}
{% if systems %}
<section class="systems" id="systems">
  <h2>Systems</h2>
  <div class="cards">
  {% for s in systems %}<div class="card" id="{{ s.anchor }}">
    <h4><span class="swatch" style="background:{{ s.color }}"></span>{{ s.name }}</h4>
    {% if s.description %}<p>{{ s.description }}</p>{% endif %}
    <table>
      {% if s.version %}<tr><td>version</td><td>{{ s.version }}</td></tr>{% endif %}
      <tr><td>fingerprint</td><td><code>{{ s.fingerprint or 'none (report carries no system card)' }}</code></td></tr>
      {% if s.subtasks %}<tr><td>subtasks</td><td>{{ s.subtasks }}</td></tr>{% endif %}
      <tr><td>entries</td><td>{% for e in s.entries %}<a href="{{ e.href }}">{{ e.text }}</a>
        {%- if not loop.last %} · {% endif %}{% endfor %}</td></tr>
    </table>
    {% if s.config %}<details><summary>config</summary><pre>{{ s.config }}</pre></details>{% endif %}
    {% if s.components %}<details><summary>components</summary><pre>{{ s.components }}</pre></details>{% endif %}
    {% if s.run %}<details><summary>run metadata</summary><pre>{{ s.run }}</pre></details>{% endif %}
  </div>{% endfor %}
  </div>
</section>
{% endif %}
</main>
<footer>Static page: no network access needed. Rows sort by clicking a column header.
Best value per column highlighted; ↑ higher is better, ↓ lower is better.</footer>
<script>{{ js }}</script>
</body>
</html>
"""
