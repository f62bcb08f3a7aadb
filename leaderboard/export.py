"""Exports: CSV in long form (one value per row, with its signature) and JSON for scripts; Markdown and LaTeX
tables for papers. Every format carries the significance of each table's ranking
(:mod:`leaderboard.table_significance`): rank clusters, the lead column's interval and the p-value against the best."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

from harness import __version__
from leaderboard.bias import (
    JUDGE_TAG,
    BiasExperiment,
    BiasRow,
    bias_json,
    bias_sections,
    format_delta,
    format_interval,
    format_p,
)
from leaderboard.comparability import Column, Table
from leaderboard.formatting import format_value, id_ranges, short_hash
from leaderboard.records import VIEW_SCHEMA_VERSION, Entry
from leaderboard.table_significance import TableSignificance

#: Table id → its significance (None: no per-case values to test).
Significance = dict[str, TableSignificance | None]

CSV_FIELDS = (
    "table",
    "year",
    "subtask",
    "split",
    "n_cases",
    "case_ids",
    "key_hash",
    "entry_id",
    "system",
    "fingerprint",
    "column",
    "metric",
    "display",
    "higher_is_better",
    "value",
    "best",
    "partial",
    "missing",
    "signature",
    "rank_cluster",
    "ci_low",
    "ci_high",
    "p_vs_best",
)


def to_csv(tables: Sequence[Table], significance: Significance | None = None) -> str:
    """One row per (entry, column) value: a number never travels without its signature and case set. The entry's
    rank cluster is on every row; interval and p-value against the best on the rows of the ranked column."""
    significance = significance or {}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for t in tables:
        meta = t.to_json()
        sig = significance.get(t.id)
        for row in t.rows:
            cluster = sig.clusters.get(row.entry.id) if sig is not None else None
            interval = sig.intervals.get(row.entry.id) if sig is not None else None
            for c in t.columns:
                value = row.values.get(c.id)
                if value is None:
                    continue
                ranked = sig is not None and c.id == sig.column.id
                p_value = sig.p_values.get(row.entry.id) if sig is not None and ranked else None
                writer.writerow(
                    {
                        "table": t.id,
                        "year": t.year,
                        "subtask": "" if t.subtask is None else t.subtask,
                        "split": t.split,
                        "n_cases": len(t.case_ids),
                        "case_ids": meta["case_ids"],
                        "key_hash": t.key_hash,
                        "entry_id": row.entry.id,
                        "system": row.entry.system,
                        "fingerprint": row.entry.fingerprint or "",
                        "column": c.id,
                        "metric": c.key,
                        "display": c.label,
                        "higher_is_better": int(c.higher_is_better),
                        "value": repr(value),
                        "best": int(c.is_best(value)),
                        "partial": int(c.partial),
                        "missing": " ".join(c.missing),
                        "signature": c.signature,
                        "rank_cluster": "" if cluster is None else cluster,
                        "ci_low": repr(interval.low) if ranked and interval is not None else "",
                        "ci_high": repr(interval.high) if ranked and interval is not None else "",
                        "p_vs_best": "" if p_value is None else repr(p_value),
                    }
                )
    return out.getvalue()


def to_json(
    tables: Sequence[Table],
    entries: Sequence[Entry],
    *,
    per_case: bool = True,
    significance: Significance | None = None,
    bias: Sequence[BiasExperiment] = (),
) -> dict[str, Any]:
    """The tables as shown (each with its ``significance`` when computed), plus every entry in full (per-case
    values included unless ``per_case`` is off), plus the LLM-judge bias sections under ``judge_bias`` when the
    board has any (never among the tables or entries)."""
    significance = significance or {}
    out_tables = []
    for t in tables:
        data = t.to_json()
        sig = significance.get(t.id)
        if t.id in significance:
            data["significance"] = None if sig is None else sig.to_json()
        out_tables.append(data)
    return {
        "schema_version": VIEW_SCHEMA_VERSION,
        "harness_version": __version__,
        "tables": out_tables,
        "entries": [e.to_json(per_case=per_case) for e in entries],
        **bias_json(bias),
    }


# ---------------------------------------------------------------------- tables for papers


def _paper_columns(table: Table, all_columns: bool) -> list[Column]:
    return [c for c in table.columns if all_columns or c.primary]


def _rows(table: Table, sig: TableSignificance | None) -> list[tuple[str, Any, bool]]:
    """(rank text, row, starts a new cluster) in table order; ranks are the significance clusters."""
    out = []
    previous = None
    for position, row in enumerate(table.rows, start=1):
        cluster = sig.clusters.get(row.entry.id) if sig is not None else None
        rank = str(cluster) if cluster is not None else ("–" if sig is not None else str(position))
        out.append((rank, row, cluster is not None and previous is not None and cluster != previous))
        previous = cluster if cluster is not None else previous
    return out


def _notes(table: Table, sig: TableSignificance | None, columns: Sequence[Column]) -> list[str]:
    notes = [f"split {table.split}, {table.case_summary}, key {short_hash(table.key_hash, 12)}"]
    if sig is not None:
        notes.append(
            f"Rank: significance cluster on {sig.column.label} (paired bootstrap, p < {sig.alpha:g} against the "
            f"cluster's best; {sig.resamples} resamples, seed {sig.seed}); "
            f"CI: {sig.confidence:.0%} bootstrap interval over cases."
        )
    by_signature: dict[str, list[str]] = {}
    for c in columns:
        by_signature.setdefault(c.signature, []).append(c.label)
    notes += [f"{', '.join(labels)}: {signature}" for signature, labels in by_signature.items()]
    if sig is not None:
        notes.append(f"significance: {sig.signature}")
    return notes


def _value_cells(
    table: Table, row: Any, columns: Sequence[Column], sig: TableSignificance | None, bold: Callable[[str], str]
) -> list[str]:
    """A paper table's value cells of ``row`` ("n/a" when unavailable, the best value through ``bold`` when the
    table has rivals), then the ranked column's CI when the table has a significance test."""
    cells = []
    for c in columns:
        value = row.values.get(c.id)
        text = format_value(value) if value is not None else ("n/a" if c.key in row.unavailable else "")
        cells.append(bold(text) if c.is_best(value) and len(table.rows) > 1 else text)
    if sig is not None:
        cells.append(_ci(sig, row.entry.id))
    return cells


