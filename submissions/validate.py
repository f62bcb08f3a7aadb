"""Validate a parsed submission against a split: every hard failure of the official scorers, all at once.

Errors are what makes the official scorer refuse the submission (or what silently distorts
its numbers, like a duplicated case); warnings are legal but lose points silently (ids that
collapse, text the scorer truncates, 2025 citations it cannot read). Valid note-sentence and
answer-sentence ids come from the key when the split has one (the official scorers check
against the key), otherwise from the case XML.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.data.model import Case, CaseKey, Split, Subtask, parse_id_ranges
from harness.errors import InputError, Problem
from harness.tasks import Task, get_task
from submissions.format2025 import lint_answer_2025
from submissions.formats import (
    check_year_subtask,
    describe_ids,
    describe_non_string_id,
    json_type,
    prediction_field,
    shape_problems,
)

logger = logging.getLogger(__name__)

_CITATION_MARKERS = re.compile(r"\[\s*\d+(?:\s*,\s*\d+)*\s*\]|\|\s*\d+(?:\s*,\s*\d+)*\s*\|")


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating one submission; ``ok`` means the official scorer will accept it."""

    file: str
    year: str
    subtask: int | None
    split: str | None
    case_ids: tuple[str, ...]
    entries: int
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "file": self.file,
            "year": self.year,
            "subtask": self.subtask,
            "split": self.split,
            "cases_expected": len(self.case_ids),
            "entries": self.entries,
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
        }


@dataclass
class _Findings:
    file: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, message: str, case_id: str | None = None, where: str | None = None) -> None:
        self.errors.append(Problem(message, self.file, case_id, where))

    def warn(self, message: str, case_id: str | None = None, where: str | None = None) -> None:
        self.warnings.append(Problem(message, self.file, case_id, where))


def validate_submission(
    entries: Any,
    split: Split | None,
    task: Task | None,
    *,
    file: str,
    case_ids: str | Iterable[str] | None = None,
    envelope_year: str = "2026",
) -> ValidationReport:
    """Check a parsed submission (``json.load`` output) for ``task`` and report every problem.

    ``split=None`` checks the structure only (no case set, no id membership). ``case_ids``
    restricts the check to those cases, as the scorers' ``--case_ids_to_score`` does: entries
    for other cases are ignored (a string is read as ranges, ``"21-120 5"``). ``task=None`` checks
    the envelope of an ``envelope_year`` submission only.
    """
    if task is None:
        year, subtask = envelope_year, None
    else:
        year, subtask = task.submission_year, None if task.subtask is None else int(task.subtask)
    st = check_year_subtask(year, subtask)
    if isinstance(case_ids, str):
        case_ids = parse_id_ranges(case_ids)
    wanted = None if case_ids is None else list(dict.fromkeys(case_ids))
    expected = _expected_case_ids(split, wanted)
    split_name = None if split is None else split.name
    found = _Findings(file)
    if isinstance(entries, list):
        if year == "2026" and st is None:
            found.warn("no subtask given: only the envelope was checked, not the predictions")
        _check_entries(entries, split, st, year, wanted, expected, found)
    else:
        found.error(
            f'a submission must be a JSON array of {{"case_id", "{prediction_field(year)}"}} objects, '
            f"got {json_type(entries)}"
        )
    logger.debug("validated %s: %d errors, %d warnings", file, len(found.errors), len(found.warnings))
    return ValidationReport(
        file=file,
        year=year,
        subtask=subtask,
        split=split_name,
        case_ids=tuple(expected or ()),
        entries=len(entries) if isinstance(entries, list) else 0,
        errors=found.errors,
        warnings=found.warnings,
    )


