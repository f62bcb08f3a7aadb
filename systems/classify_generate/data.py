"""What the two tasks see of a case, and their training examples (no torch).

A case is a question and its record items: on ArchEHR-QA the numbered note sentences, on the FHIR track
the resources (:mod:`fhirqa.dataset` maps them onto the same :class:`~harness.data.Case`). Task 1 sees one
(question, item) pair at a time; task 2 sees the question and the items judged relevant.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.data.model import Case, CaseKey

YES, NO = "yes", "no"


@dataclass(frozen=True)
class Item:
    id: str
    text: str


@dataclass(frozen=True)
class QAView:
    """A case as both tasks read it."""

    case_id: str
    question: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class RelevanceExample:
    """Task 1: is ``item`` relevant to ``question``? ``label`` is "yes" or "no"."""

    case_id: str
    question: str
    item: Item
    label: str


@dataclass(frozen=True)
class AnswerExample:
    """Task 2: the answer to ``question`` from the (gold) relevant ``items``."""

    case_id: str
    question: str
    items: tuple[Item, ...]
    answer: str


def question_text(case: Case, mode: str) -> str:
    """The question a system reads: ``clinician`` (the clinical wording), ``patient`` (the narrative), or ``both``."""
    patient = (case.patient_narrative or "").strip()
    clinician = (case.clinician_question or "").strip()
    if mode == "patient":
        return patient or clinician
    if mode == "both" and patient and clinician and patient != clinician:
        return f"{patient}\nClinical question: {clinician}"
    if mode not in ("clinician", "both", "patient"):
        raise ValueError(f"question mode must be clinician, patient or both, not {mode!r}")
    return clinician or patient


def view(case: Case, mode: str, item_chars: int = 0) -> QAView:
    """The case's question and items (item texts cut to ``item_chars`` characters when > 0)."""
    items = tuple(Item(s.id, _cut(s.text, item_chars)) for s in case.sentences or ())
    return QAView(case.case_id, question_text(case, mode), items)


def _cut(text: str, limit: int) -> str:
    return text if limit <= 0 or len(text) <= limit else text[: limit - 1].rstrip() + "…"


def relevant_ids(key: CaseKey, positive_labels: Sequence[str]) -> set[str]:
    return {sid for sid, label in key.relevance if label in positive_labels}


def relevance_examples(
    cases: Sequence[Case],
    keys: Mapping[str, CaseKey],
    *,
    mode: str,
    item_chars: int,
    positive_labels: Sequence[str] = ("essential",),
    skip_labels: Sequence[str] = ("supplementary",),
    negatives_per_positive: int = 2,
    seed: int = 13,
) -> list[RelevanceExample]:
    """Every positive pair, and ``negatives_per_positive`` sampled negatives per positive (at least that many
    per case, so questions with no relevant item teach "no" too); items labelled ``skip_labels`` are left out."""
    rng = random.Random(f"relevance:{seed}")
    out: list[RelevanceExample] = []
    for case in cases:
        key = keys[case.case_id]
        qa = view(case, mode, item_chars)
        labels = dict(key.relevance)
        positives = [i for i in qa.items if labels.get(i.id) in positive_labels]
        negatives = [i for i in qa.items if labels.get(i.id) not in (*positive_labels, *skip_labels)]
        wanted = negatives_per_positive * max(len(positives), 1)
        chosen = rng.sample(negatives, min(wanted, len(negatives)))
        pairs = [(i, YES) for i in positives] + [(i, NO) for i in chosen]
        out += [RelevanceExample(case.case_id, qa.question, item, label) for item, label in pairs]
    rng.shuffle(out)
    return out


def answer_examples(
    cases: Sequence[Case],
    keys: Mapping[str, CaseKey],
    *,
    mode: str,
    item_chars: int,
    positive_labels: Sequence[str] = ("essential",),
) -> list[AnswerExample]:
    """One example per case with a reference answer: the gold relevant items (in record order) → the answer."""
    out = []
    for case in cases:
        key = keys[case.case_id]
        answer = (key.clinician_answer_without_citations or "").strip()
        if not answer:
            continue
        qa = view(case, mode, item_chars)
        wanted = relevant_ids(key, positive_labels)
        out.append(AnswerExample(case.case_id, qa.question, tuple(i for i in qa.items if i.id in wanted), answer))
    return out
