"""Prompts with the real Qwen3 tokenizer and chat template: thinking disabled, answer-only labels, budgets."""

from __future__ import annotations

import pytest

from harness.assets import locate
from harness.data import Subtask, inputs_for, load_dataset
from systems.lora.prompts import IGNORE_INDEX, encode_sample, render_prompt
from systems.qunlp.generator.config import PromptSection
from systems.qunlp.generator.emrqa import Stage1Example, load_stage1_corpus
from systems.qunlp.generator.prompts import case_sample, select_note_sentences, stage1_sample, window_context

PROMPT = PromptSection(max_context_chars=300, max_note_words=None)


@pytest.fixture(scope="module")
def tokenizer():
    from systems.lora.modeling import load_tokenizer

    status = locate("qwen3-tokenizer")
    assert status.found_at is not None, status.how_to_supply
    return load_tokenizer(status.found_at)


@pytest.fixture(scope="module")
def dev():
    return load_dataset("synthetic").split("dev")


def test_prompt_uses_qwen3_template_with_thinking_disabled(tokenizer, dev) -> None:
    case = inputs_for(dev, Subtask.ANSWER_GENERATION)[0]
    text = render_prompt(tokenizer, case_sample(case, PROMPT))
    assert text.startswith("<|im_start|>system\n" + PROMPT.system)
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert case.clinician_question.strip() in text and case.patient_narrative.strip() in text
    for sentence in case.sentences:
        assert f"[{sentence.id}] {sentence.text.strip()}" in text


def test_stage2_labels_cover_only_the_answer(tokenizer, dev) -> None:
    case = inputs_for(dev, Subtask.ANSWER_GENERATION)[0]
    sample = case_sample(case, PROMPT, dev.keys[case.case_id])
    assert sample.answer == dev.keys[case.case_id].clinician_answer_without_citations.strip()
    encoded = encode_sample(tokenizer, sample, max_seq_len=4096)
    prompt_len = len(tokenizer(render_prompt(tokenizer, sample), add_special_tokens=False)["input_ids"])
    assert encoded.labels[:prompt_len] == [IGNORE_INDEX] * prompt_len
    assert encoded.labels[prompt_len:] == encoded.input_ids[prompt_len:]
    assert tokenizer.decode(encoded.input_ids[prompt_len:]) == sample.answer + "<|im_end|>\n"


def test_stage1_samples_answer_or_say_not_in_note(tokenizer) -> None:
    examples = load_stage1_corpus("synthetic")
    answerable = next(e for e in examples if e.answerable)
    unanswerable = next(e for e in examples if not e.answerable)
    sample = stage1_sample(answerable, PROMPT)
    assert sample.answer == answerable.answer_text
    assert answerable.answer_text in sample.messages[1]["content"]
    assert stage1_sample(unanswerable, PROMPT).answer == PROMPT.unanswerable_answer
    encoded = encode_sample(tokenizer, sample, max_seq_len=512)
    answer_ids = [t for t in encoded.labels if t != IGNORE_INDEX]
    assert tokenizer.decode(answer_ids) == answerable.answer_text + "<|im_end|>\n"


def test_too_long_prompt_is_dropped_and_long_answer_truncated(tokenizer, dev) -> None:
    case = inputs_for(dev, Subtask.ANSWER_GENERATION)[0]
    sample = case_sample(case, PROMPT, dev.keys[case.case_id])
    assert encode_sample(tokenizer, sample, max_seq_len=50) is None
    prompt_len = len(tokenizer(render_prompt(tokenizer, sample), add_special_tokens=False)["input_ids"])
    encoded = encode_sample(tokenizer, sample, max_seq_len=prompt_len + 10)
    assert len(encoded.input_ids) == prompt_len + 10
    assert sum(1 for t in encoded.labels if t != IGNORE_INDEX) == 10


def test_window_keeps_the_answer_and_the_budget() -> None:
    context = "\n".join(f"Line {i}: the patient was stable on day {i}." for i in range(100))
    start = context.index("day 57")
    window = window_context(context, start, len("day 57"), 200)
    assert "day 57" in window and len(window) <= 200
    assert window.startswith("Line")  # snapped to a line start
    assert window_context(context, None, 0, 200) == context[: len(window_context(context, None, 0, 200))]
    assert window_context("short", 0, 5, 200) == "short"


@pytest.mark.parametrize("offset", [0, 1, 50, 500, 999])
def test_window_at_the_edges(offset: int) -> None:
    context = "x" * 1000 + "ANSWER" + "y" * 1000
    example = Stage1Example("e", context, "q?", "ANSWER", 1000)
    window = window_context(example.context, 1000, 6, 100 + offset)
    assert "ANSWER" in window and len(window) <= 100 + offset


def test_note_budget_keeps_question_words_in_note_order(dev) -> None:
    case = inputs_for(dev, Subtask.ANSWER_GENERATION)[0]
    chosen = select_note_sentences(case, 60)
    assert sum(len(s.text.split()) for s in chosen) <= 60
    ids = [s.id for s in chosen]
    assert ids == [s.id for s in case.sentences if s.id in set(ids)]
    assert any("amiodarone" in s.text.lower() for s in chosen)
    assert select_note_sentences(case, None) == list(case.sentences)
