"""What each 2026 subtask's systems need from a case, with errors that say what is missing.

What scoring needs (gold fields, length rules) belongs to the tasks of :mod:`harness.tasks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from harness.data.model import AnswerSentence, Case, Split, Subtask
from harness.errors import InputError, Problem

#: Case fields each subtask's system input needs.
SUBTASK_INPUTS: dict[Subtask, tuple[str, ...]] = {
    Subtask.QUESTION_INTERPRETATION: ("patient_narrative",),
    Subtask.EVIDENCE_IDENTIFICATION: ("patient_narrative", "clinician_question", "sentences"),
    Subtask.ANSWER_GENERATION: ("patient_narrative", "clinician_question", "sentences"),
    Subtask.EVIDENCE_ALIGNMENT: ("patient_narrative", "clinician_question", "sentences", "answer_sentences"),
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
