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
main { padding:8px 32px 40px; max-width:1400px; min-width:0; }
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
.charts { display:grid; grid-template-columns:repeat(auto-fill,minmax(min(470px,100%),1fr)); gap:10px 18px; }
figure { margin:0; }
figcaption { font-weight:600; font-size:13px; margin:6px 0 2px; }
figcaption .arrow { color:var(--accent); }
svg.chart { max-width:100%; height:auto; color:var(--ink); display:block; }
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
dl.sigs { display:grid; grid-template-columns:minmax(6em,16em) minmax(0,1fr); gap:4px 14px; margin:0;
  font-size:12.5px; }
dl.sigs dt { font-weight:600; }
dl.sigs dd { margin:0; word-break:break-all; }
dl.sigs .note { color:var(--warn); word-break:normal; }
section.bias dl.sigs { margin-top:10px; }
ul.notes { margin:8px 0 0; padding-left:18px; color:var(--muted); font-size:12.5px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(min(360px,100%),1fr)); gap:14px; }
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
.card table.per-system { table-layout:auto; margin-top:8px; }
.card table.per-system td, .card table.per-system th { padding:3px 8px 3px 0; width:auto; color:inherit; }
.card table.per-system .id { display:block; margin:0; font-size:11.5px; }
footer { color:var(--muted); font-size:12px; padding:0 32px 30px; }
.empty { padding:30px; text-align:center; color:var(--muted); }
section.board, section.systems, .scroll, figure, .card, .charts > figure { min-width:0; }
.banner { padding:10px 32px; font-size:13.5px; border-bottom:1px solid var(--line); }
.banner p { margin:2px 0; }
.banner.synthetic { background:#fff4d6; color:#5c3b00; }
.banner.credentialed { background:#D55E00; color:#fff; font-weight:700; }
.banner.user { background:var(--card); color:var(--ink); }
.banner .caveat { color:var(--warn); }
.tag.synthetic { background:#fff4d6; color:#7a4d00; }
.tag.user, .tag.unverified { background:var(--code); color:var(--ink); }
td.ci, td.p, th.ci, th.p { color:var(--muted); font-size:12.5px; }
td.rank { font-weight:600; }
tr.cluster-start td { border-top:2px solid var(--muted); }
tr.reference td { font-style:italic; color:var(--muted); background:var(--code); }
.case-tools { display:flex; flex-wrap:wrap; gap:6px 12px; align-items:center; font-size:13px; margin:6px 0; }
.case-tools button, button.case-open { font:inherit; font-size:12.5px; border:1px solid var(--line);
  background:var(--card);
  color:var(--accent); border-radius:6px; padding:2px 8px; cursor:pointer; }
.scroll.cases { max-height:360px; overflow:auto; }
table.case-table { border-collapse:collapse; font-variant-numeric:tabular-nums; font-size:12.5px; }
table.case-table th, table.case-table td { padding:3px 8px; border-bottom:1px solid var(--line); text-align:right;
  white-space:nowrap; }
table.case-table th { position:sticky; top:0; background:var(--card); }
table.case-table td:first-child, table.case-table th:first-child { text-align:left; }
table.case-table tr.open td { background:rgba(0,114,178,.10); }
table.case-table td.pos { color:#006e50; font-weight:600; }
table.case-table td.neg { color:#b03a00; font-weight:600; }
.case-detail { border:1px solid var(--line); border-radius:10px; padding:10px 12px; margin-top:10px; }
.case-detail h4 { margin:0 0 6px; }
.case-detail .context p { margin:4px 0; }
.sides { display:grid; grid-template-columns:repeat(auto-fit,minmax(min(320px,100%),1fr)); gap:10px; }
.side { border-top:3px solid var(--line); padding-top:6px; min-width:0; overflow-wrap:anywhere; }
.side[hidden] { display:none; }
.side h5 { margin:0 0 4px; font-size:13.5px; }
.case-scores { display:flex; flex-wrap:wrap; gap:2px 12px; margin:0 0 6px; font-size:12px; }
.case-scores span { white-space:nowrap; color:var(--muted); } .case-scores b { color:var(--ink); }
.side .note { color:var(--muted); font-size:12.5px; }
.pred, .ref { background:var(--code); border-radius:6px; padding:6px 8px; margin:4px 0; white-space:pre-wrap; }
ol.sents { list-style:none; padding:0; margin:4px 0; font-size:13px; }
ol.sents li { padding:2px 6px; border-left:4px solid transparent; margin:1px 0; }
ol.sents .sym { display:inline-block; width:1.3em; font-weight:700; }
ol.sents .sid { color:var(--muted); margin-right:6px; font-variant-numeric:tabular-nums; }
.mark-both { border-color:#009E73 !important; background:rgba(0,158,115,.12); }
.mark-both .sym { color:#009E73; }
.mark-gold { border-color:#E69F00 !important; background:rgba(230,159,0,.14); }
.mark-gold .sym { color:#9a6a00; }
.mark-predicted { border-color:#D55E00 !important; background:rgba(213,94,0,.12); }
.mark-predicted .sym { color:#D55E00; }
.mark-none .sym { color:var(--muted); }
.supp { font-size:11px; color:var(--muted); margin-left:6px; }
.legend { font-size:12.5px; color:var(--muted); display:flex; flex-wrap:wrap; gap:4px 14px; margin-top:8px; }
.legend span { padding:0 6px; border-left:4px solid transparent; }
ul.links { list-style:none; padding:0; margin:2px 0 8px 1.5em; display:flex; flex-wrap:wrap; gap:4px; }
ul.links li { padding:0 6px; border-left:4px solid transparent; font-size:12.5px; }
@media (max-width:640px) {
  header, .banner { padding-left:14px; padding-right:14px; }
  nav { padding:10px 14px 0; } main { padding:6px 10px 30px; } footer { padding:0 14px 24px; }
  section.board, section.systems { padding:12px 10px; }
  table.scores td.sys { white-space:normal; min-width:10em; }
  table.scores th, table.scores td { padding:6px 6px; }
  dl.sigs { grid-template-columns:minmax(0,1fr); }
}
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
        rows.forEach(function (r) { body.appendChild(r); });
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
  document.querySelectorAll('.cases-block').forEach(function (block) {
    var selA = block.querySelector('select.pick-a');
    var selB = block.querySelector('select.pick-b');
    var table = block.querySelector('table.case-table');
    var body = table.tBodies[0];
    function value(tr, id) {
      var td = tr.querySelector('td[data-entry="' + id + '"]');
      var v = td ? td.getAttribute('data-value') : null;
      return v === null || v === '' ? null : parseFloat(v);
    }
    function update() {
      var a = selA.value, b = selB.value;
      Array.prototype.forEach.call(body.rows, function (tr) {
        var x = value(tr, a), y = value(tr, b), cell = tr.querySelector('td.diff');
        if (x === null || y === null) {
          cell.textContent = '—'; cell.removeAttribute('data-value'); cell.className = 'diff'; return;
        }
        var d = x - y;
        cell.textContent = (d > 0 ? '+' : '') + d.toFixed(2);
        cell.setAttribute('data-value', d);
        cell.className = 'diff' + (d > 0 ? ' pos' : d < 0 ? ' neg' : '');
      });
      block.querySelectorAll('.side[data-entry]').forEach(function (side) {
        var id = side.getAttribute('data-entry');
        side.hidden = id !== a && id !== b;
      });
    }
    function sortBy(key) {
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (r, s) {
        if (key === 'case') {
          return parseInt(r.getAttribute('data-order'), 10) - parseInt(s.getAttribute('data-order'), 10);
        }
        var x = r.querySelector('td.diff').getAttribute('data-value');
        var y = s.querySelector('td.diff').getAttribute('data-value');
        if (x === null && y === null) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return parseFloat(y) - parseFloat(x);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    }
    function open(caseId) {
      block.querySelectorAll('.case-detail').forEach(function (d) {
        d.hidden = d.getAttribute('data-case') !== caseId;
        if (!d.hidden) { d.scrollIntoView({block: 'nearest'}); }
      });
      Array.prototype.forEach.call(body.rows, function (tr) {
        var on = tr.getAttribute('data-case') === caseId;
        tr.classList.toggle('open', on);
        tr.querySelector('button.case-open').setAttribute('aria-expanded', on ? 'true' : 'false');
      });
    }
    selA.addEventListener('change', update);
    selB.addEventListener('change', update);
    block.querySelector('button.sort-diff').addEventListener('click', function () { sortBy('diff'); });
    block.querySelector('button.sort-case').addEventListener('click', function () { sortBy('case'); });
    block.querySelectorAll('button.case-open').forEach(function (btn) {
      btn.addEventListener('click', function () { open(btn.getAttribute('data-case')); });
    });
    update();
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
<title>ArchEHR-QA leaderboard{{ ' · synthetic data' if banner.only_synthetic else '' }}</title>
<style>{{ css }}</style>
</head>
<body>
{% if banner.credentialed %}<div class="banner credentialed" id="credentialed">This page contains credentialed
ArchEHR-QA case text (PhysioNet, MIMIC-derived): do not share, upload or publish it.</div>{% endif %}
<header>
  <h1>ArchEHR-QA leaderboard{% if banner.only_synthetic %} · synthetic data{% endif %}</h1>
  <p>{{ entry_count }} score report{{ '' if entry_count == 1 else 's' }} in {{ tables|length }} comparable
  table{{ '' if tables|length == 1 else 's' }} · generated {{ generated_at }} by archehr-harness {{ harness_version }}
  · numbers share a column only when split, case ids, key and metric signature agree</p>
</header>
{% if tables %}<div class="banner {{ 'synthetic' if banner.synthetic else 'user' }}" id="provenance">
  {% if banner.only_synthetic %}<p><strong>Synthetic data.</strong> Every table is scored on the bundled synthetic
  dataset (recognised by its answer-key hash): these are not ArchEHR-QA results.</p>
  {% else %}<p><strong>Data:</strong>
  {% if banner.synthetic %}{{ banner.synthetic }} table{{ '' if banner.synthetic == 1 else 's' }} on the bundled
  synthetic dataset (not ArchEHR-QA results){% endif %}
  {% if banner.user %}{{ ' · ' if banner.synthetic else '' }}{{ banner.user }} on user data (split and key hash
  per row){% endif %}
  {% if banner.unverified %}{{ ' · ' if banner.synthetic or banner.user else '' }}{{ banner.unverified }} whose key
  matched no data given (<code>--data DIR</code>){% endif %}.</p>{% endif %}
  {% if banner.stand_ins or banner.partial %}<p class="caveat">
  {% if banner.stand_ins %}{{ banner.stand_ins }} row{{ '' if banner.stand_ins == 1 else 's' }} use stand-in
  metrics (not comparable with official scores){% endif %}{% if banner.stand_ins and banner.partial %} · {% endif %}
  {% if banner.partial %}{{ banner.partial }} row{{ '' if banner.partial == 1 else 's' }} partial (a component
  did not run){% endif %}.</p>{% endif %}
  {% if banner.text_hidden %}<p>Case text of user data is not on this page (ids, scores and predictions only);
  <code>leaderboard html --data DIR --include-case-text</code> adds it, and the page must then not be shared.</p>
  {% endif %}
</div>
<nav>{% for t in tables %}<a href="#{{ t.id }}">{{ t.title }} · {{ t.split }}
{%- if t.apart_reason %} ({{ t.n_cases }} case{{ "" if t.n_cases == 1 else "s" }}){% endif %}</a>{% endfor %}
{% for b in bias %}<a href="#{{ b.id }}">{{ b.title }}</a>{% endfor %}
<a href="#systems">Systems</a></nav>
{% endif %}
<main>
{% if not tables and not bias %}<section class="board empty">The leaderboard is empty: add score reports with
<code>archehr leaderboard add REPORT.json</code>.</section>{% endif %}
{% for t in tables %}
<section class="board" id="{{ t.id }}">
  <h2>{{ t.title }}</h2>
  <div class="meta"><span class="tag {{ t.provenance.kind }}" title="{{ t.provenance.title }}">
  {{- t.provenance.label }}</span>
  <span>split <code>{{ t.split }}</code></span><span>{{ t.case_summary }}</span>
  <span>key <code title="{{ t.key_hash }}">{{ t.key_short }}</code></span>
  <span>{{ t.rows|length }} entr{{ 'y' if t.rows|length == 1 else 'ies' }}</span></div>
  {% if t.apart_reason %}<p class="apart">Shown apart: {{ t.apart_reason }}</p>{% endif %}
  {% if t.secondary_count %}<input type="checkbox" class="more" id="more-{{ t.id }}">
  <label class="more" for="more-{{ t.id }}">show all {{ t.columns|length }} metrics
    ({{ t.secondary_count }} more)</label>{% endif %}
  <div class="scroll"><table class="scores">
    <thead><tr><th class="rank" title="rank cluster: entries not significantly different share a rank">#</th>
    <th class="sys">System</th>
    {% for c in t.columns %}<th data-col="{{ c.id }}" data-higher="{{ 1 if c.higher_is_better else 0 }}"
      class="{{ '' if c.primary else 'secondary' }}{{ ' partial' if c.partial else '' }}"
      title="{{ c.signature }}{% if c.note %} — {{ c.note }}{% endif %}">{{ c.label }}
      <span class="arrow">{{ c.arrow }}</span></th>
      {% if t.sig and c.id == t.sig.column.id %}<th class="ci" title="{{ (t.sig.confidence * 100)|round|int }}%
      percentile bootstrap interval over cases">{{ (t.sig.confidence * 100)|round|int }}% CI</th>
      <th class="p" title="paired bootstrap, two-sided, against the best entry">p vs best</th>{% endif %}
    {% endfor %}</tr></thead>
    <tbody>
    {% for r in t.rows %}<tr{% if r.sig and r.sig.cluster and loop.index > 1 and r.sig.cluster == loop.index %}
      class="cluster-start"{% endif %}>
      <td class="rank">{{ r.sig.cluster if r.sig and r.sig.cluster else ('–' if t.sig else loop.index) }}</td>
      <td class="sys"><span class="swatch" style="background:{{ r.color }}"></span><a href="#{{ r.card_anchor }}"
        title="{{ r.entry.fingerprint or '' }}">{{ r.entry.system }}</a><span class="id">#{{ r.entry.id }}</span>
        {% for flag in r.flags %}<span class="tag {{ flag.kind }}" title="{{ flag.title }}">{{ flag.text }}</span>
        {%- endfor %}</td>
      {% for cell in r.cells %}<td data-col="{{ cell.column.id }}" data-value="{{ cell.raw }}"
        class="{{ cell.css }}"
        {% if cell.title %}title="{{ cell.title }}"{% endif %}>{{ cell.text }}</td>
        {% if t.sig and cell.column.id == t.sig.column.id %}<td class="ci">{{ r.sig.ci if r.sig else '' }}</td>
        <td class="p">{{ r.sig.p if r.sig else '' }}</td>{% endif %}{% endfor %}
    </tr>{% endfor %}
    {% for ref in t.references %}<tr class="reference">
      <td class="rank">—</td>
      <td class="sys">{{ ref.row.label }}<span class="tag" title="{{ ref.row.source }}">published, not reproduced
      here</span></td>
      {% for c in t.columns %}{% set v = ref.cells[loop.index0] %}<td data-col="{{ c.id }}"
        data-value="{{ '' if v is none else v }}" class="{{ '' if c.primary else 'secondary' }}">
        {{- '' if v is none else '%.2f'|format(v) }}</td>
        {% if t.sig and c.id == t.sig.column.id %}<td class="ci"></td><td class="p"></td>{% endif %}{% endfor %}
    </tr>{% endfor %}
    </tbody>
  </table></div>
  {% if t.sig %}<p class="meta">Ranks are significance clusters: an entry shares the rank of the best entry of
  its cluster unless a paired bootstrap on {{ t.sig.column.label }} finds it different (p &lt; {{ t.sig.alpha }});
  {{ t.sig.resamples }} resamples, seed {{ t.sig.seed }}.
  {%- if t.sig.note %} No interval: {{ t.sig.note }}{% endif %}</p>{% endif %}
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
  {% if t.cases.rows %}
  <h3>Cases</h3>
  <div class="cases-block" id="cases-{{ t.id }}">
  <div class="case-tools">
    <label>A <select class="pick-a">{% for e in t.cases.entries %}<option value="{{ e.id }}"
      {% if loop.first %}selected{% endif %}>{{ e.label }}</option>{% endfor %}</select></label>
    <label>B <select class="pick-b">{% for e in t.cases.entries %}<option value="{{ e.id }}"
      {% if loop.index == 2 or (loop.first and loop.length == 1) %}selected{% endif %}>{{ e.label }}</option>
      {% endfor %}</select></label>
    <button type="button" class="sort-diff">sort by A − B</button>
    <button type="button" class="sort-case">sort by case</button>
    <span class="meta">{{ t.cases.metric }} per case · open a case to see both entries on it</span>
  </div>
  <div class="scroll cases"><table class="case-table">
    <thead><tr><th>case</th>{% for e in t.cases.entries %}<th><span class="swatch" style="background:{{ e.color }}">
    </span>{{ e.label }}</th>{% endfor %}<th>A − B</th></tr></thead>
    <tbody>{% for row in t.cases.rows %}<tr data-case="{{ row.case_id }}" data-order="{{ loop.index }}">
      <td><button type="button" class="case-open" data-case="{{ row.case_id }}" aria-expanded="false">case
      {{ row.case_id }}</button></td>
      {% for v in row.cells %}<td data-entry="{{ v.entry_id }}" data-value="{{ '' if v.value is none else v.value }}">
      {{- '—' if v.value is none else '%.2f'|format(v.value) }}</td>{% endfor %}<td class="diff">—</td></tr>
    {% endfor %}</tbody></table></div>
  {% if t.cases.has_marks %}<div class="legend">{% for key, m in marks.items() if key != 'none' %}
    <span class="mark-{{ key }}">{{ m[0] }}
    {{ m[1] }}</span>{% endfor %}</div>{% endif %}
  {% for v in t.cases.views %}<article class="case-detail" data-case="{{ v.case_id }}" hidden>
    <h4>Case {{ v.case_id }}</h4>
    {% for what, text in v.context if what != 'reference' %}<div class="context"><p><strong>{{ what }}</strong>:
      {{ text }}</p></div>{% endfor %}
    {% if not t.provenance.show_text %}<p class="meta">Case text hidden (credentialed data): ids, scores and
    predictions only.</p>{% endif %}
    <div class="sides">
    {% for what, text in v.context if what == 'reference' %}<div class="side reference-side"><h5>Reference</h5>
      <div class="ref">{{ text }}</div></div>{% endfor %}
    {% for s in v.sides %}<div class="side" data-entry="{{ s.entry_id }}" style="border-top-color:{{ s.color }}">
      <h5>{{ s.label }}</h5>
      {% if s.scores %}<div class="case-scores">{% for label, value in s.scores %}<span>{{ label }}
        <b>{{ value }}</b></span>{% endfor %}</div>{% endif %}
      {% if s.note %}<p class="note">{{ s.note }}</p>{% endif %}
      {% if s.prediction_text is not none %}<div class="pred">{{ s.prediction_text }}</div>{% endif %}
      {% if s.sentences %}<ol class="sents">{% for x in s.sentences %}<li class="mark-{{ x.mark }}"
        title="{{ x.words }}"><span class="sym" aria-label="{{ x.words }}">{{ x.symbol }}</span><span
        class="sid">{{ x.id }}</span>{{ x.text or '' }}{% if x.supplementary %}<span class="supp">supplementary</span>
        {%- endif %}</li>{% endfor %}</ol>{% endif %}
      {% if s.answers %}<ol class="sents answers">{% for a in s.answers %}<li><span class="sid">{{ a.id }}</span>
        {{- a.text or '' }}{% if a.links %}<ul class="links">{% for x in a.links %}<li class="mark-{{ x.mark }}"
        title="{{ x.words }}"><span class="sym">{{ x.symbol }}</span>{{ x.id }}</li>{% endfor %}</ul>
        {% else %}<ul class="links"><li class="mark-none">no links</li></ul>{% endif %}</li>{% endfor %}</ol>
      {% endif %}
    </div>{% endfor %}
    </div>
  </article>{% endfor %}
  </div>
  {% endif %}
  <h3>Signatures</h3>
  <dl class="sigs">{% for g in t.signatures %}<dt>{{ g.labels|join(', ') }}</dt><dd><code>{{ g.signature }}</code>
    {% for n in g.notes %}<div class="note">{{ n }}</div>{% endfor %}</dd>{% endfor %}
    {% if t.sig %}<dt>significance</dt><dd><code>{{ t.sig.signature }}</code></dd>{% endif %}</dl>
</section>
{% endfor %}
{% for b in bias %}
<section class="board bias" id="{{ b.id }}">
  <h2>{{ b.title }}</h2>
  <p class="meta">Never official, never ranked: the same judge grades the same answers blind and non-blind (told
  which system wrote each). Judge mean in percent; the difference with its paired bootstrap interval over cases;
  self − others: the judge's own system's difference minus the other systems' mean difference.</p>
  {% for e in b.experiments %}
  <h3>Experiment #{{ e.id }}</h3>
  <div class="meta"><span class="tag" title="an LLM judge's verdicts: not an official metric">not official</span>
  <span>split <code>{{ e.split }}</code></span><span>{{ e.n_cases }} case{{ '' if e.n_cases == 1 else 's' }}
  ({{ e.case_summary }})</span>
  <span>judge <code class="judge-signature" title="{{ e.judge }}">{{ e.judge_short }}</code></span>
  {% if e.added_at %}<span>added {{ e.added_at }}</span>{% endif %}</div>
  <div class="scroll"><table class="scores bias-table">
    <thead><tr><th class="sys">System</th><th>Blind</th><th>Non-blind</th><th>Non-blind − blind</th>
    <th class="ci">{{ e.confidence }} CI</th><th class="p">p</th><th>Cases</th><th>Dropped</th></tr></thead>
    <tbody>{% for r in e.rows + ([e.self] if e.self else []) %}
    <tr{% if r.others %} class="self-minus-others"{% endif %}>
      <td class="sys">{{ r.system }}{% if r.is_judge %}<span class="tag"
        title="the system the judge counts as itself">{{ judge_tag }}</span>{% endif %}
        {%- if r.others %}<span class="id">vs {{ r.others }}</span>{% endif %}</td>
      <td>{{ '' if r.others else r.blind }}</td><td>{{ '' if r.others else r.non_blind }}</td>
      <td data-value="{{ r.delta_raw }}"><strong>{{ r.delta }}</strong></td><td class="ci">{{ r.ci }}</td>
      <td class="p">{{ r.p }}</td><td>{{ r.n_cases }}</td><td>{{ r.dropped }}</td></tr>
    {% endfor %}</tbody>
  </table></div>
  <dl class="sigs"><dt>judge (blind)</dt><dd><code>{{ e.judge }}</code></dd>
    <dt>judge (non-blind)</dt><dd><code>{{ e.judge_non_blind }}</code></dd></dl>
  {% endfor %}
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
    </table>
    <div class="scroll"><table class="scores per-system">
      <thead><tr><th class="sys">task</th><th class="sys">data</th><th>score</th><th>CI</th><th>rank</th></tr></thead>
      <tbody>{% for e in s.entries %}<tr><td class="sys"><a href="{{ e.href }}">{{ e.task }}</a>
        <span class="id">#{{ e.entry_id }} · {{ e.split }}</span></td><td class="sys">{{ e.data }}</td>
        <td title="{{ e.metric }}">{{ e.value }}</td><td class="ci">{{ e.ci }}</td><td>{{ e.cluster }}</td></tr>
      {% endfor %}</tbody></table></div>
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
