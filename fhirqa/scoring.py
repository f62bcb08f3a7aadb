"""Scoring FHIR track submissions into score reports the leaderboard reads (``year: "fhir"``).

Submissions have the ArchEHR-QA 2026 shape (``[{"case_id": <question id>, "prediction": …}]``) and are
validated by the same validator, against the harness view of the split (:func:`fhirqa.dataset.to_split`).

- Task 1 (relevance): precision / recall / F1 over resource ids, per question and pooled, with the 2026
  subtask-2 conventions of :mod:`metrics.evidence` (both sets empty → 1, exactly one empty → 0), through
  the harness scorer for subtask 2. Gold ids are all "essential", so its ``lenient_*`` keys repeat the
  ``strict_*`` ones and are left out. ``overall_score`` = ``strict_micro_f1``.
- Task 2 (answer): METEOR (:mod:`metrics.meteor`) against the reference answer, after the 2026 length rule
  of answers (past 75 whitespace tokens, the first 75). ``overall_score`` = ``meteor``.

Every key carries a signature; ``signatures["track"]`` names the track and task.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from fhirqa.model import TRACK, FhirTask
from harness import __version__
from harness.data.model import Split
from harness.data.tasks import WORD_LIMITS
from harness.errors import InputError
from metrics.base import HARNESS_METRICS_VERSION
from metrics.meteor import MeteorMetric
from metrics.report import ScoreReport
from metrics.scoring import ScoringOptions, SubmissionScorer
from metrics.subtasks import truncate_words

logger = logging.getLogger(__name__)

OVERALL_KEY = "overall_score"
ANSWER_WORDS = WORD_LIMITS[FhirTask.ANSWER.subtask]  # the 2026 answer length rule


def track_signature(task: FhirTask) -> str:
    return f"fhir-qa|task:{int(task)}-{task.name.lower()}|ids:ResourceType/id|harness:{__version__}"


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
    scorer = SubmissionScorer(
        split, subtask=int(task.subtask), year="2026", case_ids=question_ids, options=ScoringOptions(lexical_only=True)
    )
    if task == FhirTask.RELEVANCE:
        report = _relevance(scorer.score(entries, file=file))
    else:
        report = _answer(scorer, entries, file, MeteorMetric(wordnet))
    signatures = {**report.signatures, "track": track_signature(task)}
    return dataclasses.replace(report, year=TRACK, subtask=int(task), signatures=signatures)


def _relevance(report: ScoreReport) -> ScoreReport:
    keep = [k for k in report.scores if not k.startswith("lenient_")]
    scores = {k: report.scores[k] for k in keep}
    scores[OVERALL_KEY] = report.scores["strict_micro_f1"]
    signatures = {k: v for k, v in report.signatures.items() if not k.startswith("lenient_")}
    signatures[OVERALL_KEY] = signatures["strict_micro_f1"]
    aggregations = {k: v for k, v in report.aggregations.items() if not k.startswith("lenient_")}
    aggregations[OVERALL_KEY] = aggregations["strict_micro_f1"]
    per_case = {k: v for k, v in report.per_case.items() if not k.startswith("lenient_")}
    per_case[OVERALL_KEY] = per_case["strict_micro_f1"]
    return dataclasses.replace(
        report,
        scores=scores,
        signatures=signatures,
        aggregations=aggregations,
        per_case=per_case,
        overall_key=OVERALL_KEY,
    )


def _answer(scorer: SubmissionScorer, entries: Any, file: str, metric: MeteorMetric) -> ScoreReport:
    from submissions.validate import validate_submission

    validation = validate_submission(
        entries,
        scorer.split,
        subtask=int(FhirTask.ANSWER.subtask),
        year="2026",
        file=file,
        case_ids=scorer.requested_case_ids,
    )
    if not validation.ok:
        raise InputError(validation.errors)
    scored = set(scorer.case_ids)
    found = {e["case_id"]: e["prediction"] for e in entries if e["case_id"] in scored}
    order = tuple(c for c in (e["case_id"] for e in entries) if c in found)
    texts, truncated = {}, []
    for case_id in order:
        texts[case_id], cut = truncate_words(found[case_id], ANSWER_WORDS)
        if cut:
            truncated.append(case_id)
    references = [scorer.gold[c].reference or "" for c in order]
    values = metric.score(metric.prepare(references), [texts[c] for c in order])
    per_case = dict(zip(order, values, strict=True))
    mean = float(np.mean(values))
    signature = metric.signature()
    return ScoreReport(
        year=TRACK,
        subtask=int(FhirTask.ANSWER),
        split=scorer.split.name,
        case_ids=order,
        key_hash=scorer.key_hash,
        scores={"meteor": mean, OVERALL_KEY: mean},
        overall_key=OVERALL_KEY,
        signatures={
            "meteor": signature,
            OVERALL_KEY: signature,
            "scorer": f"fhir-score|task:answer|truncate:{ANSWER_WORDS}w-whitespace|aggregate:mean-over-cases"
            f"|harness:{__version__}|metrics:{HARNESS_METRICS_VERSION}",
        },
        aggregations={"meteor": "mean", OVERALL_KEY: "mean"},
        per_case={"meteor": per_case, OVERALL_KEY: dict(per_case)},
        truncated=tuple(truncated),
        warnings=tuple(str(w) for w in validation.warnings),
    )
