"""Parts of the page against hand-worked values: per-case F1 from pooled counts, axes on the metric's own scale,
the palette, one line per distinct signature."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from leaderboard.cases import per_case_values
from leaderboard.comparability import build_tables
from leaderboard.records import MetricResult
from leaderboard.render_html import render_page
from leaderboard.svg import PALETTE, Bar, bar_chart

EVIDENCE_SIG = "evidence-2026-subtask2|strict:essential|micro:both-empty-1,zero-div-0|harness:0.1"


def test_per_case_f1_from_counts(entry_factory):
    entry = entry_factory("a").with_id(1, "t")
    counts = {"121": (2.0, 3.0, 4.0), "122": (0.0, 0.0, 0.0), "123": (0.0, 2.0, 0.0)}
    metric = MetricResult("strict_micro_f1", EVIDENCE_SIG, 40.0, per_case=counts, aggregation="micro_f1")
    entry = replace(entry, metrics={**entry.metrics, "strict_micro_f1": metric})
    table = build_tables([entry])[0]
    column = next(c for c in table.columns if c.key == "strict_micro_f1")
    values = per_case_values(table.rows[0], column)
    # 2 tp of 3 predicted and 4 gold: 2*2/(3+4); nothing predicted or gold: 1 under "both-empty-1"; no tp: 0
    assert values == pytest.approx({"121": 400 / 7, "122": 100.0, "123": 0.0})
    plain = replace(metric, signature="evidence|micro:zero-div-0")
    entry = replace(entry, metrics={**entry.metrics, "strict_micro_f1": plain})
    table = build_tables([entry])[0]
    assert (
        per_case_values(table.rows[0], table.columns[[c.key for c in table.columns].index("strict_micro_f1")])["122"]
        == 0.0
    )


def _ticks(svg: str) -> list[str]:
    return re.findall(r'class="tick"[^>]*>([^<]*)<', svg)


def test_axes_use_the_metric_scale(entry_factory):
    entry = entry_factory("a").with_id(1, "t")
    zeros = {c: 0.0 for c in entry.case_ids}
    medcon = replace(entry.metrics["medcon"], value=0.0, per_case=zeros)
    entry = replace(entry, metrics={**entry.metrics, "medcon": medcon})
    html = render_page(build_tables([entry, entry_factory("b", seed=4).with_id(2, "t")]))
    chart = re.search(r'<svg class="chart bar-chart"[^>]*aria-label="MEDCON"[^>]*>.*?</svg>', html, re.S)
    assert chart is not None
    assert _ticks(chart.group(0))[0] == "0" and _ticks(chart.group(0))[-1] == "100"  # 0-100, as the column
    assert _ticks(bar_chart("x", [Bar("a", 0.2, "#000")], domain=(0.0, 1.0)))[-1] == "1"
    assert _ticks(bar_chart("x", [Bar("a", 0.2, "#000")]))[-1] != "100"  # no scale given: fitted to the values


def test_palette_hues_are_distinct():
    def hue(color: str) -> float:
        r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
        hi, lo = max(r, g, b), min(r, g, b)
        if hi == lo:
            return -1.0
        if hi == r:
            return (60 * (g - b) / (hi - lo)) % 360
        if hi == g:
            return 60 * (b - r) / (hi - lo) + 120
        return 60 * (r - g) / (hi - lo) + 240

    first = [hue(c) for c in PALETTE[:5]]
    gaps = [min(abs(a - b), 360 - abs(a - b)) for i, a in enumerate(first) for b in first[i + 1 :]]
    # the five systems of a typical board: no two blues (0° apart); orange and vermillion are the closest (15°)
    assert min(gaps) >= 12


def test_each_signature_printed_once(entry_factory):
    html = render_page(build_tables([entry_factory("a").with_id(1, "t"), entry_factory("b", seed=2).with_id(2, "t")]))
    section = html[html.index('<dl class="sigs">') : html.index("</dl>", html.index('<dl class="sigs">'))]
    codes = re.findall(r"<code>([^<]*)</code>", section)
    assert len(codes) == len(set(codes))
