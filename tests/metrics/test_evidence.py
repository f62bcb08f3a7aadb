"""Evidence P/R/F1: every empty-set convention of spec §4, hand-worked."""

from __future__ import annotations

import pytest

from metrics.evidence import (
    Counts,
    EvidenceCase,
    links,
    prf_subtask2_case,
    prf_subtask2_micro,
    prf_zero_when_undefined,
    score_2025,
    score_2026_subtask2,
    score_2026_subtask4,
)


def case(cid: str, predicted=(), essential=(), supplementary=()) -> EvidenceCase:
    return EvidenceCase(cid, frozenset(predicted), frozenset(essential), frozenset(supplementary))


def prf(p):
    return (p.precision, p.recall, p.f1)


# --------------------------------------------------------------------------- rules


def test_subtask2_case_rule():
    assert prf(prf_subtask2_case(Counts(0, 0, 0))) == (1.0, 1.0, 1.0)  # both empty
    assert prf(prf_subtask2_case(Counts(0, 0, 3))) == (0.0, 0.0, 0.0)  # nothing predicted
    assert prf(prf_subtask2_case(Counts(0, 2, 0))) == (0.0, 0.0, 0.0)  # empty gold
    p, r, f = prf(prf_subtask2_case(Counts(2, 3, 4)))  # predicted {1,2,3}, gold {2,3,4,5}
    assert (p, r) == (2 / 3, 1 / 2) and f == pytest.approx(4 / 7)
    assert prf(prf_subtask2_case(Counts(0, 2, 2))) == (0.0, 0.0, 0.0)  # disjoint: P + R = 0


def test_subtask2_micro_rule():
    assert prf(prf_subtask2_micro(Counts(0, 0, 0))) == (1.0, 1.0, 1.0)
    assert prf(prf_subtask2_micro(Counts(0, 0, 5))) == (0.0, 0.0, 0.0)
    assert prf(prf_subtask2_micro(Counts(0, 5, 0))) == (0.0, 0.0, 0.0)


def test_zero_when_undefined_rule():
    assert prf(prf_zero_when_undefined(Counts(0, 0, 0))) == (0.0, 0.0, 0.0)  # empty vs empty scores 0
    assert prf(prf_zero_when_undefined(Counts(0, 0, 2))) == (0.0, 0.0, 0.0)
    assert prf(prf_zero_when_undefined(Counts(0, 2, 0))) == (0.0, 0.0, 0.0)
    assert prf(prf_zero_when_undefined(Counts(1, 2, 1))) == (0.5, 1.0, pytest.approx(2 / 3))


# --------------------------------------------------------------------------- 2026 subtask 2


def test_subtask2_macro_micro_and_keys():
    result = score_2026_subtask2([case("1", {"1", "2"}, {"1"}), case("2")])  # case 2: both empty
    s = result.scores
    assert list(s) == [
        f"{v}_{k}_{m}" for v in ("strict", "lenient") for k in ("macro", "micro") for m in ("precision", "recall", "f1")
    ]
    # macro: case 1 (0.5, 1, 2/3), case 2 (1, 1, 1)
    assert s["strict_macro_precision"] == pytest.approx(75.0)
    assert s["strict_macro_recall"] == pytest.approx(100.0)
    assert s["strict_macro_f1"] == pytest.approx(100 * (2 / 3 + 1) / 2)
    # micro: tp 1, predicted 2, gold 1
    assert s["strict_micro_precision"] == pytest.approx(50.0)
    assert s["strict_micro_recall"] == pytest.approx(100.0)
    assert s["strict_micro_f1"] == pytest.approx(100 * 2 / 3)
    assert result.counts["strict_micro_f1"] == {"1": [1, 2, 1], "2": [0, 0, 0]}
    assert result.per_case["strict_macro_f1"]["2"] == 100.0


