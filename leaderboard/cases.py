"""What the page shows about the data behind each table and each case: provenance and the per-case drill-down.

Provenance: a table is on the bundled synthetic data when its key hash is the one :class:`SubmissionScorer`
computes for the synthetic split of that name and those case ids; on user data when it matches a split of
``--data DIR``; otherwise unverified. Predictions come from the submission scored by each report: the
``submission.json`` (or ``submission.zip``) next to the report file, as ``archehr demo`` and ``archehr eval``
write them. Data-use rule (docs/leaderboard.md): case text (note sentences, questions, references) is shown for
the synthetic data, and for user data only with ``include_case_text``; ids, scores and predictions always.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from harness.data import SYNTHETIC, load_dataset
from harness.data.model import Case, Split, sort_ids
from harness.errors import HarnessError
from harness.tasks import CaseGold, Task, UnknownTaskError, task_for
from leaderboard.comparability import Column, Row, Table
from leaderboard.formatting import short_hash
from leaderboard.records import Entry, MetricResult
from leaderboard.significance import STATISTICS, statistic_for

logger = logging.getLogger(__name__)

#: Submission files looked for next to a report, in order.
SUBMISSION_FILES = ("submission.json", "submission.zip")

DataKind = Literal["synthetic", "user", "unverified"]
Mark = Literal["both", "gold", "predicted", "none"]

#: Symbol and words of each sentence mark (a symbol as well as a colour).
MARKS: dict[str, tuple[str, str]] = {
    "both": ("✓", "gold and predicted"),
    "gold": ("○", "gold only (missed)"),
    "predicted": ("✗", "predicted only"),
    "none": ("·", "neither"),
}


@dataclass(frozen=True)
class Provenance:
    """Where a table's gold comes from, and whether its case text may be shown."""

    kind: DataKind
    split: str
    key_hash: str
    show_text: bool
    data: Split | None = field(default=None, compare=False, repr=False)  # the matching split

    @property
    def label(self) -> str:
        if self.kind == "synthetic":
            return "synthetic data"
        key = short_hash(self.key_hash, 12)
        if self.kind == "user":
            return f"user data · split {self.split} · key {key}"
        return f"unverified data · split {self.split} · key {key}"

    @property
    def tag(self) -> str:
        """The per-row tag: ``synthetic``, or the split and key hash of user data."""
        if self.kind == "synthetic":
            return "synthetic"
        return f"{self.split} · key {short_hash(self.key_hash, 8)}" + ("" if self.kind == "user" else " (unverified)")

    @property
    def title(self) -> str:
        if self.kind == "synthetic":
            return f"the bundled synthetic dataset (split {self.split}): not ArchEHR-QA results"
        if self.kind == "user":
            return f"gold from the given data folder, split {self.split}, key {self.key_hash}"
        return f"no data folder with this key was given (split {self.split}, key {self.key_hash})"


def _task(table: Table) -> Task | None:
    try:
        return task_for(table.year, table.subtask)
    except UnknownTaskError:
        return None


@cache
def _synthetic_splits() -> dict[str, Split]:
    return dict(load_dataset(SYNTHETIC).splits)


def _key_hash(split: Split, task: Task, case_ids: Sequence[str]) -> str | None:
    """The key hash the scorer computes for ``case_ids`` of ``split`` (None when it cannot score them)."""
    from metrics.scoring import SubmissionScorer

    try:
        return SubmissionScorer(split, task, case_ids=case_ids).key_hash
    except HarnessError:
        return None


def table_provenance(
    tables: Sequence[Table], *, data: str | Path | None = None, include_case_text: bool = False
) -> dict[str, Provenance]:
    """Table id → provenance. ``data``: a data folder (official layout) to match user-data tables against."""
    user: dict[str, Split] = dict(load_dataset(data).splits) if data is not None else {}
    out: dict[str, Provenance] = {}
    for t in tables:
        task = _task(t)
        found = Provenance("unverified", t.split, t.key_hash, False)
        if task is not None:
            for kind, splits in (("synthetic", _synthetic_splits() if task.official else {}), ("user", user)):
                split = splits.get(t.split)
                if split is not None and _key_hash(split, task, t.case_ids) == t.key_hash:
                    show = kind == "synthetic" or include_case_text
                    found = Provenance(kind, t.split, t.key_hash, show, split)  # type: ignore[arg-type]
                    break
        out[t.id] = found
    return out


# ---------------------------------------------------------------------- per-case values