def _check_entries(
    entries: list[Any],
    split: Split | None,
    subtask: Subtask | None,
    year: str,
    wanted: list[str] | None,
    expected: list[str] | None,
    found: _Findings,
) -> None:
    cases = {} if split is None else {c.case_id: c for c in split.cases}
    keys: Mapping[str, CaseKey] = {} if split is None or split.keys is None else split.keys
    scope = None if wanted is None else set(wanted)
    positions: dict[str, list[int]] = {}
    ignored = 0
    for index, entry in enumerate(entries):
        case_id = _entry_case_id(entry, index, found)
        if case_id is None:
            continue
        if scope is not None and case_id not in scope:
            ignored += 1
            continue
        positions.setdefault(case_id, []).append(index)
        if len(positions[case_id]) == 1:
            _check_entry(entry, case_id, subtask, year, cases.get(case_id), keys.get(case_id), found)

    if ignored:
        found.warn(f"{ignored} entries for cases outside the requested case ids were ignored", where="case_id")
    for case_id, where in positions.items():
        if len(where) > 1:
            found.error(
                f"case appears {len(where)} times (entries {', '.join(map(str, where))}); refused, while the official"
                " 2026 scorers count it that many times",
                case_id,
                "case_id",
            )
    if expected is None:
        return
    name = split.name if split is not None else "?"
    expected_set = set(expected)
    for case_id in expected:
        if case_id not in positions:
            found.error(f"missing: split {name} has this case, the submission does not", case_id, "case_id")
    for case_id in positions:
        if case_id not in expected_set:
            found.error(f"extra: split {name} has no such case", case_id, "case_id")


def _expected_case_ids(split: Split | None, wanted: list[str] | None) -> list[str] | None:
    if split is None:
        return None
    if wanted is None:
        return split.case_ids()
    known = set(split.case_ids())
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise InputError(
            [Problem(f"requested case id(s) {', '.join(unknown)} are not in split {split.name}", field="case_ids")]
        )
    return [c for c in split.case_ids() if c in set(wanted)]


def _entry_case_id(entry: Any, index: int, found: _Findings) -> str | None:
    if not isinstance(entry, dict):
        found.error(f"entry {index} is {json_type(entry)}, not an object", where=f"[{index}]")
        return None
    if "case_id" not in entry:
        found.error(f"entry {index} has no case_id", where=f"[{index}].case_id")
        return None
    value = entry["case_id"]
    if not isinstance(value, str):
        shown = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        found.error(f"case_id {describe_non_string_id(value)} (entry {index})", shown, "case_id")
        return None
    return value


def _check_entry(
    entry: dict[str, Any],
    case_id: str,
    subtask: Subtask | None,
    year: str,
    case: Case | None,
    key: CaseKey | None,
    found: _Findings,
) -> None:
    name = prediction_field(year)
    for extra in sorted(set(entry) - {"case_id", name}):
        found.warn(f"unknown field {extra!r} is ignored by the scorer", case_id, extra)
    if name not in entry:
        other = prediction_field("2026" if year == "2025" else "2025")
        hint = f" ({other!r} is the field of the other year's format: check --year)" if other in entry else ""
        found.error(f"no {name!r} field{hint}", case_id, name)
        return
    prediction = entry[name]
    shape = shape_problems(prediction, subtask=subtask, year=year, file=found.file, case_id=case_id)
    if shape:
        found.errors.extend(shape)
        return
    if year == "2025":
        lint = lint_answer_2025(
            prediction, sentence_ids=_note_sentence_ids(case, key), file=found.file, case_id=case_id
        )
        found.errors.extend(lint.errors)
        found.warnings.extend(lint.warnings)
    elif subtask is not None and _word_limit(subtask) is not None:
        _check_text(prediction, case_id, subtask, found)
    elif subtask == Subtask.EVIDENCE_IDENTIFICATION:
        _check_evidence(prediction, case_id, case, key, found)
    elif subtask == Subtask.EVIDENCE_ALIGNMENT:
        _check_alignment(prediction, case_id, case, key, found)


def _word_limit(subtask: Subtask) -> int | None:
    return get_task(f"2026/{int(subtask)}").max_words


