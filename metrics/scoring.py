"""Score a submission against a split's key with the official ArchEHR-QA rules (spec §2-§4).

:class:`SubmissionScorer` is built once per (split, year, subtask, case ids, options): it checks the gold,
builds the reference and source texts, hashes them, and prepares each metric on the references once;
:meth:`SubmissionScorer.score` then scores any number of submissions (:func:`score_submission` does both
for one). Scoring a submission:

1. validates it with ``submissions.validate_submission`` (a failed validation raises
   :class:`~harness.errors.InputError` listing every problem, as the official scorer refuses the file);
2. applies the official length rules (2026 subtasks 1 and 3: strip, then past 15 / 75 whitespace tokens
   keep that many joined by single spaces; 2025: the official pipe-citation parse and its 75-word cut);
3. computes every text metric once, batched across cases, and the evidence scores;
4. aggregates: each text key is the mean of its per-case values (percent); evidence keys follow
   :mod:`metrics.evidence`; combined keys follow :mod:`metrics.subtasks`.

What is compared with what (spec §3): 2026 subtask 1, the prediction with the gold clinician question;
subtask 3, with ``clinician_answer_without_citations`` (SARI source: the patient narrative); 2025, with
``narrative + "\\n\\n" + clinician question + "\\n\\n" + "\\n".join(essential sentences)`` (SARI source:
narrative + "\\n\\n" + question; SARI reference: the essential sentences joined by newlines).

Deviation from the official 2025 scorer: it joins the essential sentences in the iteration order of a
Python set, which varies with the hash seed (and so do its scores); we join them in ascending numeric
sentence-id order, which makes the 2025 text scores reproducible.

Cases are aggregated in the order of the submission's entries, as the official scorers iterate them
(only the last bits of a float can depend on it). Text metrics report per-case percent values and the
subtask value is their mean; the official scorers average fractions and then multiply by 100, which
agrees to within about 1e-13.

Partial scores (our choice): when a metric family cannot run it is recorded under ``unavailable`` with
its reason and fix, its output keys are ``null``, and every combined key that needs it (the overall
score) is ``null`` too: an official key never holds a number that is not the official one. The report
is then ``partial``, names the ``missing`` components, and gives under ``partial_scores`` the mean over
the components that did run, for information only. ``--lexical-only`` skips the neural families this
way and says so in the flags and the scorer signature. Explicit stand-ins (BERTScore MiniLM,
MEDCON-HPO) do enter the combined keys, which are then listed as ``not_comparable`` with the stand-in,
and their signatures differ from the official ones. (The official subtask-1 scorer turns a metric that
raises into 0.0 and averages it in; we never do: a failing metric is unavailable, never a zero.)
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
from harness.data.model import Case, CaseKey, Split, Subtask, sort_ids
from harness.data.tasks import gold_problems
from harness.errors import HarnessError, InputError, Problem
from metrics.base import HARNESS_METRICS_VERSION, MetricUnavailable
from metrics.evidence import SIGNATURES as EVIDENCE_SIGNATURES
from metrics.evidence import (
    EvidenceCase,
    EvidenceResult,
    links,
    score_2025,
    score_2026_subtask2,
    score_2026_subtask4,
)
from metrics.report import CaseValue, ScoreReport, Unavailable
from metrics.subtasks import Formula, combine, formula_for, truncate_words
from metrics.suite import ScoringOptions, SuiteMember, build_suite

logger = logging.getLogger(__name__)

__all__ = ["ScoringOptions", "SubmissionScorer", "score_submission"]

_EVIDENCE_SCORERS = {"2026-subtask2": score_2026_subtask2, "2026-subtask4": score_2026_subtask4, "2025": score_2025}


@dataclass(frozen=True)
class CaseGold:
    """What one case's predictions are scored against, for one formula."""

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
        out["essential"] = sorted(map(list, self.essential) if _is_links(self.essential) else self.essential)
        out["supplementary"] = sorted(self.supplementary)
        return out