def _ci(sig: TableSignificance | None, entry_id: int | None) -> str:
    interval = sig.intervals.get(entry_id) if sig is not None else None
    return "" if interval is None else f"[{interval.low:.2f}, {interval.high:.2f}]"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _paper_header(t: Table, sig: TableSignificance | None, all_columns: bool) -> tuple[list[Column], list[str]]:
    """The columns of a paper table and its header: rank, system, each column with its arrow, the CI."""
    columns = _paper_columns(t, all_columns)
    header = ["Rank", "System", *(f"{c.label} {c.arrow}" for c in columns)]
    if sig is not None:
        header.append(f"{sig.confidence:.0%} CI")
    return columns, header


def to_markdown(
    tables: Sequence[Table],
    significance: Significance,
    *,
    all_columns: bool = False,
    bias: Sequence[BiasExperiment] = (),
) -> str:
    """One pipe table per comparable table: rank clusters, best values in bold, the CI of the ranked column,
    notes with the case set, the signatures and the test's signature; then the LLM-judge bias sections."""
    parts = []
    for t in tables:
        sig = significance.get(t.id)
        columns, header = _paper_header(t, sig, all_columns)
        lines = [f"### {_md(t.title)}", "", "| " + " | ".join(_md(h) for h in header) + " |"]
        lines.append("|" + "|".join([":--", ":--", *(["--:"] * (len(header) - 2))]) + "|")
        for rank, row, _ in _rows(t, sig):
            cells = _value_cells(t, row, columns, sig, lambda text: f"**{text}**")
            lines.append("| " + " | ".join([rank, _md(row.entry.label), *cells]) + " |")
        lines.append("")
        lines += [f"- {n}" for n in _notes(t, sig, columns)]
        parts.append("\n".join(lines))
    parts += [_bias_markdown(e) for section in bias_sections(bias) for e in section.experiments]
    return "\n\n".join(parts) + "\n"


def _bias_markdown(e: BiasExperiment) -> str:
    """One LLM-judge bias experiment as a pipe table (never ranked)."""
    header = ["System", "Blind", "Non-blind", "Non-blind − blind", "CI", "p", "Cases", "Dropped"]

    def cells(name: str, row: BiasRow) -> list[str]:
        values = [format_value(row.blind), format_value(row.non_blind), format_delta(row.delta)]
        return [_md(name), *values, format_interval(row), format_p(row), str(row.n_cases), str(row.dropped)]

    lines = [f"### {_md(e.title)} · experiment #{e.id}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join([":--", *(["--:"] * (len(header) - 1))]) + "|")
    for row in e.rows():
        lines.append(
            "| " + " | ".join(cells(f"{row.system} ({JUDGE_TAG})" if row.is_judge else row.system, row)) + " |"
        )
    extra = e.self_minus_others()
    if extra is not None:
        lines.append("| " + " | ".join(cells(f"{extra.system} (vs {', '.join(extra.others)})", extra)) + " |")
    lines += ["", f"- split {_md(e.split)}, {len(e.case_ids)} cases ({id_ranges(e.case_ids)}); judge mean in percent"]
    lines.append(f"- judge: {_md(e.judge_signature)}")
    return "\n".join(lines)


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"$<$",
    ">": r"$>$",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
}


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (and ↑/↓ as math arrows)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(tables: Sequence[Table], significance: Significance, *, all_columns: bool = False) -> str:
    """One booktabs ``table`` per comparable table: rank clusters separated by rules, best values in bold, the
    CI of the ranked column; the caption names the split, case set and test, the signatures follow as comments."""
    parts = []
    for t in tables:
        sig = significance.get(t.id)
        columns, header = _paper_header(t, sig, all_columns)
        notes = _notes(t, sig, columns)
        lines = [r"\begin{table}[t]", r"\centering", r"\small"]
        lines.append(r"\begin{tabular}{rl" + "r" * (len(header) - 2) + "}")
        lines += [r"\toprule", " & ".join(latex_escape(h) for h in header) + r" \\", r"\midrule"]
        for rank, row, new_cluster in _rows(t, sig):
            if new_cluster:
                lines.append(r"\midrule")
            cells = _value_cells(t, row, columns, sig, lambda text: rf"\textbf{{{text}}}")
            lines.append(" & ".join([rank, latex_escape(row.entry.label), *cells]) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        lines.append(rf"\caption{{{latex_escape(t.title)}. {latex_escape(' '.join(notes[:2]))}}}")
        lines.append(rf"\label{{tab:{t.id}}}")
        lines.append(r"\end{table}")
        lines += [f"% {n}" for n in notes[2:]]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
