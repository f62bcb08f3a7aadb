"""Paired bootstrap and approximate randomisation on known data; refusal of incomparable entries."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from leaderboard.compare import NotComparableError, compare_entries
from leaderboard.ingest import entry_from_report
from leaderboard.records import MetricResult
from leaderboard.significance import Leaf, MeanOf, approximate_randomization, paired_bootstrap


def test_identical_systems():
    a = np.random.default_rng(0).uniform(0, 100, size=47)
    boot = paired_bootstrap(Leaf.of(a, a.copy()), resamples=2000, seed=1)
    assert boot.delta == 0.0
    assert boot.p_value == pytest.approx(1.0)
    assert boot.ci_low <= 0.0 <= boot.ci_high
    assert approximate_randomization(Leaf.of(a, a.copy()), resamples=2000, seed=1).p_value == pytest.approx(1.0)


def test_noisy_equal_systems_are_not_significant():
    rng = np.random.default_rng(3)
    base = rng.uniform(20, 80, size=100)
    a, b = base + rng.normal(0, 5, 100), base + rng.normal(0, 5, 100)
    boot = paired_bootstrap(Leaf.of(a, b), resamples=4000, seed=2)
    assert boot.p_value > 0.05 and boot.ci_low <= 0.0 <= boot.ci_high


def test_clearly_better_system():
    rng = np.random.default_rng(1)
    b = rng.uniform(20, 60, size=47)
    a = b + 5 + rng.normal(0, 2, size=47)
    boot = paired_bootstrap(Leaf.of(a, b), resamples=5000, seed=7)
    assert boot.delta == pytest.approx(float(np.mean(a - b)))
    assert boot.p_value < 0.001 and boot.ci_low > 0
    assert approximate_randomization(Leaf.of(a, b), resamples=5000, seed=7).p_value < 0.001


def test_deterministic_under_the_seed_and_signed():
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0, 1, 30), rng.uniform(0, 1, 30)
    first = paired_bootstrap(Leaf.of(a, b), resamples=3000, seed=11)
    assert paired_bootstrap(Leaf.of(a, b), resamples=3000, seed=11) == first
    assert paired_bootstrap(Leaf.of(a, b), resamples=3000, seed=12).ci_low != first.ci_low
    assert "seed:11" in first.signature and "resamples:3000" in first.signature
    assert approximate_randomization(Leaf.of(a, b), resamples=500, seed=5) == approximate_randomization(
        Leaf.of(a, b), resamples=500, seed=5
    )


def test_micro_f1_pools_counts():
    # per case: [true positives, predicted, gold]
    a = np.array([[2, 2, 3], [1, 1, 1], [0, 1, 2]], dtype=float)
    b = np.array([[1, 3, 3], [0, 2, 1], [0, 0, 2]], dtype=float)
    result = paired_bootstrap(Leaf.of(a, b, statistic="micro_f1"), resamples=500, seed=0)
    assert result.a == pytest.approx(200 * 3 / (4 + 6))
    assert result.b == pytest.approx(200 * 1 / (5 + 6))
    with pytest.raises(ValueError, match="unknown statistic"):
        paired_bootstrap(Leaf.of(a, b, statistic="median"))


def test_compare_entries_and_refusals(entry_factory):
    a = entry_factory("a", seed=1, shift=10).with_id(1, "t")
    b = entry_factory("b", seed=1).with_id(2, "t")
    result = compare_entries(a, b, resamples=2000, seed=3)
    assert [t.method for t in result.tests] == ["paired-bootstrap", "approximate-randomization"]
    assert result.tests[0].delta > 0 and result.tests[0].p_value < 0.01
    assert result.to_json()["n_cases"] == 47

    other_cases = entry_factory("c", seed=1, case_ids=[str(i) for i in range(1, 21)]).with_id(3, "t")
    with pytest.raises(NotComparableError, match="different case sets"):
        compare_entries(a, other_cases)
    other_sig = entry_factory("d", seed=1, variants={"overall_score": "z"}).with_id(4, "t")
    with pytest.raises(NotComparableError, match="signatures differ"):
        compare_entries(a, other_sig)
    partial = entry_factory("e", seed=1, missing=("medcon",)).with_id(5, "t")
    with pytest.raises(NotComparableError, match="medcon is unavailable"):
        compare_entries(a, partial, key="medcon")
    with pytest.raises(NotComparableError, match="partial in a different way"):
        compare_entries(a, partial)
    other_key = entry_factory("f", seed=1, key_hash="q" * 64).with_id(6, "t")
    with pytest.raises(NotComparableError, match="different keys"):
        compare_entries(a, other_key)


def test_compare_needs_per_case_values(entry_factory):
    a = entry_factory("a", seed=1).with_id(1, "t")
    metrics = dict(a.metrics)
    metrics["bleu"] = MetricResult("bleu", metrics["bleu"].signature, metrics["bleu"].value)
    b = replace(entry_factory("b", seed=2), metrics=metrics).with_id(2, "t")
    with pytest.raises(NotComparableError, match="no per-case values"):
        compare_entries(a, b, key="bleu")


def test_mean_of_components_resamples_cases_jointly():
    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 100, 40), rng.uniform(0, 100, 40)
    same = MeanOf((Leaf.of(x, x, name="p"), Leaf.of(y, y, name="q")), "overall")
    assert paired_bootstrap(same, resamples=1000).p_value == pytest.approx(1.0)
    better = MeanOf((Leaf.of(x + 3, x, name="p"), Leaf.of(y + 3, y, name="q")), "overall")
    result = paired_bootstrap(better, resamples=1000)
    assert result.delta == pytest.approx(3.0) and result.ci_low == pytest.approx(3.0)
    assert result.statistic == "overall=mean(p:mean,q:mean)"


def test_compare_combined_overall_from_reports(report_factory):
    a = entry_from_report(report_factory("a", seed=1, shift=8)).with_id(1, "t")
    b = entry_from_report(report_factory("b", seed=2)).with_id(2, "t")
    assert a.metrics["overall_score"].aggregation == "combined"
    assert a.metrics["overall_score"].per_case is None
    result = compare_entries(a, b, resamples=1000, seed=1)
    assert result.tests[0].a == pytest.approx(a.metrics["overall_score"].value)
    assert result.tests[0].statistic.startswith("overall_score=mean(bleu:mean,rougeLsum:mean")
    assert result.tests[0].p_value < 0.01

    # partial overall scores compare over the components both have, when both lack the same ones
    pa = entry_from_report(report_factory("pa", seed=1, missing=("medcon",))).with_id(3, "t")
    pb = entry_from_report(report_factory("pb", seed=1, missing=("medcon",))).with_id(4, "t")
    same = compare_entries(pa, pb, resamples=500)
    assert same.tests[0].p_value == pytest.approx(1.0)
    assert same.tests[0].a == pytest.approx(pa.metrics["overall_score"].value)
    with pytest.raises(NotComparableError, match="partial in a different way"):
        compare_entries(a, pa)


def test_compare_refuses_inconsistent_reports(report_factory):
    a = entry_from_report(report_factory("a", seed=1)).with_id(1, "t")
    b = entry_from_report(report_factory("b", seed=2)).with_id(2, "t")
    bleu = b.metrics["bleu"]
    tampered = replace(b, metrics={**b.metrics, "bleu": replace(bleu, value=(bleu.value or 0) + 5)})
    with pytest.raises(NotComparableError, match="inconsistent"):
        compare_entries(a, tampered, key="bleu", resamples=200)
