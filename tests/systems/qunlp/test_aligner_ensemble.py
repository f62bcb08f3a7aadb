"""Aligner ensemble logic on hand-made scores: normalisation, relative threshold, top-k, fallback, tuning, metrics."""

from __future__ import annotations

import numpy as np
import pytest

from systems.qunlp.aligner.ensemble import EnsembleParams, apply, build_table, link_sets, normalise
from systems.qunlp.aligner.evaluation import MicroScores, score_links
from systems.qunlp.aligner.raw_scores import RawScores
from systems.qunlp.aligner.tuning import Grid, fold_assignment, one_hot, simplex_weights, tune


def raw_of(**components: dict) -> RawScores:
    return RawScores(4, {name: nested for name, nested in components.items()})


def params(
    weights: dict[str, float], *, fraction: float = 0.0, threshold: float = 0.05, k: int = 5, min_links: int = 0
):
    return EnsembleParams(weights, fraction, threshold, k, min_links)


def chosen(raw: RawScores, p: EnsembleParams, scope: str = "case") -> dict:
    return apply(build_table(raw, scope=scope), p)[1]


def test_bm25_relative_threshold_keeps_sentences_near_the_case_best() -> None:
    raw = raw_of(bm25={"1": {"a": {"1": 10.0, "2": 6.0, "3": 2.0}}})
    assert chosen(raw, params({"bm25": 1.0}, fraction=0.5)) == {"1": {"a": ["1", "2"]}}
    assert chosen(raw, params({"bm25": 1.0}, fraction=0.7)) == {"1": {"a": ["1"]}}
    assert chosen(raw, params({"bm25": 1.0}, fraction=0.1)) == {"1": {"a": ["1", "2", "3"]}}


def test_relative_threshold_is_per_case_or_per_query() -> None:
    # query b's best (4) is 40% of the case's best (10): gone at fraction 0.5 per case, kept per query
    raw = raw_of(bm25={"1": {"a": {"1": 10.0, "2": 0.0}, "b": {"1": 0.0, "2": 4.0}}})
    p = params({"bm25": 1.0}, fraction=0.5)
    assert chosen(raw, p, "case") == {"1": {"a": ["1"], "b": []}}
    assert chosen(raw, p, "query") == {"1": {"a": ["1"], "b": ["2"]}}


def test_top_k_caps_links_and_ties_follow_note_order() -> None:
    raw = raw_of(tfidf={"1": {"a": {"1": 0.5, "2": 0.9, "3": 0.9, "4": 0.7}}})
    assert chosen(raw, params({"tfidf": 1.0}, k=2)) == {"1": {"a": ["2", "3"]}}
    assert chosen(raw, params({"tfidf": 1.0}, k=3)) == {"1": {"a": ["2", "3", "4"]}}
    assert chosen(raw, params({"tfidf": 1.0}, k=1)) == {"1": {"a": ["2"]}}


def test_min_links_fallback_keeps_the_best_only_when_it_scores_above_zero() -> None:
    raw = raw_of(tfidf={"1": {"a": {"1": 0.2, "2": 0.1}, "b": {"1": 0.0, "2": 0.0}}, "2": {"c": {"1": 1.0}}})
    # a threshold above every normalised score: only the fallback links anything
    strict = params({"tfidf": 1.0}, threshold=2.0, min_links=0)
    fallback = params({"tfidf": 1.0}, threshold=2.0, min_links=1)
    assert chosen(raw, strict) == {"1": {"a": [], "b": []}, "2": {"c": []}}
    assert chosen(raw, fallback) == {"1": {"a": ["1"], "b": []}, "2": {"c": ["1"]}}


def test_weighted_sum_combines_normalised_components() -> None:
    raw = raw_of(
        bm25={"1": {"a": {"1": 4.0, "2": 2.0}}},
        tfidf={"1": {"a": {"1": 0.1, "2": 0.4}}},
        cross_encoder={"1": {"a": {"1": -3.0, "2": 5.0}}},
    )
    table = build_table(raw)
    scores, _ = apply(table, params({"bm25": 0.5, "tfidf": 0.25, "cross_encoder": 0.25}))
    # bm25 rel (1, .5); tfidf rel (.25, 1); ce min-max (0, 1)
    np.testing.assert_allclose(scores, [0.5 * 1 + 0.25 * 0.25 + 0, 0.5 * 0.5 + 0.25 * 1 + 0.25 * 1])


