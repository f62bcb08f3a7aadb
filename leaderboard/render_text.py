"""The terminal view: one rich table per comparable group, ↑/↓ per metric, the best value highlighted."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text as _RichText

from harness.textutil import strip_control
from leaderboard.bias import (
    JUDGE_TAG,
    BiasExperiment,
    BiasRow,
    BiasSection,
    bias_sections,
    format_delta,
    format_interval,
    format_p,
)
from leaderboard.comparability import VARIANT_MARKS, Column, Row, Table
from leaderboard.formatting import format_value, id_ranges, short_hash

BEST_STYLE = "bold green"
BEST_MARK = "*"  # shown instead of colour when the console has none
PIPE_WIDTH = 200


class Text(_RichText):
    """A rich ``Text`` that drops terminal control characters: report content (system names, splits,
    signatures) is untrusted and must not move the cursor or recolour the terminal."""

    def __init__(self, text: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(strip_control(text), *args, **kwargs)

    def append(self, text: str | _RichText, style: Any = None) -> _RichText:
        return super().append(strip_control(text) if isinstance(text, str) else text, style)


def _columns(table: Table, all_columns: bool) -> list[Column]:
    return [c for c in table.columns if all_columns or c.primary]


def _header(column: Column) -> Text:
    """The metric name, then its qualifiers (variant, stand-in, partial) on a second line, then ↑/↓."""
    mark = VARIANT_MARKS[column.variant - 1] if 0 < column.variant <= len(VARIANT_MARKS) else ""
    qualifiers = [q for q in (column.caveat, "partial" if column.partial else None) if q]
    first = f"{column.display} {mark}".strip()
    if not qualifiers:
        return Text(f"{first} {column.arrow}")
    return Text(f"{first}\n({', '.join(qualifiers)}) {column.arrow}")


def _system_cell(row_entry_system: str, entry_id: int | None, flags: list[str]) -> Text:
    text = Text(row_entry_system, style="bold")
    if entry_id is not None:
        text.append(f" #{entry_id}", style="dim")
    for flag in flags:
        text.append(f" [{flag}]", style="yellow")
    return text


def _cell(table: Table, row: Row, column: Column, color: bool) -> Text:
    value = row.values.get(column.id)
    if value is None and column.key in row.unavailable:
        return Text("n/a", style="dim")
    if column.is_best(value) and len(table.rows) > 1:
        return Text(format_value(value) + ("" if color else BEST_MARK), style=BEST_STYLE)
    return Text(format_value(value))


def _width(table: Table, column: Column) -> int:
    values = [len(format_value(v)) + 1 for r in table.rows if (v := r.values.get(column.id)) is not None]
    return max([*values, *(len(line) for line in _header(column).plain.splitlines()), 4])


def _chunks(table: Table, columns: list[Column], width: int) -> list[list[Column]]:
    """Metric columns in groups that fit ``width`` beside the rank and system columns (like pandas wraps)."""
    system = max([len(r.entry.system) + len(f" #{r.entry.id}") + 16 for r in table.rows] or [8])
    room = max(width - 6 - (len(str(len(table.rows))) + 3) - min(system, 40) - 3, 12)
    chunks: list[list[Column]] = [[]]
    used = 0
    for c in columns:
        need = _width(table, c) + 3
        if chunks[-1] and used + need > room:
            chunks.append([])
            used = 0
        chunks[-1].append(c)
        used += need
    return chunks


def _grid(table: Table, columns: list[Column], color: bool) -> RichTable:
    grid = RichTable(box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False, header_style="bold")
    grid.add_column("#", justify="right", style="dim", no_wrap=True)
    grid.add_column("System", overflow="fold", max_width=40)
    for c in columns:
        # Numbers are never cut: a column is as wide as its longest value or header line.
        grid.add_column(
            _header(c),
            justify="right",
            style="yellow" if c.partial or c.caveat else None,
            no_wrap=True,
            min_width=_width(table, c),
        )
    for rank, row in enumerate(table.rows, start=1):
        flags = []
        if row.entry.lexical_only:
            flags.append("lexical only")
        if row.entry.partial:
            flags.append("partial")
        if row.entry.stand_ins:
            flags.append("stand-ins")
        cells = [_cell(table, row, c, color) for c in columns]
        grid.add_row(str(rank), _system_cell(row.entry.system, row.entry.id, flags), *cells)
    return grid


def table_renderable(
    table: Table, *, all_columns: bool = False, signatures: bool = True, color: bool = True, width: int = 200
) -> Group:
    """A header line, the table (in column groups that fit ``width``), and its notes (split columns,
    partial scores, unavailable metrics, signatures)."""
    columns = _columns(table, all_columns)
    header = Text(table.title, style="bold")
    header.append(f"   split {table.split} · {table.case_summary} · key {short_hash(table.key_hash)}", style="dim")
    parts: list = [header]
    if table.apart_reason:
        parts.append(Text(f"Shown apart: {table.apart_reason}", style="yellow"))
    parts.extend(_grid(table, chunk, color) for chunk in _chunks(table, columns, width))
    notes = _notes(table, columns, color=color)
    if notes:
        parts.append(Text("\n".join(notes), style="dim"))
    if signatures:
        sig = Text("Signatures:", style="dim bold")
        by_signature: dict[str, list[str]] = {}
        for c in columns:
            by_signature.setdefault(c.signature, []).append(c.label)
        for signature, labels in by_signature.items():
            sig.append(f"\n  {', '.join(labels)}: ", style="dim")
            sig.append(signature, style="dim cyan")
        parts.append(sig)
    return Group(*parts)


def _notes(table: Table, columns: Sequence[Column], *, color: bool) -> list[str]:
    notes = [f"{c.label}: {c.note}" for c in columns if c.note]
    shown = {c.key for c in columns}
    notes += [
        f"{key} unavailable for {', '.join(who)}: {reason}" for key, reason, who in table.unavailable() if key in shown
    ]
    if not color and len(table.rows) > 1:
        notes.append(f"{BEST_MARK} best in its column")
    hidden = len(table.columns) - len(columns)
    if hidden:
        notes.append(f"{hidden} more column(s) with --all-columns")
    return notes


def stdout_console() -> Console:
    """A console on stdout; piped output is laid out 200 columns wide (unless COLUMNS says otherwise)."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=PIPE_WIDTH)
    return console


