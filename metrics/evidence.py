"""Evidence precision / recall / F1, each variant with its own empty-set conventions (docs/scoring.md,
"Evidence scores"): 2026 subtask 2 (:func:`score_2026_subtask2`), 2026 subtask 4 (:func:`score_2026_subtask4`)
and 2025 (:func:`score_2025`). Aggregates are in percent; per-case counts ``[tp, predicted, gold]`` and per-case
P/R/F1 come back too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from metrics.base import HARNESS_METRICS_VERSION

MEASURES = ("precision", "recall", "f1")

#: Signature of each evidence variant (the rules that change its numbers).
SIGNATURES: dict[str, str] = {
    "2026-subtask2": (
        "evidence-2026-subtask2|strict:essential|lenient:drop-supplementary-predictions"
        f"|case:both-empty-1,one-empty-0|micro:both-empty-1,zero-div-0|harness:{HARNESS_METRICS_VERSION}"
    ),
    "2026-subtask4": (
        f"alignment-2026-subtask4|links:answer_id,evidence_id|zero-div-0|harness:{HARNESS_METRICS_VERSION}"
    ),
    "2025": (
        f"citations-2025|strict:essential|lenient:essential+supplementary|zero-div-0|harness:{HARNESS_METRICS_VERSION}"
    ),
}


@dataclass(frozen=True)
class Counts:
    """Set sizes of one comparison: true positives, predicted, gold."""

    tp: int
    predicted: int
    gold: int

    @classmethod
    def of(cls, predicted: frozenset[Hashable] | set[Hashable], gold: frozenset[Hashable] | set[Hashable]) -> Counts:
        return cls(len(predicted & gold), len(predicted), len(gold))

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.predicted + other.predicted, self.gold + other.gold)

    def as_list(self) -> list[int]:
        return [self.tp, self.predicted, self.gold]


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 as fractions (0-1)."""

    precision: float
    recall: float
    f1: float


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def prf_zero_when_undefined(c: Counts) -> PRF:
    """2026 subtask 4 and 2025: a zero denominator gives 0 (also for empty vs empty)."""
    precision = c.tp / c.predicted if c.predicted > 0 else 0.0
    recall = c.tp / c.gold if c.gold > 0 else 0.0
    return PRF(precision, recall, _f1(precision, recall))


def prf_subtask2_case(c: Counts) -> PRF:
    """2026 subtask 2, one case: both empty → 1; exactly one empty → 0; else the usual."""
    if c.predicted == 0 and c.gold == 0:
        return PRF(1.0, 1.0, 1.0)
    if c.predicted == 0 or c.gold == 0:
        return PRF(0.0, 0.0, 0.0)
    return prf_zero_when_undefined(c)


def prf_subtask2_micro(c: Counts) -> PRF:
    """2026 subtask 2, pooled counts: 0 predicted and 0 gold → 1; else a zero denominator gives 0."""
    if c.predicted == 0 and c.gold == 0:
        return PRF(1.0, 1.0, 1.0)
    return prf_zero_when_undefined(c)


@dataclass(frozen=True)
class EvidenceCase:
    """One case's sets: ``predicted`` ids (or links), ``essential`` and ``supplementary`` gold ids."""

    case_id: str
    predicted: frozenset[Hashable]
    essential: frozenset[Hashable]
    supplementary: frozenset[Hashable] = frozenset()


@dataclass(frozen=True)
class EvidenceResult:
    """Aggregates by official key (percent), per-case rows, and per-case counts for the micro keys.

    ``per_case[key][case_id]`` is the case's value in percent for each macro key; ``counts[key][case_id]``
    is ``[tp, predicted, gold]`` for each micro F1 key (the pooled statistic's per-case rows).
    """

    scores: dict[str, float]
    per_case: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, dict[str, list[int]]] = field(default_factory=dict)


_Variant = tuple[str, Callable[[EvidenceCase], tuple[frozenset[Hashable], frozenset[Hashable]]]]


def _score(
    cases: Sequence[EvidenceCase],
    variants: Sequence[_Variant],
    case_rule: Callable[[Counts], PRF],
    micro_rule: Callable[[Counts], PRF],
    *,
    macro_first: bool,
) -> EvidenceResult:
    if not cases:
        raise ValueError("no cases to score")
    scores: dict[str, float] = {}
    per_case: dict[str, dict[str, float]] = {}
    counts: dict[str, dict[str, list[int]]] = {}
    for prefix, sets in variants:
        case_counts = {c.case_id: Counts.of(*sets(c)) for c in cases}
        rows = {cid: case_rule(cnt) for cid, cnt in case_counts.items()}
        pooled = sum(case_counts.values(), Counts(0, 0, 0))
        micro = micro_rule(pooled)
        macro = {m: float(np.mean([getattr(r, m) for r in rows.values()])) * 100 for m in MEASURES}
        micro_scores = {m: getattr(micro, m) * 100 for m in MEASURES}
        blocks = [("macro", macro), ("micro", micro_scores)]
        for kind, values in blocks if macro_first else reversed(blocks):
            for m in MEASURES:
                scores[f"{prefix}{kind}_{m}"] = values[m]
        for m in MEASURES:
            per_case[f"{prefix}macro_{m}"] = {cid: getattr(r, m) * 100 for cid, r in rows.items()}
        counts[f"{prefix}micro_f1"] = {cid: cnt.as_list() for cid, cnt in case_counts.items()}
    return EvidenceResult(scores, per_case, counts)


def score_2026_subtask2(cases: Sequence[EvidenceCase]) -> EvidenceResult:
    """Keys ``strict_{macro,micro}_{precision,recall,f1}`` then the same for ``lenient_``."""
    variants: list[_Variant] = [
        ("strict_", lambda c: (c.predicted, c.essential)),
        ("lenient_", lambda c: (c.predicted - c.supplementary, c.essential)),
    ]
    return _score(cases, variants, prf_subtask2_case, prf_subtask2_micro, macro_first=True)


def score_2026_subtask4(cases: Sequence[EvidenceCase]) -> EvidenceResult:
    """Keys ``micro_{precision,recall,f1}`` then ``macro_…``; ``predicted``/``essential`` hold link pairs."""
    variants: list[_Variant] = [("", lambda c: (c.predicted, c.essential))]
    return _score(cases, variants, prf_zero_when_undefined, prf_zero_when_undefined, macro_first=False)


def score_2025(cases: Sequence[EvidenceCase]) -> EvidenceResult:
    """Keys ``strict_{micro,macro}_…`` and ``lenient_{micro,macro}_…`` (lenient gold adds supplementary)."""
    variants: list[_Variant] = [
        ("strict_", lambda c: (c.predicted, c.essential)),
        ("lenient_", lambda c: (c.predicted, c.essential | c.supplementary)),
    ]
    return _score(cases, variants, prf_zero_when_undefined, prf_zero_when_undefined, macro_first=False)


def links(prediction: Sequence[Mapping[str, object]]) -> frozenset[tuple[str, str]]:
    """Subtask-4 (answer_id, evidence_id) pairs of a validated prediction (unlisted answers: no links)."""
    return frozenset(
        (str(item["answer_id"]), str(e))
        for item in prediction
        for e in item["evidence_id"]  # type: ignore[attr-defined]
    )
