"""Tasks and their formulas: published arithmetic reproduced, partial rules, length rules, output keys, and
every registered task fitting the metric registry."""

from __future__ import annotations

import dataclasses

import pytest

from harness.tasks import UnknownTaskError, all_tasks, get_task, task_for
from metrics.combine import combine
from metrics.registry import check_task, family_outputs, get_metric_spec
from submissions.format2025 import WORD_LIMIT_2025


def formula_for(year: str, subtask: int | None):
    return task_for(year, subtask)


def truncate_words(text: str, max_words: int) -> tuple[str, bool]:
    task = get_task("2026/3")
    return dataclasses.replace(task, max_words=max_words).truncate(text)


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


def test_every_task_fits_the_metric_registry():
    for task in all_tasks():
        check_task(task)
        produced = {k for f in task.families for k in family_outputs(task, f)} | set(task.combined_keys)
        assert set(task.output_keys) == produced, task.id
        assert task.overall_key == "overall_score" and task.combined_keys[-1] == "overall_score"
        assert all(get_metric_spec(f) for f in task.families)
        assert set(task.column_order) <= set(task.output_keys) and task.primary <= set(task.output_keys)


def test_a_task_that_does_not_fit_is_refused():
    broken = dataclasses.replace(get_task("2026/3"), families=("bleu", "rouge"))
    with pytest.raises(ValueError, match="sari: no family outputs it"):
        check_task(broken)


def test_task_lookup():
    assert formula_for("2025", None) is formula_for("2025", 3) is get_task("2025")  # 2025 has no subtasks
    assert get_task("2026/3").slug == "2026-subtask3" and get_task("fhir/1").slug == "fhir-task1"
    with pytest.raises(UnknownTaskError, match="did you mean"):
        get_task("2026/5")
    with pytest.raises(UnknownTaskError):
        formula_for("2024", 1)


def test_word_limits():
    assert {t.id: t.max_words for t in all_tasks() if t.max_words} == {
        "2026/1": 15, "2026/3": 75, "2025": 75, "fhir/2": 75,
    }  # fmt: skip
    assert WORD_LIMIT_2025 == 75


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
