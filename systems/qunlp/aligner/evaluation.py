"""Micro precision / recall / F1 of links through the harness's official evidence scorers (``metrics.evidence``).

Subtask 4 scores (answer_id, sentence_id) links with the 2026 subtask-4 rules (zero denominators give 0);
subtask 2 scores the case's sentence ids with the 2026 subtask-2 rules (strict gold = essential; pooled 0
predicted and 0 gold give 1). Tuning pools counts per grid point and applies the same micro rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from metrics.evidence import (
    PRF,
    Counts,
    EvidenceCase,
    prf_subtask2_micro,
    prf_zero_when_undefined,
    score_2026_subtask2,
    score_2026_subtask4,
)

Links = Mapping[str, set[tuple[str, str]]]


def micro_rule(subtask: int) -> Callable[[Counts], PRF]:
    """The official micro P/R/F1 of pooled counts for ``subtask`` (2 or 4)."""
    return prf_subtask2_micro if int(subtask) == 2 else prf_zero_when_undefined


@dataclass(frozen=True)
class MicroScores:
    """Pooled micro scores in percent, and the counts they come from."""

    precision: float
    recall: float
    f1: float
    tp: int
    predicted: int
    gold: int

    @classmethod
    def from_counts(cls, tp: float, predicted: float, gold: float, subtask: int) -> MicroScores:
        counts = Counts(int(tp), int(predicted), int(gold))
        prf = micro_rule(subtask)(counts)
        return cls(100 * prf.precision, 100 * prf.recall, 100 * prf.f1, counts.tp, counts.predicted, counts.gold)

    def to_json(self) -> dict[str, float | int]:
        return {
            "micro_precision": round(self.precision, 2),
            "micro_recall": round(self.recall, 2),
            "micro_f1": round(self.f1, 2),
            "tp": self.tp,
            "predicted": self.predicted,
            "gold": self.gold,
        }


def score_links(predicted: Links, gold: Links, subtask: int) -> MicroScores:
    """Strict micro scores of predicted (query id, sentence id) links against gold, over gold's cases."""
    cases = [
        EvidenceCase(case_id, frozenset(predicted.get(case_id, set())), frozenset(gold_links))
        for case_id, gold_links in gold.items()
    ]
    if int(subtask) == 2:
        result = score_2026_subtask2(cases)
        keys, prefix = result.counts["strict_micro_f1"], "strict_"
    else:
        result = score_2026_subtask4(cases)
        keys, prefix = result.counts["micro_f1"], ""
    tp, n_pred, n_gold = (sum(c[i] for c in keys.values()) for i in range(3))
    return MicroScores(
        result.scores[f"{prefix}micro_precision"],
        result.scores[f"{prefix}micro_recall"],
        result.scores[f"{prefix}micro_f1"],
        tp,
        n_pred,
        n_gold,
    )
