"""What each subtask needs from a case and from the key, with errors that say what is missing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from harness.data.model import AnswerSentence, Case, Split, Subtask
from harness.errors import InputError, Problem

#: Whitespace-token limits past which the official scorers keep only the first N tokens.
WORD_LIMITS: dict[Subtask, int] = {Subtask.QUESTION_INTERPRETATION: 15, Subtask.ANSWER_GENERATION: 75}
#: The 2025 answer limit (words split on single spaces, citations kept).
WORD_LIMIT_2025 = 75

#: Case fields each subtask's system input needs.
SUBTASK_INPUTS: dict[Subtask, tuple[str, ...]] = {
    Subtask.QUESTION_INTERPRETATION: ("patient_narrative",),
    Subtask.EVIDENCE_IDENTIFICATION: ("patient_narrative", "clinician_question", "sentences"),
    Subtask.ANSWER_GENERATION: ("patient_narrative", "clinician_question", "sentences"),
    Subtask.EVIDENCE_ALIGNMENT: ("patient_narrative", "clinician_question", "sentences", "answer_sentences"),
}

#: Gold fields each subtask's scoring needs (``case.`` from the XML, ``key.`` from the key file).
SUBTASK_GOLD: dict[Subtask, tuple[str, ...]] = {
    Subtask.QUESTION_INTERPRETATION: ("case.clinician_question",),
    Subtask.EVIDENCE_IDENTIFICATION: ("key.relevance",),
    Subtask.ANSWER_GENERATION: ("key.clinician_answer_without_citations",),
    Subtask.EVIDENCE_ALIGNMENT: ("key.clinician_answer_sentences",),
}


def inputs_for(split: Split, subtask: Subtask, case_ids: Sequence[str] | None = None) -> list[Case]:
    """The cases of ``split`` ready for ``subtask``, or an error listing every case and missing field.

    For subtask 4 on a split whose XML lacks ``<answer_sentences>`` but whose key has the clinician
    answer sentences (the dev split), the answer sentences are taken from the key without citations.
    """
    chosen = split.select(case_ids)
    out: list[Case] = []
    problems: list[Problem] = []
    file = f"{split.source.folder or split.name}/archehr-qa.xml"
    for case in chosen.cases:
        if subtask == Subtask.EVIDENCE_ALIGNMENT and case.answer_sentences is None and chosen.keys:
            key = chosen.keys.get(case.case_id)
            if key is not None and key.clinician_answer_sentences is not None:
                case = replace(
                    case, answer_sentences=tuple(AnswerSentence(a.id, a.text) for a in key.clinician_answer_sentences)
                )
        missing = [f for f in SUBTASK_INPUTS[subtask] if getattr(case, f) is None]
        if missing:
            problems.append(
                Problem(
                    f"subtask {int(subtask)} needs {', '.join(missing)}, which this file does not hold",
                    file,
                    case.case_id,
                    missing[0],
                )
            )
        out.append(case)
    if problems:
        raise InputError(problems)
    return out


def gold_problems(split: Split, subtask: Subtask, case_ids: Sequence[str] | None = None) -> list[Problem]:
    """Problems that stop ``split`` from being scored for ``subtask`` (no key, missing gold fields)."""
    chosen = split.select(case_ids)
    folder = split.source.folder or split.name
    problems: list[Problem] = []
    for case in chosen.cases:
        for spec in SUBTASK_GOLD[subtask]:
            owner, _, name = spec.partition(".")
            if owner == "case":
                value = getattr(case, name)
                file = f"{folder}/archehr-qa.xml"
            else:
                key = (chosen.keys or {}).get(case.case_id)
                value = None if key is None else getattr(key, name)
                file = f"{folder}/archehr-qa_key.json"
            if value is None:
                problems.append(
                    Problem(f"subtask {int(subtask)} scoring needs {name}, which is missing", file, case.case_id, name)
                )
    return problems