def _is_links(ids: frozenset[Any]) -> bool:
    return any(isinstance(i, tuple) for i in ids)


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
        *,
        subtask: int | None,
        year: str,
        case_ids: Iterable[str] | None = None,
        options: ScoringOptions | None = None,
    ) -> None:
        if year == "2025" and subtask is not None:
            raise ValueError("the 2025 task has no subtasks")
        self.split = split
        self.year = year
        self.subtask = subtask
        self.formula: Formula = formula_for(year, subtask)
        self.options = options or ScoringOptions()
        self.requested_case_ids = None if case_ids is None else list(dict.fromkeys(case_ids))
        self.case_ids, self.gold = self._load_gold()
        self.key_hash = _key_hash(self.formula, [self.gold[c] for c in self.case_ids])
        self._suite: dict[str, SuiteMember] | None = None
        self._prepared: dict[str, Any] = {}
        self._failed: dict[str, Unavailable] = {}

    # ------------------------------------------------------------------ gold

    def _load_gold(self) -> tuple[tuple[str, ...], dict[str, CaseGold]]:
        try:
            chosen = self.split.select(self.requested_case_ids)
        except KeyError as exc:
            raise InputError.one(str(exc.args[0]), file=self.split.source.folder or self.split.name) from None
        problems = self._gold_problems(chosen)
        if problems:
            raise InputError(problems)
        keys = chosen.keys or {}
        gold = {c.case_id: self._case_gold(c, keys.get(c.case_id)) for c in chosen.cases}
        return tuple(gold), gold

    def _gold_problems(self, chosen: Split) -> list[Problem]:
        f = self.formula
        if f.subtask is not None:
            problems = gold_problems(chosen, Subtask(f.subtask))
        else:
            problems = gold_problems(chosen, Subtask.EVIDENCE_IDENTIFICATION)
        needed: tuple[str, ...] = ()
        if f.year == "2025":
            needed = ("patient_narrative", "clinician_question", "sentences")
        elif f.sari_source == "patient_narrative":
            needed = ("patient_narrative",)
        xml = f"{self.split.source.folder or self.split.name}/archehr-qa.xml"
        for case in chosen.cases:
            for name in needed:
                if getattr(case, name) is None:
                    message = f"{f.name} scoring needs {name}, which is missing"
                    problems.append(Problem(message, xml, case.case_id, name))
        return problems

    def _case_gold(self, case: Case, key: CaseKey | None) -> CaseGold:
        f = self.formula
        if f.subtask == 1:
            return CaseGold(case.case_id, reference=case.clinician_question)
        if key is None:  # refused earlier by _gold_problems
            raise InputError.one("the key has no entry for this case", case_id=case.case_id)
        if f.subtask == 3:
            return CaseGold(
                case.case_id,
                reference=(key.clinician_answer_without_citations or "").strip(),
                sari_source=case.patient_narrative,
            )
        if f.subtask == 4:
            return CaseGold(case.case_id, essential=frozenset(key.links()))
        essential = frozenset(key.ids_with("essential"))
        supplementary = frozenset(key.ids_with("supplementary"))
        if f.subtask == 2:
            return CaseGold(case.case_id, essential=essential, supplementary=supplementary)
        texts = {s.id: s.text for s in case.sentences or ()}
        essential_text = "\n".join(texts[i] for i in sort_ids(essential) if i in texts)
        source = f"{case.patient_narrative}\n\n{case.clinician_question}"
        return CaseGold(
            case.case_id,
            reference=f"{source}\n\n{essential_text}",
            sari_source=source,
            sari_reference=essential_text,
            essential=essential,
            supplementary=supplementary,
        )

    # ------------------------------------------------------------------ metrics

    @property
    def suite(self) -> dict[str, SuiteMember]:
        if self._suite is None:
            self._suite = build_suite(self.formula.families, self.options)
        return self._suite

    def _references(self, family: str) -> list[str]:
        golds = [self.gold[c] for c in self.case_ids]
        if family == "sari":
            return [(g.reference if g.sari_reference is None else g.sari_reference) or "" for g in golds]
        return [g.reference or "" for g in golds]

    def _run_family(self, member: SuiteMember, texts: Mapping[str, str]) -> dict[str, list[float]] | Unavailable:
        family = member.family
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
            prepared = self._prepared[family]
            if hasattr(metric, "score_outputs"):
                outputs = metric.score_outputs(prepared, predictions, sources)
            else:
                outputs = {member.outputs[0]: metric.score(prepared, predictions, sources)}
        except MetricUnavailable as exc:
            logger.warning("%s unavailable: %s", family, exc.reason)
            self._failed[family] = Unavailable(exc.reason, exc.fix)
            return self._failed[family]
        return {key: _checked(family, key, outputs.get(key), len(predictions)) for key in member.outputs}

    # ------------------------------------------------------------------ scoring

    def check(self, entries: Any, *, file: str = "submission.json") -> None:
        """Refuse (:class:`~harness.errors.InputError`) what :meth:`score` would refuse, without scoring."""
        self._validate(entries, file)
        self._predictions(entries, file)

    def score(self, entries: Any, *, file: str = "submission.json") -> ScoreReport:
        """Validate and score one submission (``json.load`` output of its ``submission.json``)."""
        validated, warnings = self._validate(entries, file)
        preds = self._predictions(entries, file)
        order = preds.order
        f = self.formula
        scores: dict[str, float | None] = {}
        signatures: dict[str, str] = {}
        aggregations: dict[str, str] = {}
        per_case: dict[str, dict[str, CaseValue]] = {}
        unavailable: dict[str, Unavailable] = {}
        not_comparable: list[str] = []

        for family, member in self.suite.items():
            outcome = self._run_family(member, preds.texts)
            for key in member.outputs:
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

        if f.evidence is not None:
            self._score_evidence(preds, scores, signatures, aggregations, per_case)

        result = combine(f, {k: scores.get(k) for k in f.output_keys if k not in {c.key for c in f.combined}})
        for item in f.combined:
            scores[item.key] = result.values[item.key]
            aggregations[item.key] = "combined"
            parts = "|".join(signatures.get(c, c) for c in item.components)
            digest = hashlib.sha256(parts.encode("utf-8")).hexdigest()[:12]
            signatures[item.key] = f"{item.key}|mean:{','.join(item.components)}|{f.name}|components:{digest}"
            if any(c in not_comparable for c in item.components):
                not_comparable.append(item.key)
        signatures["scorer"] = self._scorer_signature()

        missing = result.missing.get(f.overall_key, ())
        return ScoreReport(
            year=self.year,
            subtask=self.subtask,
            split=self.split.name,
            case_ids=order,
            key_hash=self.key_hash,
            scores={k: scores.get(k) for k in f.output_keys},
            overall_key=f.overall_key,
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
        )

    def _scorer_signature(self) -> str:
        f = self.formula
        truncate = "none" if f.max_words is None else f"{f.max_words}w-{f.word_split}"
        return (
            f"archehr-score|task:{f.name}|truncate:{truncate}|aggregate:mean-over-cases|overall:null-if-partial"
            f"|options:{self.options.flags()}|harness:{__version__}|metrics:{HARNESS_METRICS_VERSION}"
        )

    def _score_evidence(
        self,
        preds: _Predictions,
        scores: dict[str, float | None],
        signatures: dict[str, str],
        aggregations: dict[str, str],
        per_case: dict[str, dict[str, CaseValue]],
    ) -> None:
        kind = self.formula.evidence
        assert kind is not None
        cases = [
            EvidenceCase(c, preds.evidence[c], self.gold[c].essential, self.gold[c].supplementary) for c in preds.order
        ]
        result: EvidenceResult = _EVIDENCE_SCORERS[kind](cases)
        for key, value in result.scores.items():
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
        report = validate_submission(
            entries, self.split, subtask=self.subtask, year=self.year, file=file, case_ids=self.requested_case_ids
        )
        if not report.ok:
            raise InputError([_problem(p, file) for p in report.errors])
        return True, [str(p) for p in report.warnings]

    def _predictions(self, entries: Any, file: str) -> _Predictions:
        """Predictions of the scored cases, length rules applied; refuses what the official scorer refuses."""
        f = self.formula
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
                    problems.append(Problem("case listed twice", file, case_id, "case_id"))
                elif f.prediction_field not in entry:
                    problems.append(Problem(f"no {f.prediction_field!r} field", file, case_id, f.prediction_field))
                else:
                    found[case_id] = entry[f.prediction_field]
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
                if f.year == "2025":
                    texts[case_id], evidence[case_id], cut = _parse_2025(prediction, case_id, file)
                elif f.max_words is not None:
                    texts[case_id], cut = truncate_words(prediction, f.max_words)
                    if not texts[case_id]:
                        raise InputError.one("empty prediction", file=file, case_id=case_id, field=f.prediction_field)
                elif f.subtask == 2:
                    evidence[case_id], cut = frozenset(prediction), False
                else:
                    evidence[case_id], cut = links(prediction), False
                if cut:
                    truncated.append(case_id)
        except (TypeError, KeyError, AttributeError) as exc:  # shapes the validator would have refused
            raise InputError.one(f"malformed prediction ({exc})", file=file, case_id=case_id) from None
        return _Predictions(order, texts, evidence, tuple(truncated))


