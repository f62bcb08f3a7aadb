"""The official scoring formulas as data, in one place: per year and subtask, the output keys, the metrics
they need, how the combined keys are computed, the length rules and what each text is compared with.

The rules are specified in docs/scoring.md ("Per task", "Aggregation", "Partial scores").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from harness.data.model import Subtask
from harness.data.tasks import WORD_LIMIT_2025, WORD_LIMITS
from harness.textutil import cut_words
from metrics.lexical import ROUGE_TYPES

#: Output keys of each text-metric family.
FAMILY_OUTPUTS: dict[str, tuple[str, ...]] = {
    "bleu": ("bleu",),
    "rouge": ROUGE_TYPES,
    "sari": ("sari",),
    "bertscore": ("bertscore",),
    "alignscore": ("alignscore",),
    "medcon": ("medcon",),
}
LEXICAL_FAMILIES: tuple[str, ...] = ("bleu", "rouge", "sari")
NEURAL_FAMILIES: tuple[str, ...] = ("bertscore", "alignscore", "medcon")

Evidence = Literal["2026-subtask2", "2026-subtask4", "2025"]


@dataclass(frozen=True)
class Combined:
    """A key computed from other keys: ``numpy.mean`` of ``components`` (one component: a copy)."""

    key: str
    components: tuple[str, ...]


@dataclass(frozen=True)
class Formula:
    """Everything the scorer of one (year, subtask) needs to know, as data.

    ``max_words``/``word_split``: the official length rule (docs/scoring.md, "Length rules"): ``"whitespace"``
    (2026, :func:`truncate_words`) or ``"single-space"`` (2025, ``submissions.format2025.parse_answer_2025``).
    """

    year: str
    subtask: int | None
    title: str
    output_keys: tuple[str, ...]
    families: tuple[str, ...]  # text-metric families, in output order
    evidence: Evidence | None
    combined: tuple[Combined, ...]
    overall_key: str
    max_words: int | None
    word_split: Literal["whitespace", "single-space"] | None
    prediction_field: str
    reference: str  # what each prediction is compared with (spec §3)
    sari_source: str | None = None
    sari_reference: str | None = None

    @property
    def text_outputs(self) -> tuple[str, ...]:
        return tuple(k for f in self.families for k in FAMILY_OUTPUTS[f])

    @property
    def name(self) -> str:
        return self.year if self.subtask is None else f"{self.year}-subtask{self.subtask}"


def _prf_keys(*prefixes: str) -> tuple[str, ...]:
    return tuple(f"{p}_{m}" for p in prefixes for m in ("precision", "recall", "f1"))


FORMULAS: dict[tuple[str, int | None], Formula] = {
    ("2026", 1): Formula(
        year="2026",
        subtask=1,
        title="question interpretation",
        output_keys=("rouge1", "rouge2", "rougeL", "rougeLsum", "bertscore", "medcon", "alignscore", "overall_score"),
        families=("rouge", "bertscore", "medcon", "alignscore"),
        evidence=None,
        combined=(Combined("overall_score", ("alignscore", "rougeLsum", "medcon", "bertscore")),),
        overall_key="overall_score",
        max_words=WORD_LIMITS[Subtask.QUESTION_INTERPRETATION],
        word_split="whitespace",
        prediction_field="prediction",
        reference="the gold clinician question (case XML); AlignScore context = the gold question",
    ),
    ("2026", 2): Formula(
        year="2026",
        subtask=2,
        title="evidence identification",
        output_keys=(*_prf_keys("strict_macro", "strict_micro", "lenient_macro", "lenient_micro"), "overall_score"),
        families=(),
        evidence="2026-subtask2",
        combined=(Combined("overall_score", ("strict_micro_f1",)),),
        overall_key="overall_score",
        max_words=None,
        word_split=None,
        prediction_field="prediction",
        reference="essential sentence ids (strict); supplementary predictions dropped (lenient)",
    ),
    ("2026", 3): Formula(
        year="2026",
        subtask=3,
        title="answer generation",
        output_keys=(
            "bleu",
            "rouge1",
            "rouge2",
            "rougeL",
            "rougeLsum",
            "sari",
            "bertscore",
            "medcon",
            "alignscore",
            "overall_score",
        ),
        families=("bleu", "rouge", "sari", "bertscore", "medcon", "alignscore"),
        evidence=None,
        combined=(Combined("overall_score", ("bleu", "rougeLsum", "sari", "bertscore", "alignscore", "medcon")),),
        overall_key="overall_score",
        max_words=WORD_LIMITS[Subtask.ANSWER_GENERATION],
        word_split="whitespace",
        prediction_field="prediction",
        reference="clinician_answer_without_citations (key)",
        sari_source="patient_narrative",
        sari_reference="clinician_answer_without_citations",
    ),
    ("2026", 4): Formula(
        year="2026",
        subtask=4,
        title="evidence alignment",
        output_keys=(*_prf_keys("micro", "macro"), "overall_score"),
        families=(),
        evidence="2026-subtask4",
        combined=(Combined("overall_score", ("micro_f1",)),),
        overall_key="overall_score",
        max_words=None,
        word_split=None,
        prediction_field="prediction",
        reference="(answer_id, evidence_id) links of clinician_answer_sentences (key)",
    ),
    ("2025", None): Formula(
        year="2025",
        subtask=None,
        title="grounded answer generation",
        output_keys=(
            "bleu",
            "rouge1",
            "rouge2",
            "rougeL",
            "rougeLsum",
            "sari",
            "bertscore",
            "alignscore",
            "medcon",
            *_prf_keys("strict_micro", "strict_macro", "lenient_micro", "lenient_macro"),
            "overall_relevance",
            "overall_factuality",
            "overall_score",
        ),
        families=("bleu", "rouge", "sari", "bertscore", "alignscore", "medcon"),
        evidence="2025",
        combined=(
            Combined("overall_relevance", ("alignscore", "rougeLsum", "bleu", "medcon", "bertscore", "sari")),
            Combined("overall_factuality", ("strict_micro_f1",)),
            Combined("overall_score", ("overall_relevance", "overall_factuality")),
        ),
        overall_key="overall_score",
        max_words=WORD_LIMIT_2025,
        word_split="single-space",
        prediction_field="answer",
        reference=(
            'patient_narrative + "\\n\\n" + clinician_question + "\\n\\n" + "\\n".join(essential sentences,'
            " ascending numeric id; the official scorer iterates a set, so its order varies with the hash seed)"
        ),
        sari_source='patient_narrative + "\\n\\n" + clinician_question',
        sari_reference='"\\n".join(essential sentences, ascending numeric id)',
    ),
}


def formula_for(year: str, subtask: int | None) -> Formula:
    """The formula of ``year`` (``"2025"``/``"2026"``) and ``subtask`` (1-4 for 2026, ``None`` for 2025)."""
    try:
        return FORMULAS[(year, None if year == "2025" else subtask)]
    except KeyError:
        raise ValueError(f"no scoring formula for year {year!r} subtask {subtask!r}") from None


def truncate_words(text: str, max_words: int) -> tuple[str, bool]:
    """The 2026 length rule: the stripped text, or its first ``max_words`` whitespace tokens joined by spaces.

    At or under the limit the stripped text is kept as it is (newlines included, which matters to ROUGE-Lsum).
    Returns the text and whether it was cut.
    """
    text = text.strip()
    cut = cut_words(text, max_words)
    return cut, cut is not text


@dataclass(frozen=True)
class CombinedResult:
    """Values of the combined keys (``None`` when a component is missing), partial means, missing names."""

    values: dict[str, float | None]
    partial: dict[str, float]
    missing: dict[str, tuple[str, ...]]


def combine(formula: Formula, values: Mapping[str, float | None]) -> CombinedResult:
    """Evaluate ``formula.combined`` over ``values`` (output key → percent, ``None`` = unavailable).

    A combined key with every component available is ``numpy.mean`` of them, in order. Otherwise it is
    ``None``; its ``partial`` value is the mean over the available components (a partial component
    contributes its own partial value) and ``missing`` names the base components it lacks.
    """
    known: dict[str, float | None] = dict(values)
    partial: dict[str, float] = {}
    missing: dict[str, tuple[str, ...]] = {}
    out: dict[str, float | None] = {}
    for item in formula.combined:
        lacking: list[str] = []
        available: list[float] = []
        for comp in item.components:
            value = known.get(comp)
            if value is not None:
                available.append(value)
                continue
            lacking.extend(missing.get(comp, (comp,)))
            if comp in partial:
                available.append(partial[comp])
        if lacking:
            out[item.key] = None
            missing[item.key] = tuple(dict.fromkeys(lacking))
            if available:
                partial[item.key] = float(np.mean(available))
        else:
            out[item.key] = float(np.mean(available))
        known[item.key] = out[item.key]
    return CombinedResult(out, partial, missing)
