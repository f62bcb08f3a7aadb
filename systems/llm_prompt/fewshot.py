"""Retrieval-augmented few-shot: the k annotated training cases most similar to a case (BM25), never the case itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from harness.data.model import Case, Split
from harness.textutil import tokenize


@dataclass(frozen=True)
class Example:
    case: Case
    answer: str | None  # the clinician answer without citations (subtask 3), when the key has it


def _query(case: Case) -> list[str]:
    return tokenize(" ".join(t for t in (case.patient_narrative, case.clinician_question) if t)) or ["<empty>"]


def same_case(a: Case, b: Case) -> bool:
    """The same case, whatever its id in its split: same narrative, or same question on the same note."""
    if a.patient_narrative and a.patient_narrative == b.patient_narrative:
        return True
    return bool(a.note_excerpt) and a.note_excerpt == b.note_excerpt and a.clinician_question == b.clinician_question


class FewShotRetriever:
    """BM25 over narrative + clinician question of the pool's annotated cases."""

    def __init__(self, split: Split, *, need_answer: bool) -> None:
        keys = split.keys or {}
        pool = []
        for case in split.cases:
            key = keys.get(case.case_id)
            answer = key.clinician_answer_without_citations if key else None
            if not case.patient_narrative or not case.clinician_question or (need_answer and not answer):
                continue
            pool.append(Example(case, answer))
        self.pool: tuple[Example, ...] = tuple(pool)
        self._bm25 = BM25Okapi([_query(e.case) for e in self.pool]) if self.pool else None

    def examples(self, case: Case, k: int) -> list[Example]:
        """The ``k`` best examples for ``case``, best last (closest to the question in the prompt)."""
        if k <= 0 or self._bm25 is None:
            return []
        scores = self._bm25.get_scores(_query(case))
        order = sorted(range(len(self.pool)), key=lambda i: (-float(scores[i]), i))
        chosen = [self.pool[i] for i in order if not same_case(self.pool[i].case, case)][:k]
        return list(reversed(chosen))


def pool_names(examples: Sequence[Example]) -> list[str]:
    return [e.case.case_id for e in examples]
