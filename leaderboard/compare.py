"""Comparing two entries on the same cases: refuse what is not comparable, then run the paired tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.errors import HarnessError
from leaderboard.formatting import id_ranges, plural, short_hash
from leaderboard.records import Entry, MetricResult
from leaderboard.schema import OVERALL_KEY, task_name
from leaderboard.signatures import describe_difference
from leaderboard.significance import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Leaf,
    MeanOf,
    Plan,
    TestResult,
    approximate_randomization,
    paired_bootstrap,
    statistic_for,
)

METHODS = ("bootstrap", "randomization")


class NotComparableError(HarnessError):
    """Two entries (or one metric of them) cannot be compared; the message says why."""


@dataclass(frozen=True)
class Comparison:
    a: Entry
    b: Entry
    metric: MetricResult  # A's; B's has the same signature
    case_ids: tuple[str, ...]
    tests: tuple[TestResult, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": {"entry_id": self.a.id, "system": self.a.system, "fingerprint": self.a.fingerprint},
            "b": {"entry_id": self.b.id, "system": self.b.system, "fingerprint": self.b.fingerprint},
            "metric": self.metric.key,
            "metric_signature": self.metric.signature,
            "split": self.a.split,
            "n_cases": len(self.case_ids),
            "case_ids": id_ranges(self.case_ids),
            "tests": [t.to_json() for t in self.tests],
        }


def _metric(entry: Entry, key: str) -> MetricResult:
    metric = entry.metrics.get(key)
    if metric is None:
        known = ", ".join(entry.metrics) or "none"
        raise NotComparableError(f"{entry.label} has no metric {key!r} (it has: {known})")
    if not metric.available:
        raise NotComparableError(f"{entry.label}: {key} is unavailable ({metric.reason or 'no value'})")
    return metric


def _check_entries(a: Entry, b: Entry) -> None:
    if a.split != b.split:
        raise NotComparableError(f"{a.label} is on split {a.split!r}, {b.label} on {b.split!r}")
    if (a.year, a.subtask) != (b.year, b.subtask):
        raise NotComparableError(
            f"{a.label} is {task_name(a.year, a.subtask)}, {b.label} is {task_name(b.year, b.subtask)}"
        )
    if a.case_set_hash != b.case_set_hash:
        only_a, only_b = set(a.case_ids) - set(b.case_ids), set(b.case_ids) - set(a.case_ids)
        detail = []
        if only_a:
            detail.append(f"{plural(len(only_a), 'case')} only in {a.label} ({id_ranges(only_a)})")
        if only_b:
            detail.append(f"{plural(len(only_b), 'case')} only in {b.label} ({id_ranges(only_b)})")
        raise NotComparableError(f"different case sets: {'; '.join(detail)}")
    if a.key_hash != b.key_hash:
        raise NotComparableError(
            f"scored against different keys ({short_hash(a.key_hash)} vs {short_hash(b.key_hash)}) on the same cases"
        )


def _check_metrics(a: Entry, b: Entry, key: str) -> tuple[MetricResult, MetricResult]:
    ma, mb = _metric(a, key), _metric(b, key)
    if ma.signature != mb.signature:
        raise NotComparableError(
            f"{key} signatures differ ({describe_difference(ma.signature, mb.signature)}):\n"
            f"  {a.label}: {ma.signature}\n  {b.label}: {mb.signature}"
        )
    if tuple(sorted(ma.missing)) != tuple(sorted(mb.missing)):
        raise NotComparableError(
            f"{key} is partial in a different way: {a.label} lacks [{', '.join(ma.missing)}], "
            f"{b.label} lacks [{', '.join(mb.missing)}]"
        )
    if (ma.aggregation, ma.components) != (mb.aggregation, mb.components):
        raise NotComparableError(f"{key} is aggregated differently ({ma.aggregation} vs {mb.aggregation})")
    return ma, mb


def paired_plan(a: Entry, b: Entry, key: str, case_ids: Sequence[str]) -> Plan:
    """How per-case rows of A and B make ``key``, checked metric by metric."""
    ma, mb = _check_metrics(a, b, key)
    if ma.aggregation == "combined":
        parts = [paired_plan(a, b, k, case_ids) for k in ma.components if _metric_or_none(a, k) is not None]
        if not parts:
            raise NotComparableError(f"{key}: none of its components ({', '.join(ma.components)}) has a value")
        return MeanOf(tuple(parts), key)
    if ma.aggregation not in ("mean", "micro_f1"):
        raise NotComparableError(
            f"{key} is pooled over all cases without per-case rows ({ma.aggregation}); compare its F1 key instead"
        )
    for entry, metric in ((a, ma), (b, mb)):
        if not metric.per_case:
            raise NotComparableError(
                f"{entry.label}: {key} has no per-case values, so no paired test can run on it; "
                "re-score the submission with this harness and add the new report"
            )
        absent = set(case_ids) - set(metric.per_case)
        if absent:
            raise NotComparableError(f"{entry.label}: {key} lacks per-case values for {id_ranges(absent)}")
    statistic = statistic_for(ma.aggregation, ma.signature)
    return Leaf(_matrix(ma, case_ids), _matrix(mb, case_ids), statistic, key)


def _metric_or_none(entry: Entry, key: str) -> MetricResult | None:
    metric = entry.metrics.get(key)
    return metric if metric is not None and metric.available else None


def _matrix(metric: MetricResult, case_ids: Sequence[str]) -> np.ndarray:
    assert metric.per_case is not None
    rows = [metric.per_case[c] for c in case_ids]
    return np.array([r if isinstance(r, tuple) else (r,) for r in rows], dtype=np.float64)


def compare_entries(
    a: Entry,
    b: Entry,
    *,
    key: str = OVERALL_KEY,
    methods: Sequence[str] = METHODS,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """Paired tests of A - B on ``key`` over the shared cases (in sorted case order).

    Refuses (:class:`NotComparableError`) other splits, case sets, keys or signatures, and per-case values
    that do not reproduce the reported value.
    """
    _check_entries(a, b)
    case_ids = tuple(sorted(a.case_ids))
    plan = paired_plan(a, b, key, case_ids)
    tests = []
    if "bootstrap" in methods:
        tests.append(paired_bootstrap(plan, resamples=resamples, seed=seed, confidence=confidence))
    if "randomization" in methods:
        tests.append(approximate_randomization(plan, resamples=resamples, seed=seed))
    metric = a.metrics[key]
    for entry, value in ((a, tests[0].a), (b, tests[0].b)):
        reported = entry.metrics[key].value
        if reported is not None and abs(value - reported) > 1e-6 * max(1.0, abs(reported)):
            raise NotComparableError(
                f"{entry.label}: the per-case values of {key} give {value:.6f}, not the reported {reported:.6f}; "
                "the report is inconsistent"
            )
    return Comparison(a, b, metric, case_ids, tuple(tests))
