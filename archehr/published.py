"""Published figures (``reproduce.yaml``) as reference rows of the leaderboard page: a figure joins a table only
when its task, split and case ids are the table's and the column's signature meets the figure's requirement.
Shown as "published, not reproduced here"; never ranked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from archehr.reproduce import FiguresError, load_figures
from leaderboard.cases import ReferenceRow
from leaderboard.comparability import Table

logger = logging.getLogger(__name__)


def published_references(tables: Sequence[Table], figures: str | Path | None = None) -> dict[str, list[ReferenceRow]]:
    """Table id → reference rows (one per published system and source) from the figures file.

    A figures file named explicitly must load (:class:`FiguresError` otherwise); the default one is optional.
    """
    try:
        book = load_figures(figures)
    except FiguresError as exc:
        if figures is not None:
            raise
        logger.warning("published figures not shown: %s", exc)
        return {}
    out: dict[str, list[ReferenceRow]] = {}
    for table in tables:
        rows: dict[tuple[str, str], dict[str, float]] = {}
        for figure in book.figures:
            if (figure.year, figure.subtask, figure.split) != (table.year, table.subtask, table.split):
                continue
            if set(figure.case_ids) != set(table.case_ids):
                continue
            for column in table.columns:
                matches = column.key == figure.metric and not column.partial
                if matches and not figure.signature.problems(column.signature):
                    rows.setdefault((figure.system, figure.source), {})[column.id] = figure.expected
        if rows:
            out[table.id] = [
                ReferenceRow(f"{system} (published)", source, values) for (system, source), values in rows.items()
            ]
    return out
