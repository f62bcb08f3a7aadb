from __future__ import annotations

from pathlib import Path

import pytest

from harness.data.loader import load_dataset
from harness.systems import get_system_entry
from systems.llm_prompt.config import SPEC, LLMPromptConfig, LLMPromptConfigError
from systems.llm_prompt.fewshot import FewShotRetriever
from systems.llm_prompt.prompts import load_prompts


def test_fewshot_never_returns_the_case_itself() -> None:
    dev = load_dataset("synthetic").split("dev")
    retriever = FewShotRetriever(dev, need_answer=True)
    assert len(retriever.pool) == len(dev.cases)
    for case in dev.cases:
        examples = retriever.examples(case, 3)
        assert len(examples) == 3
        assert case.case_id not in [e.case.case_id for e in examples]
        assert all(e.answer for e in examples)


def test_fewshot_best_match_comes_last() -> None:
    dev = load_dataset("synthetic").split("dev")
    retriever = FewShotRetriever(dev, need_answer=False)
    target = dev.cases[0]
    from dataclasses import replace

    similar = replace(
        target,
        case_id="999",
        patient_narrative=target.patient_narrative + " Thanks.",
        clinician_question=target.clinician_question + " Please.",
    )
    assert retriever.examples(similar, 2)[-1].case.case_id == target.case_id
    copy_under_another_id = replace(target, case_id="1000")  # e.g. the same case in another split
    assert target.case_id not in [e.case.case_id for e in retriever.examples(copy_under_another_id, 19)]


def test_config_refuses_unknown_keys_bad_types_and_ranges() -> None:
    with pytest.raises(LLMPromptConfigError, match=r"unknown llm-prompt config key.*smaples"):
        SPEC.load({"smaples": 5})
    with pytest.raises(LLMPromptConfigError, match="'samples': expected an integer"):
        SPEC.load({"samples": "five"})
    with pytest.raises(LLMPromptConfigError, match="evidence_mode"):
        SPEC.load({"evidence_mode": "vote"})
    with pytest.raises(LLMPromptConfigError, match=r"vote_threshold=0\.0"):
        SPEC.load({"vote_threshold": 0})
    assert SPEC.load({"temperature": 1}).temperature == 1.0


def test_prompt_override_by_path_changes_the_fingerprint(tmp_path: Path) -> None:
    from systems.llm_prompt.system import LLMPromptSystem

    custom = tmp_path / "q.txt"
    custom.write_text("Rewrite: {{ case.patient_narrative }}", encoding="utf-8")
    base = LLMPromptSystem(LLMPromptConfig())
    other = LLMPromptSystem(SPEC.load({"prompts": {"subtask1": str(custom)}}))
    assert other.prompts.origins["subtask1"] == str(custom)
    assert base.card.fingerprint != other.card.fingerprint
    with pytest.raises(LLMPromptConfigError, match="unknown template"):
        load_prompts(SPEC.load({"prompts": {"subtask9": str(custom)}}))
    broken = tmp_path / "broken.txt"
    broken.write_text("{% for x in %}", encoding="utf-8")
    with pytest.raises(LLMPromptConfigError, match=r"broken\.txt line 1"):
        load_prompts(SPEC.load({"prompts": {"subtask3": str(broken)}}))


def test_registered_for_all_four_subtasks_and_guarded() -> None:
    assert get_system_entry("llm-prompt").subtasks == (1, 2, 3, 4)
    from llmkit.guard import DataUseError

    with pytest.raises(DataUseError):
        get_system_entry("llm-prompt").builder({"base_url": "https://8.8.8.8/v1"})
    get_system_entry("llm-prompt").builder({"base_url": "https://8.8.8.8/v1", "allow_remote": True})
