"""Scoring FHIR track submissions: the harness scorer with the FHIR tasks ``fhir/1`` and ``fhir/2``.

Submissions have the ArchEHR-QA 2026 shape (``[{"case_id": <question id>, "prediction": …}]``) and are
scored against the harness view of the split (:func:`fhirqa.dataset.to_split`) by
:class:`metrics.scoring.SubmissionScorer`, like every other task; what each task compares and how it
combines keys is its definition in :mod:`harness.tasks` (docs/fhir_track.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhirqa.model import FhirTask
from harness.data.model import Split
from harness.tasks import Task, get_task
from metrics.report import ScoreReport
from metrics.scoring import ScoringOptions, SubmissionScorer


def task_of(task: FhirTask) -> Task:
    """The registered task of a FHIR track task (``fhir/1``, ``fhir/2``)."""
    return get_task(f"fhir/{int(task)}")


def score_fhir(
    entries: Any,
    split: Split,
    task: FhirTask,
    *,
    question_ids: Sequence[str] | None = None,
    wordnet: str = "auto",
    file: str = "submission.json",
) -> ScoreReport:
    """Validate and score one submission of ``task`` on ``split`` (the harness view of a FHIR split)."""
    options = ScoringOptions(lexical_only=True, meteor_wordnet=wordnet)
    return SubmissionScorer(split, task_of(task), case_ids=question_ids, options=options).score(entries, file=file)
