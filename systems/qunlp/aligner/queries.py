"""What is aligned with what: queries and candidate note sentences per case, and gold links from the key.

Subtask 4: one query per answer sentence (its id is the answer id). Subtask 2: one query per case,
the clinician question followed by the patient narrative, with the fixed id :data:`EVIDENCE_QUERY_ID`.
In both, every note sentence of the case is a candidate. Light: no numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.data.model import Case, CaseKey, Subtask

#: The query id of a subtask-2 case in raw scores (``{case_id: {"question": {sentence_id: score}}}``).
EVIDENCE_QUERY_ID = "question"
SUPPORTED_SUBTASKS = (Subtask.EVIDENCE_IDENTIFICATION, Subtask.EVIDENCE_ALIGNMENT)


@dataclass(frozen=True)
class CaseQueries:
    """One case's queries (id, text) and candidates (note sentence id, text), both in file order."""

    case_id: str
    queries: tuple[tuple[str, str], ...]
    sentences: tuple[tuple[str, str], ...]


def case_queries(case: Case, subtask: Subtask) -> CaseQueries:
    subtask = Subtask(subtask)
    if subtask not in SUPPORTED_SUBTASKS:
        raise ValueError(f"the aligner answers subtasks 2 and 4, not {int(subtask)}")
    sentences = tuple((s.id, s.text) for s in case.sentences or ())
    if subtask == Subtask.EVIDENCE_ALIGNMENT:
        queries = tuple((a.id, a.text) for a in case.answer_sentences or ())
    else:
        text = " ".join(t for t in (case.clinician_question, case.patient_narrative) if t)
        queries = ((EVIDENCE_QUERY_ID, text),)
    return CaseQueries(case.case_id, queries, sentences)


def gold_links(
    keys: Mapping[str, CaseKey], case_ids: Sequence[str], subtask: Subtask
) -> dict[str, set[tuple[str, str]]]:
    """Gold (query id, sentence id) links per case: citations (subtask 4) or essential sentences (subtask 2)."""
    out: dict[str, set[tuple[str, str]]] = {}
    for case_id in case_ids:
        key = keys[case_id]
        if Subtask(subtask) == Subtask.EVIDENCE_ALIGNMENT:
            out[case_id] = key.links()
        else:
            out[case_id] = {(EVIDENCE_QUERY_ID, sid) for sid in key.ids_with("essential")}
    return out


def links_to_prediction(case: CaseQueries, links: Mapping[str, Sequence[str]], subtask: Subtask) -> list:
    """Chosen links in the 2026 submission shape (sentence ids in note order)."""
    order = {sid: i for i, (sid, _) in enumerate(case.sentences)}
    if Subtask(subtask) == Subtask.EVIDENCE_IDENTIFICATION:
        return sorted(links.get(EVIDENCE_QUERY_ID, ()), key=order.__getitem__)
    return [
        {"answer_id": qid, "evidence_id": sorted(links.get(qid, ()), key=order.__getitem__)} for qid, _ in case.queries
    ]