def per_case_values(row: Row, column: Column) -> dict[str, float]:
    """The row's per-case values in ``column``: plain scores as stored; pooled F1 as each case's own F1 (from
    its counts, same rule for empty cases); an overall score as the per-case mean of its available components."""
    if column.id not in row.values:
        return {}
    return _metric_values(row.entry, row.entry.metrics.get(column.key))


def _metric_values(entry: Entry, metric: MetricResult | None) -> dict[str, float]:
    if metric is None or not metric.available:
        return {}
    if metric.aggregation == "combined":
        parts = [_metric_values(entry, entry.metrics.get(k)) for k in metric.components if k not in metric.missing]
        if not parts or not all(parts):
            return {}
        return {cid: sum(p[cid] for p in parts) / len(parts) for cid in parts[0]}
    if not metric.per_case:
        return {}
    if metric.aggregation == "micro_f1":
        stat = STATISTICS[statistic_for(metric.aggregation, metric.signature)]
        return {
            cid: float(stat(np.asarray(v, dtype=np.float64)[None], 1)[0])
            for cid, v in metric.per_case.items()
            if isinstance(v, tuple)
        }
    if metric.aggregation != "mean":
        return {}
    return {cid: float(v) for cid, v in metric.per_case.items() if not isinstance(v, tuple)}


# ---------------------------------------------------------------------- predictions


def submission_path(entry: Entry) -> Path | None:
    """The submission scored by ``entry``'s report: ``submission.json`` or ``.zip`` beside the report file."""
    if not entry.source:
        return None
    folder = Path(entry.source).parent
    return next((folder / name for name in SUBMISSION_FILES if (folder / name).is_file()), None)


def load_predictions(entry: Entry, task: Task) -> dict[str, Any] | None:
    """Case id → raw prediction (the task's prediction field) of the entry's submission; None when not found."""
    from submissions.io import read_submission

    path = submission_path(entry)
    if path is None:
        return None
    try:
        entries = read_submission(path)
    except HarnessError as exc:
        logger.warning("%s: predictions not shown: %s", path, exc)
        return None
    if not isinstance(entries, list):
        logger.warning("%s: predictions not shown: not a JSON array", path)
        return None
    wanted = set(entry.case_ids)
    return {
        e["case_id"]: e[task.prediction_field]
        for e in entries
        if isinstance(e, dict) and e.get("case_id") in wanted and task.prediction_field in e
    }


# ---------------------------------------------------------------------- case views


@dataclass(frozen=True)
class Sentence:
    id: str
    text: str | None
    mark: Mark
    supplementary: bool = False

    @property
    def symbol(self) -> str:
        return MARKS[self.mark][0]

    @property
    def words(self) -> str:
        return MARKS[self.mark][1] + (" · supplementary" if self.supplementary else "")


@dataclass(frozen=True)
class AnswerLinks:
    """Subtask 4: one answer sentence with its note-sentence links, each marked."""

    id: str
    text: str | None
    links: tuple[Sentence, ...]


@dataclass(frozen=True)
class Side:
    """One entry's view of one case."""

    entry_id: int | None
    label: str
    color: str
    scores: tuple[tuple[str, str], ...]  # (column label, value) for this case
    prediction_text: str | None = None
    sentences: tuple[Sentence, ...] = ()
    answers: tuple[AnswerLinks, ...] = ()
    note: str | None = None  # why something is not shown


@dataclass(frozen=True)
class CaseView:
    case_id: str
    context: tuple[tuple[str, str], ...]  # (what, text) of the case: question, reference …
    sides: tuple[Side, ...]


def _mark(sid: Any, gold: frozenset[Any], predicted: frozenset[Any]) -> Mark:
    if sid in gold:
        return "both" if sid in predicted else "gold"
    return "predicted" if sid in predicted else "none"


def _note_sentences(
    case: Case | None, gold: CaseGold | None, predicted: frozenset[str], show_text: bool
) -> tuple[Sentence, ...]:
    """The note's sentences (or, without the case, every gold or predicted id), each marked."""
    texts = {s.id: s.text for s in (case.sentences or ())} if case is not None else {}
    essential = gold.essential if gold is not None else frozenset()
    supplementary = gold.supplementary if gold is not None else frozenset()
    ids = list(texts) if texts else sort_ids(set(essential) | set(supplementary) | set(predicted))
    return tuple(
        Sentence(sid, texts.get(sid) if show_text else None, _mark(sid, essential, predicted), sid in supplementary)
        for sid in ids
    )


