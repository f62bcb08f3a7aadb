"""Paired significance tests over per-case scores: bootstrap (confidence interval and p-value) and
approximate randomisation (p-value). Vectorised with numpy; deterministic under the seed.

A plan says how per-case rows make the compared number: a :class:`Leaf` aggregates one metric's rows
(``mean`` averages one value per case; ``micro_f1`` pools per-case counts ``[tp, predicted, gold]``);
a :class:`MeanOf` averages several (an overall score). Both tests resample cases as multiplicity or
swap matrices, so each batch of resamples is one matrix product per leaf.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness import __version__
from harness.signature import Signature

DEFAULT_RESAMPLES = 10_000
DEFAULT_SEED = 12345
DEFAULT_CONFIDENCE = 0.95
_CHUNK = 2_000  # resamples per matrix product, to bound memory on large case sets

#: statistic name → function from summed per-case rows (resamples × k) and the case count to values.
Statistic = Callable[[np.ndarray, int], np.ndarray]


def _mean(sums: np.ndarray, n: int) -> np.ndarray:
    return sums[..., 0] / n


def _micro_f1(empty: float) -> Statistic:
    """Pooled F1 in percent from summed ``[tp, predicted, gold]``; ``empty`` when nothing is predicted or gold."""

    def stat(sums: np.ndarray, n: int) -> np.ndarray:
        tp, predicted, gold = sums[..., 0], sums[..., 1], sums[..., 2]
        denominator = predicted + gold
        safe = np.where(denominator > 0, denominator, 1.0)
        return np.where(denominator > 0, 200.0 * tp / safe, empty)

    return stat


STATISTICS: dict[str, Statistic] = {
    "mean": _mean,
    "micro_f1": _micro_f1(0.0),
    # 2026 subtask 2: pooled 0 predicted and 0 gold scores 1 (spec §4)
    "micro_f1_empty_is_full": _micro_f1(100.0),
}


def statistic_for(aggregation: str, signature: str) -> str:
    """The :data:`STATISTICS` name of a metric aggregated as ``aggregation`` whose signature is ``signature``:
    2026 subtask 2 pools "no predicted, no gold" as F1 = 1, and its signature says so (``micro:both-empty-1``)."""
    if aggregation == "micro_f1" and (Signature.parse(signature).get("micro") or "").startswith("both-empty-1"):
        return "micro_f1_empty_is_full"
    return aggregation


@dataclass(frozen=True)
class TestResult:
    """The outcome of comparing system A with system B on the same cases (delta = A - B)."""

    method: str  # "paired-bootstrap" | "approximate-randomization"
    statistic: str
    n_cases: int
    a: float
    b: float
    delta: float
    p_value: float
    resamples: int
    seed: int
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None

    @property
    def signature(self) -> str:
        ci = f"|ci:{self.confidence:g}" if self.confidence is not None else ""
        return (
            f"{self.method}|statistic:{self.statistic}|resamples:{self.resamples}|seed:{self.seed}{ci}"
            f"|p:two-sided-add-one|numpy:{np.__version__}|harness:{__version__}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "statistic": self.statistic,
            "n_cases": self.n_cases,
            "a": self.a,
            "b": self.b,
            "delta": self.delta,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "p_value": self.p_value,
            "resamples": self.resamples,
            "seed": self.seed,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class Leaf:
    """Per-case rows of one metric for A and B (cases × k, same case order) and how they aggregate."""

    a: np.ndarray
    b: np.ndarray
    statistic: str = "mean"
    name: str = ""

    @classmethod
    def of(cls, a: Any, b: Any, statistic: str = "mean", name: str = "") -> Leaf:
        return cls(_as_matrix(a), _as_matrix(b), statistic, name)

    def describe(self) -> str:
        return f"{self.name}:{self.statistic}" if self.name else self.statistic


@dataclass(frozen=True)
class MeanOf:
    """The mean of several statistics (an overall score averaged over its components)."""

    parts: tuple[Leaf | MeanOf, ...]
    name: str = ""

    def describe(self) -> str:
        inner = ",".join(p.describe() for p in self.parts)
        return f"{self.name}=mean({inner})" if self.name else f"mean({inner})"


Plan = Leaf | MeanOf

#: Given a leaf, the summed rows of A and of B per resample (resamples × k each).
_Summer = Callable[[Leaf], tuple[np.ndarray, np.ndarray]]


def _as_matrix(values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return array[:, None] if array.ndim == 1 else array


def _leaves(plan: Plan) -> list[Leaf]:
    return [plan] if isinstance(plan, Leaf) else [leaf for p in plan.parts for leaf in _leaves(p)]


def _check(plan: Plan, resamples: int) -> int:
    leaves = _leaves(plan)
    n = leaves[0].a.shape[0]
    for leaf in leaves:
        if leaf.a.shape != leaf.b.shape or leaf.a.shape[0] != n:
            raise ValueError(
                f"paired tests need the same cases on both sides (shapes {leaf.a.shape} vs {leaf.b.shape})"
            )
        if not (np.isfinite(leaf.a).all() and np.isfinite(leaf.b).all()):
            raise ValueError("per-case values must be finite")
        if leaf.statistic not in STATISTICS:
            raise ValueError(f"unknown statistic {leaf.statistic!r}; known: {', '.join(STATISTICS)}")
    if n == 0:
        raise ValueError("no cases to compare")
    if resamples < 1:
        raise ValueError("resamples must be positive")
    return n


def _values(plan: Plan, summer: _Summer, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The statistic of A and of B for every resample the summer describes."""
    if isinstance(plan, Leaf):
        sum_a, sum_b = summer(plan)
        stat = STATISTICS[plan.statistic]
        return stat(sum_a, n), stat(sum_b, n)
    parts = [_values(p, summer, n) for p in plan.parts]
    return np.mean([p[0] for p in parts], axis=0), np.mean([p[1] for p in parts], axis=0)


