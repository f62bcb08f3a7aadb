"""The formula data: published arithmetic reproduced, partial rules, length rules, output keys."""

from __future__ import annotations

import pytest

from harness.data.tasks import WORD_LIMIT_2025, WORD_LIMITS
from metrics.subtasks import FAMILY_OUTPUTS, FORMULAS, combine, formula_for, truncate_words

QU_NLP_2026_ST3 = {  # published components, test-2026 (47 cases)
    "bleu": 9.42,
    "rougeLsum": 27.04,
    "sari": 55.42,
    "bertscore": 43.00,
    "alignscore": 25.28,
    "medcon": 37.04,
}
LAMAR_2025_RELEVANCE = {  # published relevance components (mean 41.37)
    "bleu": 6.0,
    "rougeLsum": 32.1,
    "sari": 65.8,
    "bertscore": 36.4,
    "alignscore": 64.3,
    "medcon": 43.6,
}


def test_qu_nlp_overall_from_components():
    result = combine(formula_for("2026", 3), QU_NLP_2026_ST3)
    assert round(result.values["overall_score"], 2) == 32.87
    assert not result.missing and not result.partial


def test_lamar_2025_relevance_and_overall():
    result = combine(formula_for("2025", None), {**LAMAR_2025_RELEVANCE, "strict_micro_f1": 56.9})
    assert round(result.values["overall_relevance"], 2) == 41.37
    assert result.values["overall_factuality"] == 56.9
    assert round(result.values["overall_score"], 1) == 49.1


def test_evidence_overalls_copy_micro_f1():
    assert combine(formula_for("2026", 2), {"strict_micro_f1": 61.5}).values == {"overall_score": 61.5}
    assert combine(formula_for("2026", 4), {"micro_f1": 67.16}).values == {"overall_score": 67.16}


def test_subtask1_overall_components():
    values = {"alignscore": 10.0, "rougeLsum": 20.0, "medcon": 30.0, "bertscore": 40.0, "rouge1": 99.0}
    assert combine(formula_for("2026", 1), values).values["overall_score"] == 25.0


def test_missing_component_makes_overall_null_with_partial_mean():
    values = {**QU_NLP_2026_ST3, "alignscore": None}
    result = combine(formula_for("2026", 3), values)
    assert result.values["overall_score"] is None
    assert result.missing["overall_score"] == ("alignscore",)
    assert result.partial["overall_score"] == pytest.approx((9.42 + 27.04 + 55.42 + 43.00 + 37.04) / 5)


def test_nested_partial_2025():
    values = {**LAMAR_2025_RELEVANCE, "bertscore": None, "medcon": None, "strict_micro_f1": 56.9}
    result = combine(formula_for("2025", None), values)
    assert result.values["overall_relevance"] is None and result.values["overall_score"] is None
    assert result.values["overall_factuality"] == 56.9
    assert result.missing["overall_score"] == ("medcon", "bertscore")  # formula order
    relevance = (6.0 + 32.1 + 65.8 + 64.3) / 4
    assert result.partial["overall_relevance"] == pytest.approx(relevance)
    assert result.partial["overall_score"] == pytest.approx((relevance + 56.9) / 2)


def test_nothing_available_has_no_partial_value():
    result = combine(formula_for("2026", 3), {})
    assert result.values["overall_score"] is None and "overall_score" not in result.partial


def test_output_keys_per_spec():
    assert formula_for("2026", 1).output_keys == (
        "rouge1", "rouge2", "rougeL", "rougeLsum", "bertscore", "medcon", "alignscore", "overall_score",
    )  # fmt: skip
    assert formula_for("2026", 3).output_keys == (
        "bleu", "rouge1", "rouge2", "rougeL", "rougeLsum", "sari", "bertscore", "medcon", "alignscore", "overall_score",
    )  # fmt: skip
    st2 = formula_for("2026", 2).output_keys
    assert st2[-1] == "overall_score" and len(st2) == 13 and "lenient_micro_f1" in st2
    assert formula_for("2026", 4).output_keys == (
        "micro_precision", "micro_recall", "micro_f1", "macro_precision", "macro_recall", "macro_f1", "overall_score",
    )  # fmt: skip
    y2025 = formula_for("2025", None).output_keys
    assert {"overall_relevance", "overall_factuality", "overall_score", "strict_micro_f1", "sari"} <= set(y2025)


def test_every_formula_is_consistent():
    for formula in FORMULAS.values():
        produced = set(formula.text_outputs) | {c.key for c in formula.combined}
        if formula.evidence is not None:
            produced |= {k for k in formula.output_keys if k.endswith(("precision", "recall", "f1"))}
        assert set(formula.output_keys) == produced, formula.name
        for item in formula.combined:
            assert set(item.components) <= set(formula.output_keys), item
        assert formula.overall_key == "overall_score"
        assert all(f in FAMILY_OUTPUTS for f in formula.families)


def test_formula_lookup():
    assert formula_for("2025", None) is formula_for("2025", 3)  # the 2025 task has no subtasks
    with pytest.raises(ValueError):
        formula_for("2026", 5)
    with pytest.raises(ValueError):
        formula_for("2024", 1)


def test_word_limits_agree_with_the_submission_checks():
    assert {int(k): v for k, v in WORD_LIMITS.items()} == {
        f.subtask: f.max_words for f in FORMULAS.values() if f.year == "2026" and f.max_words
    }
    assert formula_for("2025", None).max_words == WORD_LIMIT_2025


# --------------------------------------------------------------------------- length rule


def test_truncate_over_the_limit_rejoins_with_single_spaces():
    text = " ".join(f"w{i}" for i in range(20)).replace("w3 ", "w3\n\n")
    cut, truncated = truncate_words(text, 15)
    assert truncated and cut == " ".join(f"w{i}" for i in range(15))


def test_truncate_at_or_under_the_limit_keeps_the_stripped_text():
    text = "  line one\nline  two\t three  \n"
    assert truncate_words(text, 5) == ("line one\nline  two\t three", False)
    exactly = " ".join(["w"] * 75)
    assert truncate_words(exactly, 75) == (exactly, False)
    assert truncate_words(exactly + " extra", 75) == (exactly, True)
