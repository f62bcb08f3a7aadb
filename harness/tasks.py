"""The task registry: one frozen :class:`Task` per scored task, with a parsable id.

Ids: ``2025`` (ArchEHR-QA 2025, one task), ``2026/1`` .. ``2026/4`` (the 2026 subtasks), ``fhir/1`` and
``fhir/2`` (the FHIR patient-record QA track). A task owns everything that differs between tasks: its
titles, the prediction shape it reads, the length rule, how the gold of a case is built (a callable), the
metric families it is scored with (names in :mod:`metrics.registry`), its official formula (combined keys)
and the leaderboard's column order. Validators, the scorer, the leaderboard and the CLI take a ``Task``;
the long explanation is docs/architecture.md and docs/scoring.md.

This module is core: it imports only the data model. Metric families are referenced by name and checked
against the metric registry by :func:`metrics.registry.check_task` (and a test).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from harness.data.model import Case, CaseKey, Split, Subtask, sort_ids
from harness.errors import HarnessError, Problem
from harness.textutil import cut_words

#: What a submission entry's prediction is, per task.
PredictionKind = Literal["text", "sentence-ids", "links", "answer-2025"]
#: How the length rule splits words: ``whitespace`` (2026: ``str.split()``), ``single-space`` (2025).
WordSplit = Literal["whitespace", "single-space"]


class UnknownTaskError(HarnessError):
    """A task id that is not registered."""


@dataclass(frozen=True)
class CaseGold:
    """What one case's predictions are scored against, for one task."""

    case_id: str
    reference: str | None = None
    sari_source: str | None = None
    sari_reference: str | None = None
    essential: frozenset[Any] = frozenset()
    supplementary: frozenset[Any] = frozenset()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"case_id": self.case_id}
        for name in ("reference", "sari_source", "sari_reference"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        links = any(isinstance(i, tuple) for i in self.essential)
        out["essential"] = sorted(map(list, self.essential) if links else self.essential)
        out["supplementary"] = sorted(self.supplementary)
        return out


#: Builds a case's gold; the key is ``None`` only for tasks whose gold lives in the case XML.
GoldBuilder = Callable[[Case, CaseKey | None], CaseGold]


@dataclass(frozen=True)
class Combined:
    """A key computed from other keys: ``numpy.mean`` of ``components`` in order (one component: a copy)."""

    key: str
    components: tuple[str, ...]
    display: str
    description: str = ""


@dataclass(frozen=True)
class Task:
    """One scored task. ``edition`` and ``number`` are the score report's ``year`` and ``subtask`` fields."""

    id: str
    edition: str
    number: int | None
    title: str
    #: The 2026 subtask whose system input and submission shape this task uses (``None``: 2025's own).
    subtask: Subtask | None
    prediction: PredictionKind
    prediction_field: str
    #: Gold fields scoring needs: ``case.<field>`` (the XML) or ``key.<field>`` (the key file).
    gold_fields: tuple[str, ...]
    gold: GoldBuilder
    #: Metric families (names in :mod:`metrics.registry`) in output order; evidence families included.
    families: tuple[str, ...]
    #: Output keys of the report, in order (combined keys last).
    output_keys: tuple[str, ...]
    combined: tuple[Combined, ...]
    #: Keys the terminal table shows by default; the others with ``--all-columns``.
    primary: frozenset[str]
    #: Leaderboard column order (the overall score first); keys not listed follow in output order.
    column_order: tuple[str, ...] = ()
    overall_key: str = "overall_score"
    max_words: int | None = None
    word_split: WordSplit | None = None
    official: bool = True  # an ArchEHR-QA task scored by an official scorer (not the FHIR track)

    # ------------------------------------------------------------------ names

    @property
    def name(self) -> str:
        """Running-text name: ``2026 subtask 3``, ``ArchEHR-QA 2025``, ``FHIR QA task 1``."""
        if self.edition == "fhir":
            return f"FHIR QA task {self.number}"
        if self.number is None:
            return f"ArchEHR-QA {self.edition}"
        return f"{self.edition} subtask {self.number}"

    @property
    def table_title(self) -> str:
        """``2026 Subtask 3 · answer generation``."""
        if self.edition == "fhir":
            return f"FHIR QA · task {self.number} · {self.title}"
        if self.number is None:
            return f"ArchEHR-QA {self.edition} · {self.title}"
        return f"{self.edition} Subtask {self.number} · {self.title}"

    @property
    def slug(self) -> str:
        """A file-name-safe form of the id: ``2026-subtask3``, ``2025``, ``fhir-task1`` (signatures, folders)."""
        if self.number is None:
            return self.edition
        return f"{self.edition}-{'task' if self.edition == 'fhir' else 'subtask'}{self.number}"

    def __str__(self) -> str:
        return self.id

    @property
    def submission_year(self) -> str:
        """The official submission format the task reads: ``2025`` (answer with citations) or ``2026``."""
        return "2025" if self.subtask is None else "2026"

    # ------------------------------------------------------------------ rules

    @property
    def combined_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.combined)

    @property
    def base_keys(self) -> tuple[str, ...]:
        """Output keys that metrics compute (not combined)."""
        combined = set(self.combined_keys)
        return tuple(k for k in self.output_keys if k not in combined)

    def truncate(self, text: str) -> tuple[str, bool]:
        """The 2026 length rule (whitespace tokens): the stripped text, or its first ``max_words`` tokens
        joined by single spaces. Returns the text and whether it was cut. The 2025 rule lives with its parser."""
        if self.max_words is None or self.word_split != "whitespace":
            raise ValueError(f"task {self.id} has no whitespace length rule")
        text = text.strip()
        cut = cut_words(text, self.max_words)
        return cut, cut is not text

    def gold_problems(self, split: Split, case_ids: Sequence[str] | None = None) -> list[Problem]:
        """What stops ``split`` from being scored for this task: no key, missing gold fields."""
        chosen = split.select(case_ids)
        folder = split.source.folder or split.name
        problems: list[Problem] = []
        for case in chosen.cases:
            for spec in self.gold_fields:
                owner, _, name = spec.partition(".")
                if owner == "case":
                    value, file = getattr(case, name), f"{folder}/archehr-qa.xml"
                else:
                    key = (chosen.keys or {}).get(case.case_id)
                    value = None if key is None else getattr(key, name)
                    file = f"{folder}/archehr-qa_key.json"
                if value is None:
                    problems.append(
                        Problem(f"{self.name} scoring needs {name}, which is missing", file, case.case_id, name)
                    )
        return problems