def _parse_2025(answer: str, case_id: str, file: str) -> tuple[str, frozenset[str], bool]:
    try:
        from submissions.format2025 import parse_answer_2025
    except ImportError as exc:
        raise HarnessError(f"2025 answers need submissions.format2025 ({exc})") from None
    parsed = parse_answer_2025(answer)
    if not parsed.lines:
        raise InputError.one("empty answer", file=file, case_id=case_id, field="answer")
    if not parsed.citations:
        raise InputError.one("no citations at all (the official 2025 scorer refuses it)", file=file, case_id=case_id)
    return parsed.answer_text, frozenset(parsed.citations), parsed.truncated


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


def _key_hash(formula: Formula, gold: Sequence[CaseGold]) -> str:
    """sha256 of the canonical JSON of the gold this formula scores against (texts, ids, links)."""
    payload = {"task": formula.name, "cases": [g.to_json() for g in gold]}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def score_submission(
    entries: Any,
    split: Split,
    *,
    subtask: int | None,
    year: str,
    case_ids: Iterable[str] | None = None,
    options: ScoringOptions | None = None,
    file: str = "submission.json",
) -> ScoreReport:
    """Score one submission (``json.load`` output) against ``split``'s key; see the module docstring."""
    scorer = SubmissionScorer(split, subtask=subtask, year=year, case_ids=case_ids, options=options)
    return scorer.score(entries, file=file)
