"""Bootstrap intervals of one entry and significance clusters, against hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from leaderboard.significance import Leaf, bootstrap_interval, paired_bootstrap, significance_clusters


def test_interval_of_a_constant_is_the_constant():
    values = np.full(9, 42.0)
    interval = bootstrap_interval(Leaf.of(values, values), resamples=500, seed=3)
    assert (interval.value, interval.low, interval.high) == (42.0, 42.0, 42.0)


def test_interval_of_two_cases():
    # Two cases scoring 0 and 100: a resample of 2 cases has mean 0 (p 1/4), 50 (p 1/2) or 100 (p 1/4).
    values = np.array([0.0, 100.0])
    wide = bootstrap_interval(Leaf.of(values, values), resamples=20_000, seed=1, confidence=0.95)
    assert wide.value == 50.0
    assert (wide.low, wide.high) == (0.0, 100.0)  # the 2.5% and 97.5% quantiles fall in the end masses
    narrow = bootstrap_interval(Leaf.of(values, values), resamples=20_000, seed=1, confidence=0.4)
    assert (narrow.low, narrow.high) == (50.0, 50.0)  # the 30% and 70% quantiles fall in the middle mass


def test_interval_resamples_pair_with_the_bootstrap_test():
    # Same seed, same cases, B = 0: the interval of A is the paired test's interval of A - B.
    rng = np.random.default_rng(5)
    a = rng.uniform(0, 100, 30)
    ia = bootstrap_interval(Leaf.of(a, a), resamples=3000, seed=9, confidence=0.9)
    test = paired_bootstrap(Leaf.of(a, np.zeros_like(a)), resamples=3000, seed=9, confidence=0.9)
    assert ia.low == pytest.approx(test.ci_low) and ia.high == pytest.approx(test.ci_high)
    assert ia.value == pytest.approx(float(a.mean()))
    assert ia.low < ia.value < ia.high


def _p(table: dict[tuple[str, str], float]):
    def p_value(x: str, y: str) -> float:
        return table[(x, y)]

    return p_value


def test_clusters_hand_worked():
    # A B C D best first. B ties with A (p .30); C differs from A (p .01) and heads cluster 3; D ties with C.
    p = _p({("A", "B"): 0.30, ("A", "C"): 0.01, ("C", "D"): 0.20})
    assert significance_clusters(["A", "B", "C", "D"], p) == [1, 1, 3, 3]


def test_clusters_compare_with_the_head_not_the_neighbour():
    # C is not different from B (its neighbour) but is from A, the head of the cluster: a new cluster.
    p = _p({("A", "B"): 0.5, ("A", "C"): 0.04, ("C", "D"): 0.01})
    assert significance_clusters(["A", "B", "C", "D"], p) == [1, 1, 3, 4]


def test_clusters_alpha_boundary_and_trivial_orders():
    p = _p({("A", "B"): 0.05})
    assert significance_clusters(["A", "B"], p) == [1, 1]  # p == alpha is not significant
    assert significance_clusters(["A", "B"], p, alpha=0.051) == [1, 2]
    assert significance_clusters(["A"], p) == [1]
    assert significance_clusters([], p) == []
