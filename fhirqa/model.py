"""The FHIR track's data model: patient records made of items, questions with gold, datasets.

A record item is one FHIR resource, identified as ``ResourceType/id`` (the resource's ``id``, or the id
part of its bundle entry's ``fullUrl`` when the resource has none, as in transaction bundles). Its
``text`` is the one-line rendering systems read (:mod:`fhirqa.render`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from harness.data.model import Subtask


class FhirTask(IntEnum):
    """The two tasks of the track (the paper's decomposition)."""

    RELEVANCE = 1  # which resources answer the question → resource ids
    ANSWER = 2  # the answer text, from the record

    @property
    def subtask(self) -> Subtask:
        """The ArchEHR-QA subtask with the same input and output shape (what systems are asked)."""
        return TASK_SUBTASK[self]


TASK_SUBTASK: dict[FhirTask, Subtask] = {
    FhirTask.RELEVANCE: Subtask.EVIDENCE_IDENTIFICATION,
    FhirTask.ANSWER: Subtask.ANSWER_GENERATION,
}

#: ``year`` of FHIR-track score reports on the leaderboard (it groups tables by year and subtask).
TRACK = "fhir"


@dataclass(frozen=True)
class RecordItem:
    """One resource of a record."""

    id: str  # "Observation/1f0c…"
    resource_type: str
    text: str  # one line, see fhirqa.render
    date: str | None = None  # ISO date (YYYY-MM-DD) when the resource has one
    resource: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PatientRecord:
    """One patient's bundle, reduced to the clinical resources a question may be about."""

    record_id: str
    items: tuple[RecordItem, ...]
    patient: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    source: str | None = None  # the file it was read from

    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]

    def item(self, item_id: str) -> RecordItem:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(f"record {self.record_id} has no resource {item_id}")

    def of_type(self, *types: str) -> list[RecordItem]:
        return [i for i in self.items if i.resource_type in types]


@dataclass(frozen=True)
class Fact:
    """A piece of the reference answer and the resource that states it (the text occurs in both)."""

    item_id: str
    text: str


@dataclass(frozen=True)
class FhirQuestion:
    """A question about one record; ``relevant_ids`` and ``answer`` are the gold (``None`` when not annotated)."""

    question_id: str
    record_id: str
    question: str  # the patient's wording
    clinician_question: str | None = None  # a clinical rewording (what retrieval-style systems read)
    category: str | None = None
    relevant_ids: tuple[str, ...] | None = None
    answer: str | None = None
    facts: tuple[Fact, ...] = ()

    @property
    def annotated(self) -> bool:
        return self.relevant_ids is not None and self.answer is not None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"question_id": self.question_id, "record_id": self.record_id, "question": self.question}
        if self.clinician_question is not None:
            data["clinician_question"] = self.clinician_question
        if self.category is not None:
            data["category"] = self.category
        if self.relevant_ids is not None:
            data["relevant_ids"] = list(self.relevant_ids)
        if self.answer is not None:
            data["answer"] = self.answer
        if self.facts:
            data["facts"] = [{"id": f.item_id, "text": f.text} for f in self.facts]
        return data


@dataclass(frozen=True)
class FhirDataset:
    """Records by id and question splits, as one data folder holds them."""

    records: Mapping[str, PatientRecord]
    splits: Mapping[str, tuple[FhirQuestion, ...]]
    root: str | None = None
    manifest: Mapping[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> tuple[FhirQuestion, ...]:
        try:
            return self.splits[name]
        except KeyError:
            known = ", ".join(self.splits) or "none"
            raise KeyError(f"no split {name!r} in {self.root or 'dataset'} (splits: {known})") from None
