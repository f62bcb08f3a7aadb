"""A small split built from the dataclasses, its files on disk, and good submissions for it.

Cases "1"-"3" (split ``dev``): cases 1 and 2 have note sentences 1-5, case 3 has 1-4.
Answer sentences: case 1 has 1-2, case 2 has 1-3 (in the key only, not in the XML), case 3 has 1-2;
answer sentence k cites note sentences k and 4. Essential: 1, 2, 4; supplementary: 3.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.data.loader import write_split
from harness.data.model import AnswerSentence, Case, CaseKey, NoteSentence, Split
from submissions.format2025 import format_answer_2025
from submissions.formats import build_entries

NOTE_SENTENCES = {"1": 5, "2": 5, "3": 4}
ANSWER_SENTENCES = {"1": 2, "2": 3, "3": 2}


def _case(case_id: str, xml_answers: bool) -> tuple[Case, CaseKey]:
    n = NOTE_SENTENCES[case_id]
    texts = [f"Note sentence {k} of case {case_id}." for k in range(1, n + 1)]
    paragraphs = [texts[:2], texts[2:]]
    sentences = []
    for pid, para in enumerate(paragraphs):
        offset = 0
        for text in para:
            sentences.append(NoteSentence(str(len(sentences) + 1), str(pid), offset, text))
            offset += len(text) + 1
    answers = tuple(
        AnswerSentence(str(a), f"Answer sentence {a} of case {case_id}.", (str(a), "4"))
        for a in range(1, ANSWER_SENTENCES[case_id] + 1)
    )
    labels = {"1": "essential", "2": "essential", "3": "supplementary", "4": "essential"}
    case = Case(
        case_id=case_id,
        patient_narrative=f"I am patient {case_id}. Why did my doctor change my medicine?",
        clinician_question=f"Why was the medication of patient {case_id} changed?",
        note_excerpt="\n\n".join(" ".join(p) for p in paragraphs),
        sentences=tuple(sentences),
        answer_sentences=tuple(AnswerSentence(a.id, a.text) for a in answers) if xml_answers else None,
    )
    key = CaseKey(
        case_id=case_id,
        relevance=tuple((s.id, labels.get(s.id, "not-relevant")) for s in sentences),  # type: ignore[misc]
        clinician_answer=" ".join(a.text for a in answers),
        clinician_answer_without_citations=" ".join(a.text for a in answers),
        clinician_answer_sentences=answers,
    )
    return case, key


def make_split(*, with_key: bool = True) -> Split:
    pairs = [_case("1", True), _case("2", False), _case("3", True)]
    keys = {k.case_id: k for _, k in pairs} if with_key else None
    return Split("dev", tuple(c for c, _ in pairs), keys)


def good_predictions(split: Split, subtask: int | None, year: str = "2026") -> dict[str, Any]:
    """Gold-derived predictions for every case of ``split``."""
    out: dict[str, Any] = {}
    for case in split.cases:
        key = (split.keys or {}).get(case.case_id)
        answers = key.clinician_answer_sentences if key and key.clinician_answer_sentences else ()
        if year == "2025":
            out[case.case_id] = format_answer_2025(
                answers or [("A short answer.", [case.sentence_ids()[0]])], case_id=case.case_id
            )
        elif subtask == 1:
            out[case.case_id] = case.clinician_question or "What is the question?"
        elif subtask == 2:
            out[case.case_id] = key.ids_with("essential") if key else case.sentence_ids()[:1]
        elif subtask == 3:
            out[case.case_id] = (key and key.clinician_answer_without_citations) or "A short answer."
        else:
            out[case.case_id] = [{"answer_id": a.id, "evidence_id": list(a.citations)} for a in answers]
    return out


@pytest.fixture
def mini_split() -> Split:
    return make_split()


@pytest.fixture
def split_without_key() -> Split:
    return make_split(with_key=False)


@pytest.fixture
def data_dir(tmp_path: Path, mini_split: Split) -> Path:
    """``tmp/data/dev/`` in the official layout (XML and key)."""
    write_split(mini_split, tmp_path / "data" / "dev")
    return tmp_path / "data"


@pytest.fixture
def good_entries() -> Callable[..., list[dict[str, Any]]]:
    def build(split: Split, subtask: int | None, year: str = "2026") -> list[dict[str, Any]]:
        return build_entries(good_predictions(split, subtask, year), split.case_ids(), subtask=subtask, year=year)

    return build