# ---------------------------------------------------------------------- gold construction


def _require(key: CaseKey | None, case: Case) -> CaseKey:
    if key is None:  # gold_problems refuses this before any gold is built
        raise HarnessError(f"case {case.case_id}: the key has no entry for this case")
    return key


def gold_question(case: Case, key: CaseKey | None) -> CaseGold:
    """2026 subtask 1: the gold clinician question of the case XML."""
    return CaseGold(case.case_id, reference=case.clinician_question)


def gold_evidence(case: Case, key: CaseKey | None) -> CaseGold:
    """2026 subtask 2 (and FHIR task 1): essential ids (strict), supplementary ids (lenient)."""
    key = _require(key, case)
    return CaseGold(
        case.case_id,
        essential=frozenset(key.ids_with("essential")),
        supplementary=frozenset(key.ids_with("supplementary")),
    )


def gold_answer(case: Case, key: CaseKey | None) -> CaseGold:
    """2026 subtask 3 (and FHIR task 2): the clinician answer without citations; SARI source: the narrative."""
    key = _require(key, case)
    return CaseGold(
        case.case_id,
        reference=(key.clinician_answer_without_citations or "").strip(),
        sari_source=case.patient_narrative,
    )


def gold_links(case: Case, key: CaseKey | None) -> CaseGold:
    """2026 subtask 4: the (answer_id, evidence_id) links of the clinician answer sentences."""
    return CaseGold(case.case_id, essential=frozenset(_require(key, case).links()))


def gold_2025(case: Case, key: CaseKey | None) -> CaseGold:
    """2025: narrative + question + essential sentences (ascending id) as reference; see docs/scoring.md."""
    key = _require(key, case)
    essential = frozenset(key.ids_with("essential"))
    texts = {s.id: s.text for s in case.sentences or ()}
    essential_text = "\n".join(texts[i] for i in sort_ids(essential) if i in texts)
    source = f"{case.patient_narrative}\n\n{case.clinician_question}"
    return CaseGold(
        case.case_id,
        reference=f"{source}\n\n{essential_text}",
        sari_source=source,
        sari_reference=essential_text,
        essential=essential,
        supplementary=frozenset(key.ids_with("supplementary")),
    )