def _check_text(text: str, case_id: str, subtask: Subtask, found: _Findings) -> None:
    limit = _word_limit(subtask)
    assert limit is not None
    words = len(text.split())
    if words > limit:
        found.warn(f"{words} words; the scorer keeps the first {limit}", case_id, "prediction")
    marker = _CITATION_MARKERS.search(text) if subtask == Subtask.ANSWER_GENERATION else None
    if marker:
        found.warn(
            f"citation marker {marker.group(0)} in a plain-text answer is scored as words", case_id, "prediction"
        )


def _check_evidence(ids: list[str], case_id: str, case: Case | None, key: CaseKey | None, found: _Findings) -> None:
    _warn_duplicates(ids, case_id, "prediction", found)
    if case is None:
        return
    valid = _note_sentence_ids(case, key)
    if valid is None:
        found.warn("ids not checked: the split holds no note sentences for this case", case_id, "prediction")
    else:
        _check_ids(ids, valid, case_id, "prediction", "note sentence", found)


def _check_alignment(
    alignments: list[dict[str, Any]], case_id: str, case: Case | None, key: CaseKey | None, found: _Findings
) -> None:
    repeated = [a for a, n in Counter(al["answer_id"] for al in alignments).items() if n > 1]
    if repeated:
        found.warn(
            f"answer id(s) {', '.join(map(repr, repeated))} listed more than once; their links are merged",
            case_id,
            "prediction",
        )
    for i, alignment in enumerate(alignments):
        _warn_duplicates(alignment["evidence_id"], case_id, f"prediction[{i}].evidence_id", found)
    if case is None:
        return
    valid_evidence = _note_sentence_ids(case, key)
    valid_answers = _answer_sentence_ids(case, key)
    if valid_answers is None:
        found.warn("answer ids not checked: the split holds no answer sentences for this case", case_id, "prediction")
    if valid_evidence is None:
        found.warn("evidence ids not checked: the split holds no note sentences for this case", case_id, "prediction")
    for i, alignment in enumerate(alignments):
        if valid_answers is not None:
            _check_ids(
                [alignment["answer_id"]], valid_answers, case_id, f"prediction[{i}].answer_id", "answer sentence", found
            )
        if valid_evidence is not None:
            _check_ids(
                alignment["evidence_id"],
                valid_evidence,
                case_id,
                f"prediction[{i}].evidence_id",
                "note sentence",
                found,
            )


def _warn_duplicates(ids: list[str], case_id: str, where: str, found: _Findings) -> None:
    duplicated = [i for i, n in Counter(ids).items() if n > 1]
    if duplicated:
        found.warn(f"duplicate id(s) {', '.join(map(repr, duplicated))}: the scorer counts each once", case_id, where)


def _check_ids(ids: list[str], valid: Collection[str], case_id: str, where: str, what: str, found: _Findings) -> None:
    invalid = list(dict.fromkeys(i for i in ids if i not in valid))
    if invalid:
        hint = " (ids must not carry spaces)" if any(i.strip() in valid for i in invalid) else ""
        shown = ", ".join(map(repr, invalid))
        subject = f"id {shown} is not a {what}" if len(invalid) == 1 else f"ids {shown} are not {what}s"
        found.error(
            f"{subject} of this case{hint} ({what}s: {describe_ids(valid)}); any invalid id fails the whole submission",
            case_id,
            where,
        )


def _note_sentence_ids(case: Case | None, key: CaseKey | None) -> set[str] | None:
    if key is not None and key.relevance:
        return {sid for sid, _ in key.relevance}
    if case is not None and case.sentences is not None:
        return set(case.sentence_ids())
    return None


def _answer_sentence_ids(case: Case | None, key: CaseKey | None) -> set[str] | None:
    if key is not None and key.clinician_answer_sentences is not None:
        return {a.id for a in key.clinician_answer_sentences}
    if case is not None and case.answer_sentences is not None:
        return {a.id for a in case.answer_sentences}
    return None