def test_subtask2_all_empty_pooled_scores_100():
    s = score_2026_subtask2([case("1"), case("2")]).scores
    assert s["strict_micro_f1"] == s["strict_macro_f1"] == 100.0


def test_subtask2_lenient_drops_supplementary_predictions():
    s = score_2026_subtask2([case("1", {"1", "2", "3"}, {"1"}, {"2"})]).scores
    assert (s["strict_micro_precision"], s["strict_micro_recall"]) == (pytest.approx(100 / 3), 100.0)
    assert s["strict_micro_f1"] == pytest.approx(50.0)
    # lenient: predicted {1, 3} against {1}
    assert (s["lenient_micro_precision"], s["lenient_micro_recall"]) == (50.0, 100.0)
    assert s["lenient_micro_f1"] == pytest.approx(100 * 2 / 3)
    assert s["lenient_macro_recall"] == s["strict_macro_recall"]  # lenient recall = strict recall


def test_subtask2_lenient_can_empty_both_sides():
    # only a supplementary sentence predicted, no essential gold: strict one-empty → 0, lenient both-empty → 1
    s = score_2026_subtask2([case("1", {"2"}, (), {"2"})]).scores
    assert s["strict_macro_f1"] == 0.0 and s["strict_micro_f1"] == 0.0
    assert s["lenient_macro_f1"] == 100.0 and s["lenient_micro_f1"] == 100.0


# --------------------------------------------------------------------------- 2026 subtask 4


def test_subtask4_keys_and_empty_vs_empty_is_zero():
    s = score_2026_subtask4([case("1")]).scores
    assert list(s) == [f"{k}_{m}" for k in ("micro", "macro") for m in ("precision", "recall", "f1")]
    assert set(s.values()) == {0.0}


def test_subtask4_hand_worked():
    gold = {("1", "3"), ("1", "5"), ("2", "7")}
    result = score_2026_subtask4(
        [
            case("1", {("1", "3"), ("2", "7"), ("2", "8")}, gold),  # tp 2 of 3 predicted, 3 gold
            case("2", (), {("1", "1")}),  # nothing predicted: P = R = F1 = 0
        ]
    )
    s = result.scores
    assert s["micro_precision"] == pytest.approx(100 * 2 / 3)
    assert s["micro_recall"] == pytest.approx(100 * 2 / 4)
    assert s["micro_f1"] == pytest.approx(100 * 2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2))
    assert s["macro_precision"] == pytest.approx(100 * (2 / 3 + 0) / 2)
    assert s["macro_recall"] == pytest.approx(100 * (2 / 3 + 0) / 2)
    assert result.counts["micro_f1"] == {"1": [2, 3, 3], "2": [0, 0, 1]}


def test_links_unlisted_answers_mean_no_links_and_duplicates_collapse():
    prediction = [{"answer_id": "1", "evidence_id": ["3", "3", "5"]}, {"answer_id": "2", "evidence_id": []}]
    assert links(prediction) == {("1", "3"), ("1", "5")}


# --------------------------------------------------------------------------- 2025


def test_2025_lenient_gold_adds_supplementary():
    s = score_2025([case("1", {"1", "2"}, {"1"}, {"2"})]).scores
    assert s["strict_micro_precision"] == 50.0 and s["strict_micro_recall"] == 100.0
    assert s["strict_micro_f1"] == pytest.approx(100 * 2 / 3)
    assert s["lenient_micro_precision"] == s["lenient_micro_recall"] == s["lenient_micro_f1"] == 100.0


def test_2025_zero_denominators_give_zero():
    s = score_2025([case("1", {" 2"}, ()), case("2", {"1"}, {"1"})]).scores
    # case 1: the unstripped " 2" matches nothing and there is no gold → all 0; case 2 perfect
    assert s["strict_macro_f1"] == 50.0
    assert s["strict_micro_precision"] == 50.0 and s["strict_micro_recall"] == 100.0


def test_no_cases_is_an_error():
    with pytest.raises(ValueError):
        score_2026_subtask2([])
