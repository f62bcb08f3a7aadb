"""Score a submission against a split's key with the official ArchEHR-QA rules (docs/scoring.md).

:class:`SubmissionScorer` is built once per (split, task, case ids, options): it checks the gold, builds each
case's gold with the task's builder (:mod:`harness.tasks`), hashes it, and prepares each metric on the
references once; :meth:`SubmissionScorer.score` then scores any number of submissions. Scoring validates
the submission (a failed validation raises :class:`~harness.errors.InputError` listing every problem),
applies the task's length rule, computes every metric family of the task once (batched across cases),
and combines keys by the task's official formula (:mod:`metrics.combine`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness import __version__
from harness.data.model import Split
from harness.errors import HarnessError, InputError, Problem
from harness.signature import Signature
from harness.tasks import CaseGold, Task
from harness.textutil import lone_surrogate
from metrics.base import HARNESS_METRICS_VERSION, MetricUnavailable
from metrics.combine import combine
from metrics.evidence import SIGNATURES as EVIDENCE_SIGNATURES
from metrics.evidence import (
    EvidenceCase,
    EvidenceResult,
    links,
    score_2025,
    score_2026_subtask2,
    score_2026_subtask4,
)
from metrics.lexical import tokenize_13a
from metrics.registry import check_task, family_outputs, get_metric_spec
from metrics.report import CaseValue, ScoreReport, Unavailable
from metrics.suite import ScoringOptions, SuiteMember, build_suite

logger = logging.getLogger(__name__)

# a case listed twice: the official 2026 scorers iterate the entries and count it twice; we refuse (docs/scoring.md)
_DUPLICATE_CASE = "case listed twice; refused, while the official 2026 scorers count it twice"

__all__ = ["ScoringOptions", "SubmissionScorer", "score_submission"]

_EVIDENCE_SCORERS = {"2026-subtask2": score_2026_subtask2, "2026-subtask4": score_2026_subtask4, "2025": score_2025}


@dataclass(frozen=True)
class _Predictions:
    """A validated submission reduced to what scoring needs, in submission order."""

    order: tuple[str, ...]
    texts: dict[str, str]
    evidence: dict[str, frozenset[Any]]
    truncated: tuple[str, ...]


class SubmissionScorer:
    """Scores submissions against one key; metrics are built and prepared once and reused."""

    def __init__(
        self,
        split: Split,
        task: Task,
        *,
        case_ids: Iterable[str] | None = None,
        options: ScoringOptions | None = None,
    ) -> None:
        check_task(task)
        self.split = split
        self.task = task
        self.options = options or ScoringOptions()
        self.requested_case_ids = None if case_ids is None else list(dict.fromkeys(case_ids))
        self.case_ids, self.gold = self._load_gold()
        self.key_hash = _key_hash(task, [self.gold[c] for c in self.case_ids])
        self._suite: dict[str, SuiteMember] | None = None
        self._prepared: dict[str, Any] = {}
        self._failed: dict[str, Unavailable] = {}

    # ------------------------------------------------------------------ gold

    def _load_gold(self) -> tuple[tuple[str, ...], dict[str, CaseGold]]:
        try:
            chosen = self.split.select(self.requested_case_ids)
        except KeyError as exc:
            raise InputError.one(str(exc.args[0]), file=self.split.source.folder or self.split.name) from None
        problems = self.task.gold_problems(chosen)
        if problems:
            raise InputError(problems)
        keys = chosen.keys or {}
        gold = {c.case_id: self.task.gold(c, keys.get(c.case_id)) for c in chosen.cases}
        return tuple(gold), gold

    # ------------------------------------------------------------------ metrics

    @property
    def suite(self) -> dict[str, SuiteMember]:
        if self._suite is None:
            self._suite = build_suite(self.task.families, self.options)
        return self._suite

    def _references(self, family: str) -> list[str]:
        golds = [self.gold[c] for c in self.case_ids]
        if family == "sari":
            return [(g.reference if g.sari_reference is None else g.sari_reference) or "" for g in golds]
        return [g.reference or "" for g in golds]

    def _run_family(self, member: SuiteMember, texts: Mapping[str, str]) -> dict[str, list[float]] | Unavailable:
        family = member.family
        keys = family_outputs(self.task, family)
        if member.unavailable is not None:
            return member.unavailable
        if family in self._failed:
            return self._failed[family]
        metric = member.metric
        assert metric is not None
        predictions = [texts[c] for c in self.case_ids]
        sources = [self.gold[c].sari_source or "" for c in self.case_ids] if family == "sari" else None
        try:
            if family not in self._prepared:
                self._prepared[family] = metric.prepare(self._references(family))
            outputs = metric.score_outputs(self._prepared[family], predictions, sources)
        except MetricUnavailable as exc:
            logger.info("%s unavailable: %s", family, exc.reason)  # the report (and the CLI) says it once
            self._failed[family] = Unavailable(exc.reason, exc.fix)
            return self._failed[family]
        return {key: _checked(family, key, outputs.get(key), len(predictions)) for key in keys}

    # ------------------------------------------------------------------ scoring

    def check(self, entries: Any, *, file: str = "submission.json") -> None:
        """Refuse (:class:`~harness.errors.InputError`) what :meth:`score` would refuse, without scoring."""
        self._validate(entries, file)
        self._predictions(entries, file)

    def score(
        self, entries: Any, *, file: str = "submission.json", system: Mapping[str, Any] | None = None
    ) -> ScoreReport:
        """Validate and score one submission (``json.load`` output of its ``submission.json``); ``system``
        is the card of the system that wrote it, when known (the report carries it to the leaderboard)."""
        validated, warnings = self._validate(entries, file)
        preds = self._predictions(entries, file)
        order = preds.order
        task = self.task
        families: dict[str, str] = {}
        scores: dict[str, float | None] = {}
        signatures: dict[str, str] = {}
        aggregations: dict[str, str] = {}
        per_case: dict[str, dict[str, CaseValue]] = {}
        unavailable: dict[str, Unavailable] = {}
        not_comparable: list[str] = []

        for family, member in self.suite.items():
            outcome = self._run_family(member, preds.texts)
            for key in family_outputs(task, family):
                families[key] = family
                signatures[key] = member.signature()
                aggregations[key] = "mean"
                if isinstance(outcome, Unavailable):
                    scores[key] = None
                    continue
                values = dict(zip(self.case_ids, outcome[key], strict=True))
                scores[key] = float(np.mean([values[c] for c in order]))
                per_case[key] = {c: values[c] for c in order}
                if not member.comparable:
                    not_comparable.append(key)
            if isinstance(outcome, Unavailable):
                unavailable[family] = outcome

        for family in task.families:
            if get_metric_spec(family).kind == "evidence":
                self._score_evidence(family, preds, scores, signatures, aggregations, per_case)
                families.update({k: family for k in family_outputs(task, family)})

        result = combine(task, {k: scores.get(k) for k in task.base_keys})
        for item in task.combined:
            scores[item.key] = result.values[item.key]
            aggregations[item.key] = "combined"
            parts = "|".join(signatures.get(c, c) for c in item.components)
            digest = hashlib.sha256(parts.encode("utf-8")).hexdigest()[:12]
            fields = (("mean", ",".join(item.components)), (task.slug, task.slug), ("components", digest))
            signatures[item.key] = Signature(item.key, fields).format()
            if any(c in not_comparable for c in item.components):
                not_comparable.append(item.key)
        signatures["scorer"] = self._scorer_signature()

        missing = result.missing.get(task.overall_key, ())
        return ScoreReport(
            task=task.id,
            split=self.split.name,
            case_ids=order,
            key_hash=self.key_hash,
            scores={k: scores.get(k) for k in task.output_keys},
            overall_key=task.overall_key,
            signatures=signatures,
            aggregations=aggregations,
            per_case=per_case,
            partial=bool(missing),
            missing=missing,
            partial_scores=result.partial,
            unavailable=unavailable,
            # only when a neural family of this formula was skipped (evidence-only subtasks have none)
            lexical_only=self.options.lexical_only and bool(unavailable),
            comparable=not not_comparable,
            not_comparable=tuple(not_comparable),
            validated=validated,
            truncated=preds.truncated,
            warnings=tuple(warnings),
            families=families,
            components={c.key: c.components for c in task.combined},
            system=None if system is None else dict(system),
        )

    def _scorer_signature(self) -> str:
        task = self.task
        truncate = "none" if task.max_words is None else f"{task.max_words}w-{task.word_split}"
        fields = {
            "task": task.slug,
            "truncate": truncate,
            "aggregate": "mean-over-cases",
            "overall": "null-if-partial",
            "options": self.options.flags(),
            "harness": __version__,
            "metrics": HARNESS_METRICS_VERSION,
        }
        return Signature.of("archehr-score", fields).format()

    def _score_evidence(
        self,
        family: str,
        preds: _Predictions,
        scores: dict[str, float | None],
        signatures: dict[str, str],
        aggregations: dict[str, str],
        per_case: dict[str, dict[str, CaseValue]],
    ) -> None:
        kind = get_metric_spec(family).evidence_rule
        assert kind is not None
        wanted = set(family_outputs(self.task, family))
        cases = [
            EvidenceCase(c, preds.evidence[c], self.gold[c].essential, self.gold[c].supplementary) for c in preds.order
        ]
        result: EvidenceResult = _EVIDENCE_SCORERS[kind](cases)
        for key, value in result.scores.items():
            if key not in wanted:
                continue
            scores[key] = value
            signatures[key] = EVIDENCE_SIGNATURES[kind]
            if key in result.per_case:
                aggregations[key] = "mean"
                per_case[key] = dict(result.per_case[key])
            elif key in result.counts:
                aggregations[key] = "micro_f1"
                per_case[key] = dict(result.counts[key])
            else:
                aggregations[key] = "micro"

    # ------------------------------------------------------------------ submission

    def _validate(self, entries: Any, file: str) -> tuple[bool, list[str]]:
        if not self.options.validate:
            return False, ["not validated: validation was turned off"]
        try:
            from submissions.validate import validate_submission
        except ImportError as exc:  # the submissions package is optional to this module
            logger.warning("submissions.validate unavailable: %s", exc)
            return False, [f"not validated: submissions.validate cannot be imported ({exc})"]
        report = validate_submission(entries, self.split, self.task, file=file, case_ids=self.requested_case_ids)
        if not report.ok:
            raise InputError([_problem(p, file) for p in report.errors])
        return True, [str(p) for p in report.warnings]

    def _predictions(self, entries: Any, file: str) -> _Predictions:
        """Predictions of the scored cases, length rules applied; refuses what the official scorer refuses."""
        task = self.task
        if not isinstance(entries, list):
            raise InputError.one("a submission must be a JSON array of objects", file=file)
        wanted = set(self.case_ids)
        found: dict[str, Any] = {}
        problems: list[Problem] = []
        for index, entry in enumerate(entries):
            case_id = entry.get("case_id") if isinstance(entry, dict) else None
            if not isinstance(case_id, str):
                problems.append(Problem(f"entry {index} has no string case_id", file, None, "case_id"))
            elif case_id in wanted:
                if case_id in found:
                    problems.append(Problem(_DUPLICATE_CASE, file, case_id, "case_id"))
                elif task.prediction_field not in entry:
                    problems.append(
                        Problem(f"no {task.prediction_field!r} field", file, case_id, task.prediction_field)
                    )
                else:
                    found[case_id] = entry[task.prediction_field]
        problems += [
            Problem("case missing from the submission", file, c, "case_id") for c in self.case_ids if c not in found
        ]
        if problems:
            raise InputError(problems)
        order = tuple(found)
        texts: dict[str, str] = {}
        evidence: dict[str, frozenset[Any]] = {}
        truncated: list[str] = []
        try:
            for case_id, prediction in found.items():
                if task.prediction == "answer-2025":
                    _refuse_lone_surrogate(prediction, file, case_id, task.prediction_field)
                    texts[case_id], evidence[case_id], cut = _parse_2025(prediction, case_id, file)
                elif task.prediction == "text":
                    _refuse_lone_surrogate(prediction, file, case_id, task.prediction_field)
                    texts[case_id], cut = task.truncate(prediction)
                    if not texts[case_id]:
                        raise InputError.one(
                            "empty prediction", file=file, case_id=case_id, field=task.prediction_field
                        )
                elif task.prediction == "sentence-ids":
                    evidence[case_id], cut = frozenset(prediction), False
                else:
                    evidence[case_id], cut = links(prediction), False
                if cut:
                    truncated.append(case_id)
                if "bleu" in task.families and case_id in texts and not tokenize_13a(texts[case_id]).split():
                    raise InputError.one(
                        "no token left after BLEU's 13a tokenisation (it deletes '<skipped>' and '-' + newline);"
                        " the official scorer's BLEU divides by zero on it and scores nothing",
                        file=file,
                        case_id=case_id,
                        field=task.prediction_field,
                    )
        except (TypeError, KeyError, AttributeError) as exc:  # shapes the validator would have refused
            raise InputError.one(f"malformed prediction ({exc})", file=file, case_id=case_id) from None
        return _Predictions(order, texts, evidence, tuple(truncated))


def _parse_2025(answer: str, case_id: str, file: str) -> tuple[str, frozenset[str], bool]:
    try:
        from submissions.format2025 import lint_answer_2025, parse_answer_2025
    except ImportError as exc:
        raise HarnessError(f"2025 answers need submissions.format2025 ({exc})") from None
    errors = lint_answer_2025(answer, file=file, case_id=case_id).errors  # what the official scorer refuses
    if errors:
        raise InputError(list(errors))
    parsed = parse_answer_2025(answer)
    return parsed.answer_text, frozenset(parsed.citations), parsed.truncated


def _refuse_lone_surrogate(text: Any, file: str, case_id: str, field: str) -> None:
    problem = lone_surrogate(text) if isinstance(text, str) else None
    if problem:
        raise InputError.one(problem, file=file, case_id=case_id, field=field)


def _checked(family: str, key: str, values: Sequence[float] | None, n: int) -> list[float]:
    if values is None or len(values) != n:
        raise RuntimeError(f"{family} returned {0 if values is None else len(values)} values for {key}, expected {n}")
    out = [float(v) for v in values]
    bad = [i for i, v in enumerate(out) if not math.isfinite(v)]
    if bad:
        raise RuntimeError(f"{family} returned a non-finite {key} for case index {bad[0]}")
    return out


def _problem(p: Any, file: str) -> Problem:
    return p if isinstance(p, Problem) else Problem(str(p), file)


def _key_hash(task: Task, gold: Sequence[CaseGold]) -> str:
    """sha256 of the canonical JSON of the gold this task scores against (texts, ids, links)."""
    payload = {"task": task.slug, "cases": [g.to_json() for g in gold]}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def score_submission(
    entries: Any,
    split: Split,
    task: Task,
    *,
    case_ids: Iterable[str] | None = None,
    options: ScoringOptions | None = None,
    file: str = "submission.json",
    system: Mapping[str, Any] | None = None,
) -> ScoreReport:
    """Score one submission (``json.load`` output) against ``split``'s key; see the module docstring."""
    scorer = SubmissionScorer(split, task, case_ids=case_ids, options=options)
    return scorer.score(entries, file=file, system=system)
