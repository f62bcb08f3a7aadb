"""The static HTML page: provenance banner, one table per comparable group (with bootstrap intervals, p-values
against the best and significance clusters), bar charts on each metric's own scale, per-case distributions,
a per-case drill-down (scores of every entry, predictions against gold), system cards and signatures, in one
self-contained file (inline CSS, JS and SVG; nothing fetched to view it).

All report, prediction and case text reaches the page through Jinja2's autoescaping or :func:`html.escape` in
:mod:`leaderboard.svg`; the script reads only the DOM.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from harness import __version__
from harness.atomic import atomic_write_text
from harness.tasks import Task, UnknownTaskError, task_for
from leaderboard.bias import (
    JUDGE_TAG,
    BiasExperiment,
    BiasRow,
    bias_sections,
    format_delta,
    format_interval,
    format_p,
    short_signature,
)
from leaderboard.cases import MARKS, Provenance, ReferenceRow, case_views, per_case_values, table_provenance
from leaderboard.comparability import Column, Row, Table
from leaderboard.formatting import format_value, id_ranges, short_hash
from leaderboard.html_template import CSS, JS, PAGE
from leaderboard.schema import column_spec, task_name
from leaderboard.significance import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES, DEFAULT_SEED
from leaderboard.svg import PALETTE, Bar, Distribution, bar_chart, box_strip_plot
from leaderboard.table_significance import TableSignificance, table_significance

logger = logging.getLogger(__name__)

PAGE_FILE = "index.html"

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_TEMPLATE = _ENV.from_string(PAGE)


@dataclass(frozen=True)
class PageOptions:
    """What the page may show and how significance is computed."""

    data: str | Path | None = None  # a data folder: gold and case text of user-data tables
    include_case_text: bool = False  # show case text of user data (credentialed: the page must not be shared)
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    confidence: float = DEFAULT_CONFIDENCE
    alpha: float = 0.05
    #: Published figures shown as reference rows, per table id (see :class:`leaderboard.cases.ReferenceRow`).
    references: Mapping[str, Sequence[ReferenceRow]] = field(default_factory=dict)


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


def _flags(row: Row, provenance: Provenance) -> list[dict[str, str]]:
    flags = [{"text": provenance.tag, "title": provenance.title, "kind": provenance.kind}]
    if row.entry.partial:
        missing = ", ".join(row.entry.missing) or "some components"
        flags.append({"text": "partial", "title": f"overall score computed without {missing}", "kind": "warn"})
    if row.entry.lexical_only:
        flags.append({"text": "lexical only", "title": "neural and concept metrics were not run", "kind": "warn"})
    if row.entry.stand_ins:
        flags.append(
            {
                "text": "stand-ins",
                "title": f"not comparable with official scores: {', '.join(row.entry.stand_ins)}",
                "kind": "warn",
            }
        )
    return flags


def _task_of(table: Table) -> Task | None:
    try:
        return task_for(table.year, table.subtask)
    except UnknownTaskError:
        return None


def _domain(table: Table, column: Column, values: Sequence[float]) -> tuple[float, float]:
    """The metric's own scale (metric registry), widened only if a value falls outside it."""
    lo, hi = column_spec(_task_of(table), column.key).scale
    return min([lo, *values]), max([hi, *values])


def _signatures(columns: Sequence[Column]) -> list[dict[str, Any]]:
    """Each distinct signature once, with the columns that share it."""
    grouped: dict[str, dict[str, Any]] = {}
    for c in columns:
        item = grouped.setdefault(c.signature, {"signature": c.signature, "labels": [], "notes": []})
        item["labels"].append(c.label)
        if c.note and c.note not in item["notes"]:
            item["notes"].append(c.note)
    return list(grouped.values())


