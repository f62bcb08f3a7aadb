"""Inline SVG charts drawn in Python: bar charts of a metric and per-case box/strip plots.

No JavaScript and no external resource is needed to show them. Every piece of text goes through
:func:`html.escape`; the functions return :class:`markupsafe.Markup` so templates insert them as is.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from markupsafe import Markup

#: Colour-blind-safe palette (Okabe-Ito, without black), cycled over systems: the distinct hues first (blue,
#: orange, green, purple, vermillion), then the sky blue, grey and yellow that are closer to one of them.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#999999", "#F0E442")

_LABEL_W = 190
_VALUE_W = 56
_ROW_H = 22
_PAD = 8
_AXIS_H = 22
_FONT = "font-family:inherit"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    color: str
    best: bool = False
    note: str | None = None  # tooltip, e.g. why the value is missing
    interval: tuple[float, float] | None = None  # a confidence interval, drawn as a whisker


@dataclass(frozen=True)
class Distribution:
    label: str
    values: dict[str, float]  # case id → value
    color: str


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def _truncate(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nice_domain(values: Sequence[float], *, floor_zero: bool = True) -> tuple[float, float]:
    """A readable axis range covering ``values`` (and 0), rounded outwards to 'nice' steps."""
    lo = min([*values, 0.0] if floor_zero else values, default=0.0)
    hi = max([*values, 0.0] if floor_zero else values, default=1.0)
    if hi - lo < 1e-9:
        hi = lo + 1.0
    step = _nice_step((hi - lo) / 5)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step((hi - lo) / 5)
    count = round((hi - lo) / step)
    return [lo + i * step for i in range(count + 1)]


def _fmt_tick(v: float) -> str:
    return f"{v:g}"


def _axis(x0: float, width: float, lo: float, hi: float, top: float, bottom: float) -> list[str]:
    out = []
    for tick in _ticks(lo, hi):
        x = x0 + (tick - lo) / (hi - lo) * width
        out.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}"/>')
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 14:.1f}" text-anchor="middle" style="{_FONT}">'
            f"{_t(_fmt_tick(tick))}</text>"
        )
    return out


def _line(x1: float, x2: float, y1: float, y2: float, color: str) -> str:
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{color}"/>'


def _scale_domain(values: Sequence[float], domain: tuple[float, float] | None) -> tuple[float, float]:
    """``domain`` (the metric's own scale) when given, else a nice range around ``values``."""
    if domain is None or domain[1] - domain[0] < 1e-9:
        return nice_domain(values)
    return domain


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    *,
    arrow: str = "↑",
    width: int = 460,
    domain: tuple[float, float] | None = None,
) -> Markup:
    """Horizontal bars, one per system, from zero on the axis ``domain`` (the metric's scale); the best bar is
    outlined and its value bold; a bar's interval, when given, is drawn as a whisker."""
    values = [b.value for b in bars if b.value is not None]
    values += [v for b in bars if b.interval for v in b.interval]
    lo, hi = _scale_domain(values, domain)
    plot_w = width - _LABEL_W - _VALUE_W - 2 * _PAD
    x0 = _LABEL_W + _PAD
    top = 4
    height = top + len(bars) * _ROW_H + _AXIS_H

    def x_of(v: float) -> float:
        return x0 + (v - lo) / (hi - lo) * plot_w

    parts = [
        f'<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_t(title)}">',
        f"<title>{_t(title)} {_t(arrow)}</title>",
        *_axis(x0, plot_w, lo, hi, top, top + len(bars) * _ROW_H),
    ]
    zero = x_of(0.0)
    for i, bar in enumerate(bars):
        y = top + i * _ROW_H
        tip = f"{bar.label}: {'—' if bar.value is None else f'{bar.value:.2f}'}"
        tip += f" ({bar.note})" if bar.note else ""
        parts.append(f'<g class="bar{" best" if bar.best else ""}"><title>{_t(tip)}</title>')
        parts.append(
            f'<text class="label" x="{_LABEL_W:.1f}" y="{y + _ROW_H / 2 + 4:.1f}" text-anchor="end" '
            f'style="{_FONT}">{_t(_truncate(bar.label))}</text>'
        )
        if bar.value is None:
            parts.append(
                f'<text class="missing" x="{zero + 4:.1f}" y="{y + _ROW_H / 2 + 4:.1f}" style="{_FONT}">n/a</text>'
            )
        else:
            left, right = sorted((zero, x_of(bar.value)))
            stroke = ' stroke="currentColor" stroke-width="1.5"' if bar.best else ""
            parts.append(
                f'<rect x="{left:.1f}" y="{y + 3:.1f}" width="{max(right - left, 0.5):.1f}" height="{_ROW_H - 6}" '
                f'rx="2" fill="{_t(bar.color)}"{stroke}/>'
            )
            if bar.interval is not None:
                low, high = (x_of(v) for v in bar.interval)
                mid = y + _ROW_H / 2
                tip = f"{bar.label}: interval {bar.interval[0]:.2f}-{bar.interval[1]:.2f}"
                ink = "currentColor"
                parts.append(
                    f'<g class="ci"><title>{_t(tip)}</title>{_line(low, high, mid, mid, ink)}'
                    f"{_line(low, low, mid - 4, mid + 4, ink)}{_line(high, high, mid - 4, mid + 4, ink)}</g>"
                )
            weight = "700" if bar.best else "400"
            parts.append(
                f'<text class="value" x="{x0 + plot_w + 6:.1f}" y="{y + _ROW_H / 2 + 4:.1f}" '
                f'style="{_FONT};font-weight:{weight}">{_t(f"{bar.value:.2f}")}{" ★" if bar.best else ""}</text>'
            )
        parts.append("</g>")
    parts.append(f'<line class="zero" x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{top + len(bars) * _ROW_H}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _jitter(case_id: str, label: str) -> float:
    """A deterministic vertical offset in [-1, 1] per (system, case): the same page on every render."""
    digest = hashlib.sha256(f"{label}\x00{case_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**31 - 1.0


def box_strip_plot(
    title: str, rows: Sequence[Distribution], *, width: int = 760, domain: tuple[float, float] | None = None
) -> Markup:
    """Per system: a box (quartiles, median, whiskers at 1.5 IQR), the mean (◆) and one dot per case, on the
    axis ``domain`` (the metric's scale)."""
    row_h = 34
    all_values = [v for r in rows for v in r.values.values()]
    lo, hi = _scale_domain(all_values, domain)
    plot_w = width - _LABEL_W - 2 * _PAD - 70
    x0 = _LABEL_W + _PAD
    top = 4
    height = top + len(rows) * row_h + _AXIS_H

    def x_of(v: float) -> float:
        return x0 + (v - lo) / (hi - lo) * plot_w

    parts = [
        f'<svg class="chart dist-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_t(title)}">',
        f"<title>{_t(title)}</title>",
        *_axis(x0, plot_w, lo, hi, top, top + len(rows) * row_h),
    ]
    for i, row in enumerate(rows):
        cy = top + i * row_h + row_h / 2
        parts.append(
            f'<text class="label" x="{_LABEL_W:.1f}" y="{cy + 4:.1f}" text-anchor="end" style="{_FONT}">'
            f"<title>{_t(row.label)}</title>{_t(_truncate(row.label))}</text>"
        )
        if not row.values:
            parts.append(
                f'<text class="missing" x="{x0 + 4:.1f}" y="{cy + 4:.1f}" style="{_FONT}">no per-case values</text>'
            )
            continue
        data = np.array(list(row.values.values()), dtype=float)
        q1, median, q3 = (float(q) for q in np.quantile(data, [0.25, 0.5, 0.75]))
        iqr = q3 - q1
        low = float(data[data >= q1 - 1.5 * iqr].min())
        high = float(data[data <= q3 + 1.5 * iqr].max())
        mean = float(data.mean())
        color = _t(row.color)
        summary = (
            f"{row.label}: n={data.size}, mean {mean:.2f}, median {median:.2f}, "
            f"IQR {q1:.2f}-{q3:.2f}, whiskers {low:.2f}-{high:.2f}"
        )
        parts.append(f'<g class="box"><title>{_t(summary)}</title>')
        parts.append(_line(x_of(low), x_of(high), cy, cy, color))
        parts.extend(_line(x_of(w), x_of(w), cy - 6, cy + 6, color) for w in (low, high))
        parts.append(
            f'<rect x="{x_of(q1):.1f}" y="{cy - 10:.1f}" width="{max(x_of(q3) - x_of(q1), 1):.1f}" height="20" '
            f'fill="{color}" fill-opacity="0.18" stroke="{color}"/>'
        )
        parts.append(
            f'<line x1="{x_of(median):.1f}" x2="{x_of(median):.1f}" y1="{cy - 10:.1f}" y2="{cy + 10:.1f}" '
            f'stroke="{color}" stroke-width="2.5"/>'
        )
        parts.append("</g>")
        for case_id, value in row.values.items():
            cx, jy = x_of(value), cy + _jitter(case_id, row.label) * 9
            parts.append(
                f'<circle class="dot" cx="{cx:.1f}" cy="{jy:.1f}" r="2.6" fill="{color}" fill-opacity="0.75">'
                f"<title>{_t(f'{row.label} · case {case_id}: {value:.2f}')}</title></circle>"
            )
        mx = x_of(mean)
        parts.append(
            f'<path class="mean" d="M{mx:.1f},{cy - 6:.1f} L{mx + 5:.1f},{cy:.1f} L{mx:.1f},{cy + 6:.1f} '
            f'L{mx - 5:.1f},{cy:.1f} Z" fill="white" stroke="{color}" stroke-width="1.5">'
            f"<title>{_t(f'{row.label}: mean {mean:.2f}')}</title></path>"
        )
        parts.append(
            f'<text class="value" x="{x0 + plot_w + 8:.1f}" y="{cy + 4:.1f}" style="{_FONT}">'
            f"{_t(f'μ {mean:.2f}')}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
