"""The ArchEHR-QA data model: cases (inputs), keys (gold), mappings, splits and datasets.

A case holds exactly what its file holds: fields absent from the file are ``None``
(the public 2026 subtask-1 test XML carries narratives only). Ids are strings
everywhere ("121" is not 121).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

from harness.errors import UnknownNameError

Relevance = Literal["essential", "supplementary", "not-relevant"]
RELEVANCE_LABELS: tuple[Relevance, ...] = ("essential", "supplementary", "not-relevant")


class Subtask(IntEnum):
    """The four 2026 subtasks (2025 had one task, answered like subtask 3 with citations)."""

    QUESTION_INTERPRETATION = 1
    EVIDENCE_IDENTIFICATION = 2
    ANSWER_GENERATION = 3
    EVIDENCE_ALIGNMENT = 4


@dataclass(frozen=True)
class Phrase:
    """A span of the patient narrative that a clinician marked as the question."""

    id: str
    start_char_index: int
    text: str


@dataclass(frozen=True)
class NoteSentence:
    """A numbered sentence of the note excerpt; ``start_char_index`` is within its paragraph."""

    id: str
    paragraph_id: str
    start_char_index: int
    text: str


@dataclass(frozen=True)
class AnswerSentence:
    """A sentence of the clinician answer; ``citations`` are note sentence ids (gold only)."""

    id: str
    text: str
    citations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    """One case's inputs, as its XML file holds them."""

    case_id: str
    patient_narrative: str | None = None
    phrases: tuple[Phrase, ...] | None = None
    clinician_question: str | None = None
    note_excerpt: str | None = None
    sentences: tuple[NoteSentence, ...] | None = None
    clinical_specialty: str | None = None
    answer_sentences: tuple[AnswerSentence, ...] | None = None

    def sentence_ids(self) -> list[str]:
        return [s.id for s in self.sentences or ()]

    def paragraphs(self) -> list[str]:
        """The note excerpt's paragraphs (separated by blank lines)."""
        if self.note_excerpt is None:
            return []
        return self.note_excerpt.split("\n\n")


@dataclass(frozen=True)
class CaseKey:
    """One case's gold annotations from the key file (2025 fields, plus the 2026 ones when present)."""

    case_id: str
    relevance: tuple[tuple[str, Relevance], ...]
    clinician_answer: str | None = None
    clinician_answer_without_citations: str | None = None
    clinician_answer_sentences: tuple[AnswerSentence, ...] | None = None

    def labels(self) -> dict[str, Relevance]:
        return dict(self.relevance)

    def ids_with(self, *labels: Relevance) -> list[str]:
        return [sid for sid, rel in self.relevance if rel in labels]

    def links(self) -> set[tuple[str, str]]:
        """Gold (answer_id, evidence_id) pairs for subtask 4."""
        return {(a.id, c) for a in self.clinician_answer_sentences or () for c in a.citations}


@dataclass(frozen=True)
class MappingEntry:
    case_id: str
    document_id: str
    document_source: str


@dataclass(frozen=True)
class SourceFiles:
    """Where a split was read from, and layout facts needed to write it back byte for byte."""

    folder: str | None = None
    xml_declaration: bool = True
    key_style: Literal["2025", "2026"] | None = None


@dataclass(frozen=True)
class Split:
    """One split folder: cases in file order, plus the key and mapping when released."""

    name: str
    cases: tuple[Case, ...]
    keys: Mapping[str, CaseKey] | None = None
    mapping: tuple[MappingEntry, ...] | None = None
    source: SourceFiles = field(default_factory=SourceFiles)

    def case_ids(self) -> list[str]:
        return [c.case_id for c in self.cases]

    def case(self, case_id: str) -> Case:
        for c in self.cases:
            if c.case_id == case_id:
                return c
        raise KeyError(case_id)

    def select(self, case_ids: Iterable[str] | None) -> Split:
        """The same split restricted to ``case_ids`` (all cases when ``None``), in file order."""
        if case_ids is None:
            return self
        wanted = set(case_ids)
        where = self.source.folder or self.name
        if not wanted:
            raise UnknownNameError.one(
                "the case-id list is empty; give ids such as '1-3 5', or leave it out", file=where
            )
        longest = case_ids.longest_range() if isinstance(case_ids, CaseIds) else None
        if longest is not None and longest[1] > len(self.cases):
            raise UnknownNameError.one(
                f"case-id range {longest[0]} covers {longest[1]} ids, more than the {len(self.cases)} cases of split"
                f" {self.name} (it holds {id_ranges(self.case_ids())})",
                file=where,
                field="case_ids",
            )
        unknown = wanted - set(self.case_ids())
        if unknown:
            raise UnknownNameError.one(
                f"split {self.name} has no case(s) {id_ranges(unknown)} (it holds {id_ranges(self.case_ids())})",
                file=where,
                field="case_ids",
            )
        keys = None if self.keys is None else {k: v for k, v in self.keys.items() if k in wanted}
        mapping = None if self.mapping is None else tuple(m for m in self.mapping if m.case_id in wanted)
        cases = tuple(c for c in self.cases if c.case_id in wanted)
        return Split(self.name, cases, keys, mapping, self.source)