def _charts(table: Table, colors: dict[str, str], sig: TableSignificance | None) -> tuple[list, list]:
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
                interval=sig.interval_of(r.entry.id) if sig is not None and c.id == sig.column.id else None,
            )
            for r in table.rows
        ]
        values = [b.value for b in bars if b.value is not None]
        if values:
            svg = bar_chart(c.label, bars, arrow=c.arrow, domain=_domain(table, c, values))
            bar_charts.append({"label": c.label, "arrow": c.arrow, "svg": svg, "primary": c.primary})
        dists = [
            Distribution(r.entry.label, per_case, colors[_system_key(r)])
            for r in table.rows
            if (per_case := per_case_values(r, c))
        ]
        if dists:
            every = [v for d in dists for v in d.values.values()]
            svg = box_strip_plot(c.label, dists, domain=_domain(table, c, every))
            distributions.append({"column_id": c.id, "label": c.label, "svg": svg})
    return bar_charts, distributions


def _cases_context(
    table: Table, colors: dict[str, str], provenance: Provenance, sig: TableSignificance | None
) -> dict[str, Any]:
    entry_colors = {r.entry.id: colors[_system_key(r)] for r in table.rows}
    columns = [c for c in table.columns if any(per_case_values(r, c) for r in table.rows)]
    lead = sig.column if sig is not None else next(iter(columns), None)
    lead_values = {r.entry.id: per_case_values(r, lead) for r in table.rows} if lead is not None else {}
    views = case_views(table, provenance, entry_colors, columns)
    return {
        "metric": lead.label if lead is not None else None,
        "entries": [{"id": r.entry.id, "label": r.entry.label, "color": entry_colors[r.entry.id]} for r in table.rows],
        "rows": [
            {
                "case_id": v.case_id,
                "cells": [
                    {"entry_id": r.entry.id, "value": lead_values.get(r.entry.id, {}).get(v.case_id)}
                    for r in table.rows
                ],
            }
            for v in views
        ],
        "views": views,
        "has_marks": any(s.sentences or s.answers for v in views for s in v.sides),
    }


def _table_context(
    table: Table,
    colors: dict[str, str],
    provenance: Provenance,
    sig: TableSignificance | None,
    references: Sequence[ReferenceRow],
) -> dict[str, Any]:
    rows = [
        {
            "entry": r.entry,
            "color": colors[_system_key(r)],
            "card_anchor": _anchor(_system_key(r)),
            "cells": _cells(table, r),
            "flags": _flags(r, provenance),
            "sig": sig.row(r.entry.id) if sig is not None else None,
        }
        for r in table.rows
    ]
    bar_charts, distributions = _charts(table, colors, sig)
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
        "references": [{"row": ref, "cells": [ref.values.get(c.id) for c in table.columns]} for ref in references],
        "notes": notes,
        "bar_charts": bar_charts,
        "distributions": distributions,
        "signatures": _signatures(table.columns),
        "provenance": provenance,
        "sig": sig,
        "cases": _cases_context(table, colors, provenance, sig),
    }


def _pretty(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str) if data else ""


def _systems_context(
    tables: Sequence[Table],
    colors: dict[str, str],
    provenance: dict[str, Provenance],
    significance: dict[str, TableSignificance | None],
) -> list[dict[str, Any]]:
    systems: dict[str, dict[str, Any]] = {}
    for t in tables:
        sig = significance.get(t.id)
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
            lead = sig.column if sig is not None else (t.columns[0] if t.columns else None)
            value = r.values.get(lead.id) if lead is not None else None
            srow = sig.row(r.entry.id) if sig is not None else None
            info["entries"].append(
                {
                    "href": f"#{t.id}",
                    "task": f"{where}",
                    "split": t.split,
                    "entry_id": r.entry.id,
                    "data": provenance[t.id].tag,
                    "metric": lead.label if lead is not None else "",
                    "value": format_value(value),
                    "ci": srow["ci"] if srow else "",
                    "cluster": f"{srow['cluster']} of {len(t.rows)}" if srow and srow["cluster"] else "",
                }
            )
    return list(systems.values())


