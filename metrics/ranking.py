"""Threshold-free scores of a binary scorer: pooled (item, label, score) triples, as a relevance classifier
produces them (one P(yes) per question-item pair).

- ``average_precision``: area under the precision-recall curve, step-wise (scikit-learn's definition);
- ``roc_auc``: area under the ROC curve (ties count one half);
- ``best_threshold``: the threshold that maximises F1 of ``score >= threshold`` on these pairs — pooled F1 over
  pairs is the micro-F1 over questions, so a threshold tuned on one split can be applied to another.

All three are undefined when one class is absent (``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    f1: float  # on the pairs it was chosen on, as a percentage
    precision: float
    recall: float


def _arrays(labels: Sequence[bool], scores: Sequence[float]) -> tuple[np.ndarray, np.ndarray] | None:
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} labels but {len(scores)} scores")
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    if y.size == 0 or y.all() or not y.any():
        return None
    return y, s


def average_precision(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Average precision (percentage), or None when one class is absent."""
    from sklearn.metrics import average_precision_score

    arrays = _arrays(labels, scores)
    return None if arrays is None else 100.0 * float(average_precision_score(*arrays))


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """ROC AUC (percentage), or None when one class is absent."""
    from sklearn.metrics import roc_auc_score

    arrays = _arrays(labels, scores)
    return None if arrays is None else 100.0 * float(roc_auc_score(*arrays))


def best_threshold(labels: Sequence[bool], scores: Sequence[float]) -> ThresholdChoice | None:
    """The score threshold with the highest F1 of ``score >= threshold`` (the highest threshold among ties)."""
    arrays = _arrays(labels, scores)
    if arrays is None:
        return None
    y, s = arrays
    order = np.argsort(-s, kind="stable")
    y, s = y[order], s[order]
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # last index of each distinct score
    tp = np.cumsum(y)[last]
    predicted = last + 1
    precision = tp / predicted
    recall = tp / y.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(tp > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1))  # first maximum = highest threshold
    return ThresholdChoice(float(s[last[best]]), 100.0 * f1[best], 100.0 * precision[best], 100.0 * recall[best])
