"""The static HTML page: one table per comparable group, bar charts, per-case distributions, system cards
and signatures, in one self-contained file (inline CSS, JS and SVG; nothing fetched to view it).

All report text reaches the page through Jinja2's autoescaping or :func:`html.escape` in :mod:`leaderboard.svg`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from harness import __version__
from harness.atomic import atomic_write_text
from leaderboard.comparability import Column, Row, Table
from leaderboard.formatting import format_value, short_hash
from leaderboard.html_template import CSS, JS, PAGE
from leaderboard.records import MetricResult
from leaderboard.schema import task_name
from leaderboard.svg import PALETTE, Bar, Distribution, bar_chart, box_strip_plot

logger = logging.getLogger(__name__)

PAGE_FILE = "index.html"

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_TEMPLATE = _ENV.from_string(PAGE)


@dataclass(frozen=True)
class _Cell:
    column: Column
    text: str
    raw: str  # the value for sorting ("" when missing)
    best: bool
    title: str | None

    @property
    def css(self) -> str:
        classes = ["best"] if self.best else []
        classes += ["na"] if not self.raw else []
        classes += [] if self.column.primary else ["secondary"]
        return " ".join(classes)


def _system_key(row: Row) -> str:
    return row.entry.fingerprint or f"name:{row.entry.system}"


def _anchor(key: str) -> str:
    return "sys-" + re.sub(r"[^a-zA-Z0-9_-]+", "-", key)[:60]


def _colors(tables: Sequence[Table]) -> dict[str, str]:
    """One colour per system (fingerprint), stable across the page."""
    colors: dict[str, str] = {}
    for t in tables:
        for r in t.rows:
            colors.setdefault(_system_key(r), PALETTE[len(colors) % len(PALETTE)])
    return colors


def _cells(table: Table, row: Row) -> list[_Cell]:
    cells = []
    for c in table.columns:
        value = row.values.get(c.id)
        reason = row.unavailable.get(c.key) if value is None else None
        text = "n/a" if reason else format_value(value)
        title = f"unavailable: {reason}" if reason else (c.note if value is not None and c.partial else None)
        best = c.is_best(value) and len(table.rows) > 1
        cells.append(_Cell(c, text, "" if value is None else repr(value), best, title))
    return cells


def _flags(row: Row) -> list[dict[str, str]]:
    flags = []
    if row.entry.partial:
        missing = ", ".join(row.entry.missing) or "some components"
        flags.append({"text": "partial", "title": f"overall score computed without {missing}"})
    if row.entry.lexical_only:
        flags.append({"text": "lexical only", "title": "neural and concept metrics were not run"})
    if row.entry.stand_ins:
        flags.append(
            {"text": "stand-ins", "title": f"not comparable with official scores: {', '.join(row.entry.stand_ins)}"}
        )
    return flags


def _table_context(table: Table, colors: dict[str, str]) -> dict[str, Any]:
    rows = [
        {
            "entry": r.entry,
            "color": colors[_system_key(r)],
            "card_anchor": _anchor(_system_key(r)),
            "cells": _cells(table, r),
            "flags": _flags(r),
        }
        for r in table.rows
    ]
    bar_charts = []
    distributions = []
    for c in table.columns:
        bars = [
            Bar(
                label=r.entry.label,
                value=r.values.get(c.id),
                color=colors[_system_key(r)],
                best=c.is_best(r.values.get(c.id)) and len(table.rows) > 1,
                note=r.unavailable.get(c.key),
            )
            for r in table.rows
        ]
        if any(b.value is not None for b in bars):
            svg = bar_chart(c.label, bars, arrow=c.arrow)
            bar_charts.append({"label": c.label, "arrow": c.arrow, "svg": svg, "primary": c.primary})
        dists = [
            Distribution(r.entry.label, per_case, colors[_system_key(r)])
            for r in table.rows
            if (per_case := _per_case(r, c))
        ]
        if dists:
            distributions.append({"column_id": c.id, "label": c.label, "svg": box_strip_plot(c.label, dists)})
    notes = [f"{key} unavailable for {', '.join(who)}: {reason}" for key, reason, who in table.unavailable()]
    return {
        "id": table.id,
        "title": table.title,
        "split": table.split,
        "n_cases": len(table.case_ids),
        "case_summary": table.case_summary,
        "key_hash": table.key_hash,
        "key_short": short_hash(table.key_hash, 12),
        "apart_reason": table.apart_reason,
        "secondary_count": sum(not c.primary for c in table.columns),
        "columns": table.columns,
        "rows": rows,
        "notes": notes,
        "bar_charts": bar_charts,
        "distributions": distributions,
    }


def _per_case(row: Row, column: Column) -> dict[str, float]:
    """The row's per-case values in ``column`` when they are plain scores (not pooled counts); for a combined
    key (an overall score) the per-case mean of its available components, whose mean is the shown value."""
    if column.id not in row.values:
        return {}
    metric = row.entry.metrics.get(column.key)
    if metric is None:
        return {}
    if metric.aggregation == "combined":
        parts = [_floats(row.entry.metrics.get(k)) for k in metric.components if k not in metric.missing]
        if not parts or not all(parts):
            return {}
        return {cid: sum(p[cid] for p in parts) / len(parts) for cid in parts[0]}
    return _floats(metric)


def _floats(metric: MetricResult | None) -> dict[str, float]:
    if metric is None or not metric.available or not metric.per_case or metric.aggregation != "mean":
        return {}
    return {cid: float(v) for cid, v in metric.per_case.items() if not isinstance(v, tuple)}


def _pretty(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str) if data else ""


def _systems_context(tables: Sequence[Table], colors: dict[str, str]) -> list[dict[str, Any]]:
    systems: dict[str, dict[str, Any]] = {}
    for t in tables:
        for r in t.rows:
            key = _system_key(r)
            card = dict(r.entry.card or {})
            info = systems.setdefault(
                key,
                {
                    "anchor": _anchor(key),
                    "color": colors[key],
                    "name": card.get("name") or r.entry.system,
                    "description": card.get("description"),
                    "version": card.get("version"),
                    "fingerprint": r.entry.fingerprint,
                    "subtasks": ", ".join(str(s) for s in card.get("subtasks", ())),
                    "config": _pretty(card.get("config")),
                    "components": _pretty(card.get("components")),
                    "run": _pretty(dict(r.entry.run)),
                    "entries": [],
                },
            )
            # The year is in the table's title: "subtask 3", "2025", "FHIR QA task 1".
            where = t.year if t.subtask is None else task_name(t.year, t.subtask).removeprefix(f"{t.year} ")
            info["entries"].append({"href": f"#{t.id}", "text": f"#{r.entry.id} {where}, {t.split}"})
    return list(systems.values())


def render_page(tables: Sequence[Table], *, entry_count: int | None = None) -> str:
    """The page's HTML."""
    colors = _colors(tables)
    return _TEMPLATE.render(
        css=Markup(CSS),
        js=Markup(JS),
        tables=[_table_context(t, colors) for t in tables],
        systems=_systems_context(tables, colors),
        entry_count=entry_count if entry_count is not None else sum(len(t.rows) for t in tables),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        harness_version=__version__,
    )


def write_page(tables: Sequence[Table], out_dir: str | Path) -> Path:
    """Write ``OUT_DIR/index.html`` atomically; returns its path."""
    path = atomic_write_text(Path(out_dir) / PAGE_FILE, render_page(tables))
    logger.info("wrote %s", path)
    return path