def _banner(tables: Sequence[Table], provenance: dict[str, Provenance], options: PageOptions) -> dict[str, Any]:
    kinds = {provenance[t.id].kind for t in tables}
    credentialed = any(provenance[t.id].kind == "user" and provenance[t.id].show_text for t in tables)
    stand_ins = sum(1 for t in tables for r in t.rows if r.entry.stand_ins)
    partial = sum(1 for t in tables for r in t.rows if r.entry.partial)
    return {
        "credentialed": credentialed,
        "synthetic": sum(provenance[t.id].kind == "synthetic" for t in tables),
        "user": sum(provenance[t.id].kind == "user" for t in tables),
        "unverified": sum(provenance[t.id].kind == "unverified" for t in tables),
        "only_synthetic": kinds == {"synthetic"},
        "stand_ins": stand_ins,
        "partial": partial,
        "text_hidden": any(provenance[t.id].kind != "synthetic" and not provenance[t.id].show_text for t in tables),
    }


def _bias_row(row: BiasRow) -> dict[str, Any]:
    return {
        "system": row.system,
        "is_judge": row.is_judge,
        "others": ", ".join(row.others),
        "blind": format_value(row.blind),
        "non_blind": format_value(row.non_blind),
        "delta": format_delta(row.delta),
        "delta_raw": "" if row.delta is None else repr(row.delta),
        "ci": format_interval(row),
        "p": format_p(row),
        "n_cases": row.n_cases,
        "dropped": row.dropped,
    }


def _bias_context(bias: Sequence[BiasExperiment]) -> list[dict[str, Any]]:
    """One section per task of the LLM-judge bias experiments (none: no section)."""
    sections = []
    for section in bias_sections(bias):
        experiments = []
        for e in section.experiments:
            rows = e.rows()
            confidence = next((r.confidence for r in rows if r.confidence is not None), None)
            extra = e.self_minus_others()
            experiments.append(
                {
                    "id": e.id,
                    "split": e.split,
                    "n_cases": len(e.case_ids),
                    "case_summary": id_ranges(e.case_ids),
                    "judge": e.judge_signature,
                    "judge_short": short_signature(e.judge_signature),
                    "judge_non_blind": e.result["judge_non_blind"],
                    "confidence": "" if confidence is None else f"{confidence:.0%}",
                    "rows": [_bias_row(r) for r in rows],
                    "self": None if extra is None else _bias_row(extra),
                    "added_at": e.added_at or "",
                }
            )
        anchor = "judge-bias-" + re.sub(r"[^a-zA-Z0-9_-]+", "-", section.task)
        sections.append({"id": anchor, "title": section.title, "experiments": experiments})
    return sections


def render_page(
    tables: Sequence[Table],
    *,
    entry_count: int | None = None,
    options: PageOptions | None = None,
    bias: Sequence[BiasExperiment] = (),
) -> str:
    """The page's HTML; LLM-judge bias experiments (``bias``) get sections of their own, after the tables."""
    options = options or PageOptions()
    colors = _colors(tables)
    provenance = table_provenance(tables, data=options.data, include_case_text=options.include_case_text)
    significance = {
        t.id: table_significance(
            t, resamples=options.resamples, seed=options.seed, confidence=options.confidence, alpha=options.alpha
        )
        for t in tables
    }
    references = options.references
    return _TEMPLATE.render(
        css=Markup(CSS),
        js=Markup(JS),
        banner=_banner(tables, provenance, options),
        marks=MARKS,
        tables=[
            _table_context(t, colors, provenance[t.id], significance[t.id], references.get(t.id, ())) for t in tables
        ],
        systems=_systems_context(tables, colors, provenance, significance),
        bias=_bias_context(bias),
        judge_tag=JUDGE_TAG,
        entry_count=entry_count if entry_count is not None else sum(len(t.rows) for t in tables),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        harness_version=__version__,
    )


def write_page(
    tables: Sequence[Table],
    out_dir: str | Path,
    *,
    options: PageOptions | None = None,
    bias: Sequence[BiasExperiment] = (),
) -> Path:
    """Write ``OUT_DIR/index.html`` atomically; returns its path."""
    path = atomic_write_text(Path(out_dir) / PAGE_FILE, render_page(tables, options=options, bias=bias))
    logger.info("wrote %s", path)
    return path