def _bias_grid(experiment: BiasExperiment) -> RichTable:
    grid = RichTable(box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False, header_style="bold")
    grid.add_column("System", overflow="fold", max_width=40)
    for header in ("Blind", "Non-blind", "Non-blind − blind", "CI", "p", "Cases", "Dropped"):
        grid.add_column(header, justify="right", no_wrap=True)

    def cells(row: BiasRow) -> list[Text]:
        return [
            Text(format_value(row.blind)),
            Text(format_value(row.non_blind)),
            Text(format_delta(row.delta), style="bold"),
            Text(format_interval(row)),
            Text(format_p(row)),
            Text(str(row.n_cases)),
            Text(str(row.dropped)),
        ]

    for row in experiment.rows():
        grid.add_row(_system_cell(row.system, None, [JUDGE_TAG] if row.is_judge else []), *cells(row))
    extra = experiment.self_minus_others()
    if extra is not None:
        name = Text(extra.system, style="bold")
        name.append(f" (vs {', '.join(extra.others)})", style="dim")
        grid.add_row(name, *cells(extra))
    return grid


def bias_renderable(section: BiasSection) -> Group:
    """A task's LLM-judge bias experiments: per system blind, non-blind and their difference with its paired
    bootstrap interval, then self − others, then the judge's signature."""
    parts: list = [Text(section.title, style="bold")]
    for e in section.experiments:
        head = Text(f"experiment #{e.id}", style="bold")
        confidence = next((r.confidence for r in e.rows() if r.confidence is not None), None)
        level = f" · {confidence:.0%} paired bootstrap" if confidence is not None else ""
        head.append(f"   split {e.split} · {len(e.case_ids)} cases ({id_ranges(e.case_ids)}){level}", style="dim")
        parts += [head, _bias_grid(e)]
        sig = Text("judge: ", style="dim bold")
        sig.append(e.judge_signature, style="dim cyan")
        parts.append(sig)
    parts.append(Text("judge mean in percent; non-blind: the judge is told who wrote each answer", style="dim"))
    return Group(*parts)


def render_tables(
    tables: Sequence[Table],
    console: Console,
    *,
    all_columns: bool = False,
    signatures: bool = True,
    bias: Sequence[BiasExperiment] = (),
) -> None:
    """Print every table on ``console``, then the LLM-judge bias sections (if any); an empty board says how to
    fill it."""
    if not tables and not bias:
        console.print("The leaderboard is empty: add score reports with `archehr leaderboard add REPORT.json`.")
        return
    color = console.color_system is not None
    for table in tables:
        body = table_renderable(table, all_columns=all_columns, signatures=signatures, color=color, width=console.width)
        console.print(Panel(body, box=box.ROUNDED, expand=False, border_style="blue"))
    for section in bias_sections(bias):
        console.print(Panel(bias_renderable(section), box=box.ROUNDED, expand=False, border_style="magenta"))