def _observed(plan: Plan, n: int) -> tuple[float, float]:
    a, b = _values(plan, lambda leaf: (leaf.a.sum(axis=0)[None], leaf.b.sum(axis=0)[None]), n)
    return float(a[0]), float(b[0])


def _resampled(plan: Plan, n: int, resamples: int, seed: int) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """Bootstrap resamples of the ``n`` cases in chunks: ``(rows, a, b)`` with the statistic of A and B on each
    resample. The resamples depend only on ``seed``, ``resamples`` and ``n`` (the pairing of intervals rests on it)."""
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        picks = rng.integers(0, n, size=(size, n))
        offsets = (np.arange(size)[:, None] * n + picks).ravel()
        weights = np.bincount(offsets, minlength=size * n).reshape(size, n).astype(np.float64)
        a, b = _values(plan, lambda leaf, w=weights: (w @ leaf.a, w @ leaf.b), n)
        yield slice(start, start + size), a, b


def paired_bootstrap(
    plan: Plan,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> TestResult:
    """Resample cases with replacement (the same cases for A and B, and for every component) and
    recompute A - B.

    The CI is the percentile interval of the resampled deltas. The two-sided p-value tests delta = 0
    by shifting the bootstrap distribution to the null: ``(#{|d* - d| >= |d|} + 1) / (R + 1)``.
    """
    n = _check(plan, resamples)
    value_a, value_b = _observed(plan, n)
    observed = value_a - value_b
    deltas = np.empty(resamples)
    for rows, a, b in _resampled(plan, n, resamples, seed):
        deltas[rows] = a - b
    alpha = 1.0 - confidence
    low, high = np.quantile(deltas, [alpha / 2, 1 - alpha / 2])
    extreme = int(np.count_nonzero(np.abs(deltas - observed) >= abs(observed) - 1e-12))
    return TestResult(
        method="paired-bootstrap",
        statistic=plan.describe(),
        n_cases=n,
        a=value_a,
        b=value_b,
        delta=observed,
        p_value=(extreme + 1) / (resamples + 1),
        resamples=resamples,
        seed=seed,
        ci_low=float(low),
        ci_high=float(high),
        confidence=confidence,
    )


def approximate_randomization(
    plan: Plan, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> TestResult:
    """Swap A's and B's rows of each case (all components at once) with probability 1/2;
    two-sided p-value ``(#{|d*| >= |d|} + 1) / (R + 1)``."""
    n = _check(plan, resamples)
    value_a, value_b = _observed(plan, n)
    observed = value_a - value_b
    rng = np.random.default_rng(seed)
    extreme = 0
    for start in range(0, resamples, _CHUNK):
        size = min(_CHUNK, resamples - start)
        swaps = rng.integers(0, 2, size=(size, n)).astype(np.float64)

        def summer(leaf: Leaf, s: np.ndarray = swaps) -> tuple[np.ndarray, np.ndarray]:
            moved = s @ (leaf.b - leaf.a)  # what A's sum gains (and B's loses) from the swapped cases
            return leaf.a.sum(axis=0) + moved, leaf.b.sum(axis=0) - moved

        a, b = _values(plan, summer, n)
        extreme += int(np.count_nonzero(np.abs(a - b) >= abs(observed) - 1e-12))
    return TestResult(
        method="approximate-randomization",
        statistic=plan.describe(),
        n_cases=n,
        a=value_a,
        b=value_b,
        delta=observed,
        p_value=(extreme + 1) / (resamples + 1),
        resamples=resamples,
        seed=seed,
    )


@dataclass(frozen=True)
class Interval:
    """A percentile bootstrap interval of one statistic (an entry's own score, not a difference)."""

    value: float
    low: float
    high: float
    confidence: float
    resamples: int
    seed: int


def bootstrap_interval(
    plan: Plan,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Interval:
    """Percentile interval of the A side of ``plan`` under case resampling with replacement.

    The resamples depend only on ``seed``, ``resamples`` and the case count, so entries scored on the same
    cases are resampled identically: their intervals are paired with each other and with
    :func:`paired_bootstrap` under the same seed.
    """
    n = _check(plan, resamples)
    value, _ = _observed(plan, n)
    values = np.empty(resamples)
    for rows, a, _ in _resampled(plan, n, resamples, seed):
        values[rows] = a
    alpha = 1.0 - confidence
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return Interval(value, float(low), float(high), confidence, resamples, seed)


def significance_clusters(
    order: Sequence[str], p_value: Callable[[str, str], float], *, alpha: float = 0.05
) -> list[int]:
    """Rank clusters of entries ordered best first: 1 for the best, the same number for entries not
    significantly different from the first entry of their cluster.

    Walking down the order, an entry joins the current cluster when ``p_value(head, entry) >= alpha`` (head:
    the cluster's first, best entry), else it starts the next cluster and becomes its head. A cluster's
    number is the rank of its head (1, 1, 3 …), as rank ties are printed.
    """
    clusters: list[int] = []
    head: str | None = None
    for position, entry in enumerate(order, start=1):
        if head is None or p_value(head, entry) < alpha:
            head = entry
            clusters.append(position)
        else:
            clusters.append(clusters[-1])
    return clusters
