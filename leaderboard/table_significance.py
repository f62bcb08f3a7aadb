"""Significance of one table's ranking, computed at render from the stored per-case values: per entry a
bootstrap interval of the lead column, each entry's paired-bootstrap p-value against the best, and rank
clusters of entries not significantly different (:func:`leaderboard.significance.significance_clusters`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from leaderboard.comparability import Column, Table, lead_column
from leaderboard.compare import NotComparableError, paired_plan
from leaderboard.significance import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Interval,
    bootstrap_interval,
    paired_bootstrap,
    significance_clusters,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSignificance:
    """Intervals, p-values against the best and clusters of the entries ranked in ``column``."""

    column: Column
    intervals: dict[int | None, Interval]
    p_values: dict[int | None, float]  # against the best entry (which has none)
    clusters: dict[int | None, int]
    best: int | None
    signature: str
    resamples: int
    seed: int
    confidence: float
    alpha: float
    note: str | None = None  # why some entries have no interval

    def interval_of(self, entry_id: int | None) -> tuple[float, float] | None:
        interval = self.intervals.get(entry_id)
        return None if interval is None else (interval.low, interval.high)

    def row(self, entry_id: int | None) -> dict[str, Any]:
        """What the table row shows: ``ci``, ``p`` (against the best), ``cluster`` (rank of the cluster)."""
        interval = self.intervals.get(entry_id)
        p = self.p_values.get(entry_id)
        return {
            "ci": "" if interval is None else f"[{interval.low:.2f}, {interval.high:.2f}]",
            "p": "best" if entry_id == self.best and entry_id in self.intervals else ("" if p is None else _p(p)),
            "p_raw": "" if p is None else repr(p),
            "cluster": self.clusters.get(entry_id),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column.id,
            "best_entry": self.best,
            "signature": self.signature,
            "entries": {
                str(e): {
                    "ci_low": i.low,
                    "ci_high": i.high,
                    "p_vs_best": self.p_values.get(e),
                    "cluster": self.clusters.get(e),
                }
                for e, i in self.intervals.items()
            },
        }


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def table_significance(
    table: Table,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
    alpha: float = 0.05,
) -> TableSignificance | None:
    """Significance of the lead column's ranking; ``None`` when no entry of it has per-case values."""
    column = lead_column(table)
    if column is None:
        return None
    ranked = [r.entry for r in table.rows if column.id in r.values]
    case_ids = tuple(sorted(table.case_ids))
    intervals: dict[int | None, Interval] = {}
    skipped: list[str] = []
    for entry in ranked:
        try:
            plan = paired_plan(entry, entry, column.key, case_ids)
        except NotComparableError as exc:
            skipped.append(f"{entry.label}: {exc}")
            continue
        intervals[entry.id] = bootstrap_interval(plan, resamples=resamples, seed=seed, confidence=confidence)
    ordered = [e for e in ranked if e.id in intervals]
    if not ordered:
        return None
    by_id = {e.id: e for e in ordered}
    cache: dict[tuple[int | None, int | None], float] = {}
    tests = []

    def p_value(a: int | None, b: int | None) -> float:
        if (a, b) not in cache:
            plan = paired_plan(by_id[a], by_id[b], column.key, case_ids)
            test = paired_bootstrap(plan, resamples=resamples, seed=seed, confidence=confidence)
            tests.append(test)
            cache[(a, b)] = test.p_value
        return cache[(a, b)]

    best = ordered[0].id
    p_values = {e.id: p_value(best, e.id) for e in ordered[1:]}
    ids = [e.id for e in ordered]
    clusters = dict(zip(ids, significance_clusters(ids, p_value, alpha=alpha), strict=True))
    base = tests[0].signature if tests else f"paired-bootstrap|resamples:{resamples}|seed:{seed}|ci:{confidence:g}"
    signature = f"{base}|alpha:{alpha:g}|clusters:head-greedy|metric:{column.key}"
    return TableSignificance(
        column=column,
        intervals=intervals,
        p_values=p_values,
        clusters=clusters,
        best=best,
        signature=signature,
        resamples=resamples,
        seed=seed,
        confidence=confidence,
        alpha=alpha,
        note="; ".join(skipped) or None,
    )