def test_cross_encoder_normalisation_handles_pruned_and_degenerate_groups() -> None:
    values = np.array([2.0, np.nan, -2.0, 0.5])
    groups = np.array([0, 0, 0, 1])
    out = normalise(values, groups, 2, "minmax")
    np.testing.assert_allclose(out, [1.0, 0.0, 0.0, 1 / (1 + np.exp(-0.5))])  # pruned -> 0; one sentence -> sigmoid
    np.testing.assert_allclose(normalise(np.array([0.0, 0.0]), np.array([0, 0]), 1, "relative"), [0.0, 0.0])


def test_empty_answers_and_single_sentence_cases() -> None:
    raw = raw_of(
        bm25={"1": {}, "2": {"a": {"1": 0.0}}, "3": {"a": {"1": 1.5}}},
        cross_encoder={"1": {}, "2": {"a": {"1": 3.0}}, "3": {"a": {"1": -4.0}}},
    )
    links = chosen(raw, params({"bm25": 0.5, "cross_encoder": 0.5}, threshold=0.4))
    # case 2: .5 * 0 + .5 * sigmoid(3) = .48; case 3: .5 * 1 + .5 * sigmoid(-4) = .51
    assert links == {"1": {}, "2": {"a": ["1"]}, "3": {"a": ["1"]}}


def test_micro_scores_follow_the_2026_empty_set_conventions() -> None:
    assert MicroScores.from_counts(0, 0, 0, 4).f1 == 0.0
    assert MicroScores.from_counts(0, 0, 0, 2).f1 == 100.0
    two_of_four = MicroScores.from_counts(2, 4, 2, 4)
    assert (two_of_four.precision, two_of_four.recall, round(two_of_four.f1, 2)) == (50.0, 100.0, 66.67)
    scores = score_links({"1": {("a", "1"), ("a", "2")}}, {"1": {("a", "1")}, "2": {("b", "3")}}, 4)
    assert (scores.tp, scores.predicted, scores.gold) == (1, 2, 2)
    assert scores.f1 == pytest.approx(50.0)
    assert score_links({"1": set()}, {"1": set()}, 2).f1 == 100.0  # subtask 2: nothing vs nothing
    assert score_links({"1": set()}, {"1": set()}, 4).f1 == 0.0


def test_simplex_grid_and_folds() -> None:
    weights = simplex_weights(["bm25", "tfidf", "cross_encoder"], 0.1)
    assert len(weights) == 66 and all(abs(sum(w.values()) - 1) < 1e-9 for w in weights)
    folds = fold_assignment(10, 3, seed=1)
    assert sorted(np.bincount(folds)) == [3, 3, 4]
    np.testing.assert_array_equal(folds, fold_assignment(10, 3, seed=1))
    assert sorted(fold_assignment(4, 10, seed=1)) == [0, 1, 2, 3]  # leave-one-case-out


def _separable_cases(n: int) -> tuple[RawScores, dict]:
    """tfidf ranks the gold sentence first; bm25 is noise that prefers a wrong sentence."""
    rng = np.random.default_rng(0)
    bm25, tfidf, gold = {}, {}, {}
    for c in range(n):
        case = str(c)
        bm25[case] = {"a": {"1": float(rng.uniform(0, 1)), "2": 5.0, "3": float(rng.uniform(0, 1))}}
        tfidf[case] = {"a": {"1": 0.9, "2": 0.2, "3": 0.1}}
        gold[case] = {("a", "1")}
    return raw_of(bm25=bm25, tfidf=tfidf), gold


def test_tuning_finds_the_informative_component_and_cross_validates() -> None:
    raw, gold = _separable_cases(8)
    table = build_table(raw)
    grid = Grid(simplex_weights(["bm25", "tfidf"], 0.25), (0.5,), (0.3, 0.6, 0.9), (1, 2), (0, 1))
    result = tune(table, gold, grid, subtask=4, folds=4, seed=3)
    assert result.cv.f1 == pytest.approx(100.0) and result.fit.f1 == pytest.approx(100.0)
    assert result.params.weights["tfidf"] > result.params.weights["bm25"]
    _, links = apply(table, result.params)
    assert score_links(link_sets(links), gold, 4).f1 == pytest.approx(100.0)
    alone = tune(table, gold, Grid(one_hot("bm25"), (0.5,), (0.3, 0.6, 0.9), (1,), (0,)), subtask=4, folds=4)
    assert alone.cv.f1 == pytest.approx(0.0)
    again = tune(table, gold, grid, subtask=4, folds=4, seed=3)
    assert again.to_json() == result.to_json()
