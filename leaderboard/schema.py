"""The leaderboard schema as data: which columns each subtask shows, in what order, how they are named,
and whether higher is better; how each table is titled (HELM's habit: presentation is data, not code).

"Year" is the report's ``year``: an ArchEHR-QA edition (``2025``, ``2026``) or the FHIR track (``fhir``).

Output keys the schema does not list still show, after the listed ones, as secondary columns named by
their key, higher-is-better unless the report says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnSpec:
    """How one output key of a score report is shown."""

    key: str
    display: str
    higher_is_better: bool = True
    primary: bool = True  # shown in the terminal by default; secondary ones with --all-columns
    description: str = ""


OVERALL_KEY = "overall_score"

_OVERALL = ColumnSpec(OVERALL_KEY, "Overall", description="The subtask's official overall score")


def _text(primary: tuple[str, ...], secondary: tuple[str, ...] = ()) -> tuple[ColumnSpec, ...]:
    return tuple(ColumnSpec(k, _TEXT_NAMES[k]) for k in primary) + tuple(
        ColumnSpec(k, _TEXT_NAMES[k], primary=False) for k in secondary
    )


def _prf(prefixes: tuple[str, ...], primary: set[str]) -> tuple[ColumnSpec, ...]:
    out = []
    for prefix in prefixes:
        for measure, name in (("f1", "F1"), ("precision", "P"), ("recall", "R")):
            key = f"{prefix}_{measure}"
            display = " ".join(p.capitalize() if p in ("strict", "lenient") else p for p in prefix.split("_"))
            out.append(ColumnSpec(key, f"{display} {name}", primary=key in primary))
    return tuple(sorted(out, key=lambda c: not c.primary))


_TEXT_NAMES = {
    "bleu": "BLEU",
    "rouge1": "ROUGE-1",
    "rouge2": "ROUGE-2",
    "rougeL": "ROUGE-L",
    "rougeLsum": "ROUGE-Lsum",
    "sari": "SARI",
    "bertscore": "BERTScore",
    "alignscore": "AlignScore",
    "medcon": "MEDCON",
    "meteor": "METEOR",
}

#: Columns per (year, subtask); the 2025 task has no subtask (``None``).
COLUMNS: dict[tuple[str, int | None], tuple[ColumnSpec, ...]] = {
    ("2026", 1): (_OVERALL, *_text(("rougeLsum", "bertscore", "alignscore", "medcon"), ("rouge1", "rouge2", "rougeL"))),
    ("2026", 2): (
        _OVERALL,
        *_prf(
            ("strict_micro", "lenient_micro", "strict_macro", "lenient_macro"),
            {"strict_micro_f1", "strict_micro_precision", "strict_micro_recall", "lenient_micro_f1"},
        ),
    ),
    ("2026", 3): (
        _OVERALL,
        *_text(("bleu", "rougeLsum", "sari", "bertscore", "alignscore", "medcon"), ("rouge1", "rouge2", "rougeL")),
    ),
    ("2026", 4): (_OVERALL, *_prf(("micro", "macro"), {"micro_f1", "micro_precision", "micro_recall", "macro_f1"})),
    ("2025", None): (
        _OVERALL,
        ColumnSpec("overall_relevance", "Relevance"),
        ColumnSpec("overall_factuality", "Factuality"),
        *_text(("bleu", "rougeLsum", "sari", "bertscore", "alignscore", "medcon"), ("rouge1", "rouge2", "rougeL")),
        *_prf(("strict_micro", "lenient_micro", "strict_macro", "lenient_macro"), {"strict_micro_f1"}),
    ),
    # The FHIR track (fhirqa.scoring): task 1 relevant resource ids, task 2 the answer.
    ("fhir", 1): (
        _OVERALL,
        *_prf(("strict_micro", "strict_macro"), {"strict_micro_f1", "strict_micro_precision", "strict_micro_recall"}),
    ),
    ("fhir", 2): (_OVERALL, *_text(("meteor",))),
}

#: The years the board knows, in table order (``--year`` choices).
YEARS: tuple[str, ...] = tuple(sorted({year for year, _ in COLUMNS}))

#: Table titles per (year, subtask); others read "<year> Subtask <n>".
TITLES: dict[tuple[str, int | None], str] = {
    ("2026", 1): "2026 Subtask 1 · question interpretation",
    ("2026", 2): "2026 Subtask 2 · evidence identification",
    ("2026", 3): "2026 Subtask 3 · answer generation",
    ("2026", 4): "2026 Subtask 4 · evidence alignment",
    ("2025", None): "ArchEHR-QA 2025 · grounded answer generation",
    ("fhir", 1): "FHIR QA · task 1 · relevant resources",
    ("fhir", 2): "FHIR QA · task 2 · answer (METEOR)",
}

#: How a year names one of its tasks in running text ({n}: the subtask); others read "<year> subtask <n>".
TASK_NAMES: dict[str, str] = {"fhir": "FHIR QA task {n}"}


def columns_for(
    year: str, subtask: int | None, keys: Iterable[str], higher_is_better: Mapping[str, bool] | None = None
) -> list[ColumnSpec]:
    """The specs of ``keys`` in schema order; keys the schema does not know follow as secondary columns,
    higher-is-better as ``higher_is_better`` (from the reports) says, else True."""
    wanted = set(keys)
    known = COLUMNS.get((year, subtask), (_OVERALL,))
    listed = [spec for spec in known if spec.key in wanted]
    names = {spec.key for spec in listed}
    hints = higher_is_better or {}
    extra = [
        ColumnSpec(k, _TEXT_NAMES.get(k, k), higher_is_better=hints.get(k, True), primary=False)
        for k in sorted(wanted - names)
    ]
    return listed + extra


def table_title(year: str, subtask: int | None) -> str:
    return TITLES.get((year, subtask), f"{year} Subtask {subtask}")


def task_name(year: str, subtask: int | None) -> str:
    """``"2026 subtask 3"``, ``"FHIR QA task 1"``."""
    return TASK_NAMES.get(year, "{year} subtask {n}").format(year=year, n=subtask)