@dataclass(frozen=True)
class Dataset:
    """Named splits (``dev``, ``test``, ``test-2026`` …) loaded from one data folder."""

    splits: Mapping[str, Split]
    root: str | None = None

    def split(self, name: str) -> Split:
        try:
            return self.splits[name]
        except KeyError:
            known = ", ".join(self.splits) or "none"
            raise UnknownNameError.one(
                f"no split {name!r} here (splits: {known})", file=self.root or "dataset", field="split"
            ) from None


def _id_order(case_id: str) -> tuple[int, int | str]:
    return (0, int(case_id)) if case_id.isascii() and case_id.isdigit() else (1, case_id)


def sort_ids(ids: Iterable[str]) -> list[str]:
    """Ids in ascending numeric order (non-numeric ids last, alphabetically)."""
    return sorted(ids, key=_id_order)


#: The most ids one ``--case-ids`` range may cover: more than any ArchEHR-QA split holds.
MAX_RANGE_IDS = 100_000


def parse_id_ranges(spec: str | Sequence[str], *, max_range: int | None = MAX_RANGE_IDS) -> list[str]:
    """Parse ``"1-3 5"`` or ``["1-3", "5"]`` (commas allowed) into ``["1", "2", "3", "5"]``.

    A range covering more than ``max_range`` ids is refused before it is expanded.
    """
    parts = (
        spec.replace(",", " ").split()
        if isinstance(spec, str)
        else [p for s in spec for p in s.replace(",", " ").split()]
    )
    out: list[str] = []
    ranges: list[str] = []
    for part in parts:
        if "-" in part:
            lo, _, hi = part.partition("-")
            if not (lo.isascii() and hi.isascii() and lo.isdigit() and hi.isdigit()) or int(lo) > int(hi):
                raise ValueError(f"bad case-id range {part!r} (expected e.g. 21-120)")
            if max_range is not None and int(hi) - int(lo) + 1 > max_range:
                raise ValueError(
                    f"case-id range {part!r} covers {int(hi) - int(lo) + 1} ids, more than any split holds"
                    f" (limit {max_range}); check for a typo"
                )
            out.extend(str(i) for i in range(int(lo), int(hi) + 1))
            ranges.append(part)
        else:
            out.append(part)
    return CaseIds(dict.fromkeys(out), ranges=tuple(ranges))


class CaseIds(list[str]):
    """Parsed case ids that remember the ranges they came from, so a split can refuse a range longer than
    itself in the user's own words (``1-1000`` rather than a thousand unknown ids)."""

    def __init__(self, ids: Iterable[str] = (), *, ranges: tuple[str, ...] = ()) -> None:
        super().__init__(ids)
        self.ranges = ranges

    def longest_range(self) -> tuple[str, int] | None:
        """The longest range given and how many ids it covers."""
        sizes = [(r, int(r.partition("-")[2]) - int(r.partition("-")[0]) + 1) for r in self.ranges]
        return max(sizes, key=lambda item: item[1], default=None)


def id_ranges(ids: Iterable[str]) -> str:
    """Case ids as compact ranges: ``["1", "2", "3", "5", "x"]`` → ``"1-3 5 x"`` (inverse of parse_id_ranges)."""
    ordered = sort_ids(set(ids))
    parts: list[str] = []
    run: list[int] = []

    def flush() -> None:
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
            run.clear()

    for cid in ordered:
        if cid.isdigit() and str(int(cid)) == cid:
            if run and int(cid) != run[-1] + 1:
                flush()
            run.append(int(cid))
        else:
            flush()
            parts.append(cid)
    flush()
    return " ".join(parts)