def _answer_links(
    case: Case | None, gold: CaseGold | None, predicted: frozenset[tuple[str, str]], show_text: bool
) -> tuple[AnswerLinks, ...]:
    gold_links = gold.essential if gold is not None else frozenset()
    answers = {a.id: a.text for a in (case.answer_sentences or ())} if case is not None else {}
    answer_ids = list(answers) or sort_ids({a for a, _ in gold_links | predicted})
    out = []
    for aid in answer_ids:
        gold_ids = {e for a, e in gold_links if a == aid}
        pred_ids = {e for a, e in predicted if a == aid}
        links = tuple(
            Sentence(e, None, _mark(e, frozenset(gold_ids), frozenset(pred_ids))) for e in sort_ids(gold_ids | pred_ids)
        )
        out.append(AnswerLinks(aid, answers.get(aid) if show_text else None, links))
    return tuple(out)


def _predicted(task: Task, raw: Any) -> tuple[str | None, frozenset[Any]]:
    """(prediction text, predicted ids or links) of one raw prediction, as the scorer reads it."""
    from metrics.evidence import links

    if task.prediction == "text":
        return (raw if isinstance(raw, str) else None), frozenset()
    if task.prediction == "sentence-ids":
        return None, frozenset(str(i) for i in raw) if isinstance(raw, list) else frozenset()
    if task.prediction == "links":
        try:
            return None, links(raw)
        except (TypeError, KeyError, AttributeError):
            return None, frozenset()
    from submissions.format2025 import parse_answer_2025

    if not isinstance(raw, str):
        return None, frozenset()
    parsed = parse_answer_2025(raw)
    return raw, frozenset(c.strip() for c in parsed.citations)


def case_views(
    table: Table,
    provenance: Provenance,
    colors: Mapping[int | None, str],
    columns: Sequence[Column],
) -> list[CaseView]:
    """Every case of ``table`` with each entry's per-case scores and, where found, its prediction against gold."""
    task = _task(table)
    split = provenance.data
    keys = (split.keys or {}) if split is not None else {}
    cases = {c.case_id: c for c in split.cases} if split is not None else {}
    show = provenance.show_text
    values = {(r.entry.id, c.id): per_case_values(r, c) for r in table.rows for c in columns}
    predictions = {r.entry.id: load_predictions(r.entry, task) if task is not None else None for r in table.rows}
    views = []
    for cid in sort_ids(set(table.case_ids)):
        case = cases.get(cid)
        gold = task.gold(case, keys.get(cid)) if task is not None and case is not None else None
        context: list[tuple[str, str]] = []
        if show and case is not None:
            if case.patient_narrative:
                context.append(("patient narrative", case.patient_narrative))
            if case.clinician_question and task is not None and task.id != "2026/1":
                context.append(("clinician question", case.clinician_question))
        sides = []
        for r in table.rows:
            scores = tuple(
                (c.label, f"{values[(r.entry.id, c.id)][cid]:.2f}")
                for c in columns
                if cid in values[(r.entry.id, c.id)]
            )
            raw = (predictions[r.entry.id] or {}).get(cid)
            side: dict[str, Any] = {}
            if task is None:
                side["note"] = "unknown task: no case view"
            elif predictions[r.entry.id] is None:
                side["note"] = "predictions not found (no submission.json beside the report)"
            elif raw is None:
                side["note"] = "no prediction for this case"
            else:
                text, predicted = _predicted(task, raw)
                side["prediction_text"] = text
                if task.prediction in ("sentence-ids", "answer-2025"):
                    side["sentences"] = _note_sentences(case, gold, predicted, show)
                elif task.prediction == "links":
                    side["answers"] = _answer_links(case, gold, predicted, show)
            if gold is None and task is not None and task.prediction != "text":
                side.setdefault("note", "gold not available: marks need the data folder (--data DIR)")
            sides.append(Side(r.entry.id, r.entry.label, colors.get(r.entry.id, "#999999"), scores, **side))
        if show and gold is not None and gold.reference and task is not None and task.prediction == "text":
            context.append(("reference", gold.reference))
        views.append(CaseView(cid, tuple(context), tuple(sides)))
    return views


@dataclass(frozen=True)
class ReferenceRow:
    """A published figure shown in a table for reference: never reproduced here, never ranked."""

    label: str  # e.g. "QU-NLP (published)"
    source: str  # where it was published
    values: Mapping[str, float]  # column id → value
