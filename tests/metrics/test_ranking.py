"""Threshold-free scores: average precision, ROC AUC, and the F1-maximising threshold, against brute force."""

from __future__ import annotations

import itertools
import random

import pytest

from metrics.ranking import average_precision, best_threshold, roc_auc


def brute_auc(labels: list[bool], scores: list[float]) -> float:
    pos = [s for y, s in zip(labels, scores, strict=True) if y]
    neg = [s for y, s in zip(labels, scores, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return 100 * wins / (len(pos) * len(neg))


def brute_best_f1(labels: list[bool], scores: list[float]) -> tuple[float, float]:
    best = (-1.0, 0.0)
    for t in sorted(set(scores), reverse=True):
        tp = sum(y and s >= t for y, s in zip(labels, scores, strict=True))
        chosen = sum(s >= t for s in scores)
        f1 = 200 * tp / (chosen + sum(labels)) if tp else 0.0
        if f1 > best[0]:
            best = (f1, t)
    return best


def test_perfect_and_reversed_rankings() -> None:
    labels, scores = [True, True, False, False], [0.9, 0.8, 0.3, 0.1]
    assert average_precision(labels, scores) == pytest.approx(100)
    assert roc_auc(labels, scores) == pytest.approx(100)
    assert roc_auc(labels, [-s for s in scores]) == pytest.approx(0)
    choice = best_threshold(labels, scores)
    assert choice is not None and choice.threshold == 0.8 and choice.f1 == pytest.approx(100)


def test_average_precision_by_hand() -> None:
    # ranks: + - + -  → precision at the positives 1/1 and 2/3 → AP = (1 + 2/3) / 2
    assert average_precision([True, False, True, False], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(100 * 5 / 6)


@pytest.mark.parametrize("seed", range(5))
def test_against_brute_force_with_ties(seed: int) -> None:
    rng = random.Random(seed)
    labels = [rng.random() < 0.3 for _ in range(60)] + [True, False]
    scores = [round(rng.random(), 1) for _ in labels]  # many ties
    assert roc_auc(labels, scores) == pytest.approx(brute_auc(labels, scores))
    choice = best_threshold(labels, scores)
    f1, threshold = brute_best_f1(labels, scores)
    assert choice is not None and choice.f1 == pytest.approx(f1) and choice.threshold == threshold


def test_one_class_is_undefined() -> None:
    assert average_precision([False, False], [0.1, 0.2]) is None
    assert roc_auc([True], [0.5]) is None
    assert best_threshold([], []) is None
    with pytest.raises(ValueError, match="2 labels but 1 scores"):
        roc_auc([True, False], [0.5])