# ---------------------------------------------------------------------- the registry


def prf_keys(*prefixes: str) -> tuple[str, ...]:
    """``strict_micro_precision``, ``strict_micro_recall``, ``strict_micro_f1``, … for each prefix."""
    return tuple(f"{p}_{m}" for p in prefixes for m in ("precision", "recall", "f1"))


_ROUGE = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_OVERALL = "the task's official overall score"

_REGISTRY: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    """Add ``task`` to the registry (its id must be new)."""
    existing = _REGISTRY.get(task.id)
    if existing is not None and existing != task:
        raise ValueError(f"task {task.id!r} is registered twice")
    _REGISTRY[task.id] = task
    return task


register_task(
    Task(
        id="2026/1",
        edition="2026",
        number=1,
        title="question interpretation",
        subtask=Subtask.QUESTION_INTERPRETATION,
        prediction="text",
        prediction_field="prediction",
        gold_fields=("case.clinician_question",),
        gold=gold_question,
        families=("rouge", "bertscore", "medcon", "alignscore"),
        output_keys=(*_ROUGE, "bertscore", "medcon", "alignscore", "overall_score"),
        combined=(Combined("overall_score", ("alignscore", "rougeLsum", "medcon", "bertscore"), "Overall", _OVERALL),),
        primary=frozenset({"overall_score", "rougeLsum", "bertscore", "alignscore", "medcon"}),
        column_order=("overall_score", "rougeLsum", "bertscore", "alignscore", "medcon"),
        max_words=15,
        word_split="whitespace",
    )
)
register_task(
    Task(
        id="2026/2",
        edition="2026",
        number=2,
        title="evidence identification",
        subtask=Subtask.EVIDENCE_IDENTIFICATION,
        prediction="sentence-ids",
        prediction_field="prediction",
        gold_fields=("key.relevance",),
        gold=gold_evidence,
        families=("evidence",),
        output_keys=(*prf_keys("strict_macro", "strict_micro", "lenient_macro", "lenient_micro"), "overall_score"),
        combined=(Combined("overall_score", ("strict_micro_f1",), "Overall", _OVERALL),),
        primary=frozenset(
            {"overall_score", "strict_micro_f1", "strict_micro_precision", "strict_micro_recall", "lenient_micro_f1"}
        ),
        column_order=(
            "overall_score",
            "strict_micro_f1",
            "strict_micro_precision",
            "strict_micro_recall",
            "lenient_micro_f1",
            *prf_keys("lenient_micro", "strict_macro", "lenient_macro"),
        ),
    )
)
register_task(
    Task(
        id="2026/3",
        edition="2026",
        number=3,
        title="answer generation",
        subtask=Subtask.ANSWER_GENERATION,
        prediction="text",
        prediction_field="prediction",
        gold_fields=("key.clinician_answer_without_citations", "case.patient_narrative"),
        gold=gold_answer,
        families=("bleu", "rouge", "sari", "bertscore", "medcon", "alignscore"),
        output_keys=("bleu", *_ROUGE, "sari", "bertscore", "medcon", "alignscore", "overall_score"),
        combined=(
            Combined(
                "overall_score", ("bleu", "rougeLsum", "sari", "bertscore", "alignscore", "medcon"), "Overall", _OVERALL
            ),
        ),
        primary=frozenset({"overall_score", "bleu", "rougeLsum", "sari", "bertscore", "alignscore", "medcon"}),
        column_order=("overall_score", "bleu", "rougeLsum", "sari", "bertscore", "alignscore", "medcon"),
        max_words=75,
        word_split="whitespace",
    )
)
register_task(
    Task(
        id="2026/4",
        edition="2026",
        number=4,
        title="evidence alignment",
        subtask=Subtask.EVIDENCE_ALIGNMENT,
        prediction="links",
        prediction_field="prediction",
        gold_fields=("key.clinician_answer_sentences",),
        gold=gold_links,
        families=("alignment",),
        output_keys=(*prf_keys("micro", "macro"), "overall_score"),
        combined=(Combined("overall_score", ("micro_f1",), "Overall", _OVERALL),),
        primary=frozenset({"overall_score", "micro_f1", "micro_precision", "micro_recall", "macro_f1"}),
        column_order=("overall_score", "micro_f1", "micro_precision", "micro_recall", "macro_f1"),
    )
)
register_task(
    Task(
        id="2025",
        edition="2025",
        number=None,
        title="grounded answer generation",
        subtask=None,
        prediction="answer-2025",
        prediction_field="answer",
        gold_fields=("key.relevance", "case.patient_narrative", "case.clinician_question", "case.sentences"),
        gold=gold_2025,
        families=("bleu", "rouge", "sari", "bertscore", "alignscore", "medcon", "citations-2025"),
        output_keys=(
            "bleu",
            *_ROUGE,
            "sari",
            "bertscore",
            "alignscore",
            "medcon",
            *prf_keys("strict_micro", "strict_macro", "lenient_micro", "lenient_macro"),
            "overall_relevance",
            "overall_factuality",
            "overall_score",
        ),
        combined=(
            Combined(
                "overall_relevance",
                ("alignscore", "rougeLsum", "bleu", "medcon", "bertscore", "sari"),
                "Relevance",
                "mean of the six text metrics",
            ),
            Combined("overall_factuality", ("strict_micro_f1",), "Factuality", "strict micro-F1 of the citations"),
            Combined("overall_score", ("overall_relevance", "overall_factuality"), "Overall", _OVERALL),
        ),
        primary=frozenset(
            {"overall_score", "overall_relevance", "overall_factuality", "bleu", "rougeLsum", "sari", "bertscore"}
            | {"alignscore", "medcon", "strict_micro_f1"}
        ),
        column_order=(
            "overall_score",
            "overall_relevance",
            "overall_factuality",
            "bleu",
            "rougeLsum",
            "sari",
            "bertscore",
            "alignscore",
            "medcon",
            "strict_micro_f1",
        ),
        max_words=75,
        word_split="single-space",
    )
)
# The FHIR track: its tasks read and are scored like 2026 subtasks 2 and 3 (docs/fhir_track.md).
register_task(
    replace(
        _REGISTRY["2026/2"],
        id="fhir/1",
        edition="fhir",
        number=1,
        title="relevant resources",
        # every gold resource is "essential", so the lenient keys would repeat the strict ones
        output_keys=(*prf_keys("strict_macro", "strict_micro"), "overall_score"),
        combined=(Combined("overall_score", ("strict_micro_f1",), "Overall", "strict micro-F1 over resource ids"),),
        primary=frozenset({"overall_score", "strict_micro_f1", "strict_micro_precision", "strict_micro_recall"}),
        column_order=("overall_score", "strict_micro_f1", "strict_micro_precision", "strict_micro_recall"),
        official=False,
    )
)
register_task(
    replace(
        _REGISTRY["2026/3"],
        id="fhir/2",
        edition="fhir",
        number=2,
        title="answer (METEOR)",
        gold_fields=("key.clinician_answer_without_citations",),
        families=("meteor",),
        output_keys=("meteor", "overall_score"),
        combined=(Combined("overall_score", ("meteor",), "Overall", "METEOR against the reference answer"),),
        primary=frozenset({"overall_score", "meteor"}),
        column_order=("overall_score", "meteor"),
        official=False,
    )
)


def all_tasks() -> tuple[Task, ...]:
    """Every registered task, in registry order."""
    return tuple(_REGISTRY.values())


def task_ids() -> tuple[str, ...]:
    return tuple(t.id for t in all_tasks())


def editions() -> tuple[str, ...]:
    """The editions (report ``year`` values), sorted: ``2025``, ``2026``, ``fhir``."""
    return tuple(sorted({t.edition for t in all_tasks()}))


def get_task(task_id: str) -> Task:
    """The task of ``task_id`` (``2026/3``, ``2025``, ``fhir/1``), or an error with close matches."""
    try:
        return _REGISTRY[task_id.strip()]
    except KeyError:
        close = difflib.get_close_matches(task_id, list(_REGISTRY), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(task_ids())}"
        raise UnknownTaskError(f"no task {task_id!r}; {hint}") from None


def task_for(edition: str, number: int | None) -> Task:
    """The task of a report's ``year`` and ``subtask`` fields (the 2025 task ignores ``number``)."""
    if edition == "2025":
        return get_task("2025")
    if number is None:
        raise UnknownTaskError(f"{edition} needs a subtask number (known: {', '.join(task_ids())})")
    return get_task(f"{edition}/{number}")
