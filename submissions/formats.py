"""Prediction shapes of the official submission files, and the entries built from predictions.

2026: ``[{"case_id": str, "prediction": …}]`` where the prediction is, per subtask,
1: a non-empty string; 2: a list of note sentence-id strings; 3: a non-empty string;
4: a list of ``{"answer_id": str, "evidence_id": [str, …]}``.
2025: ``[{"case_id": str, "answer": str}]`` (the answer's pipe citations: :mod:`submissions.format2025`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from harness.data.model import Subtask
from harness.errors import InputError, Problem
from harness.tasks import all_tasks
from harness.textutil import lone_surrogate

#: The official submission formats (the years whose layout a submission file follows), from the tasks.
YEARS: tuple[str, ...] = tuple(sorted({t.submission_year for t in all_tasks()}))


_TEXT_SUBTASKS = (Subtask.QUESTION_INTERPRETATION, Subtask.ANSWER_GENERATION)


def prediction_field(year: str) -> str:
    """The name of the prediction field of an entry: ``answer`` (2025) or ``prediction`` (2026)."""
    return "answer" if year == "2025" else "prediction"


def check_year_subtask(year: str, subtask: int | None, *, subtask_required: bool = False) -> Subtask | None:
    """Refuse impossible combinations (programming errors, hence ``ValueError``); return the subtask."""
    if year not in YEARS:
        raise ValueError(f"year must be one of {', '.join(YEARS)}, got {year!r}")
    if year == "2025":
        if subtask is not None:
            raise ValueError("the 2025 task has no subtasks")
        return None
    if subtask is None:
        if subtask_required:
            raise ValueError("a 2026 submission needs its subtask (1-4)")
        return None
    try:
        return Subtask(subtask)
    except ValueError:
        raise ValueError(f"subtask must be 1-4, got {subtask!r}") from None


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (``string``, ``number``, ``array`` …)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def describe_non_string_id(value: Any) -> str:
    """The message for an id that is not a JSON string (``21`` → ``write "21"``)."""
    shown = json.dumps(value) if isinstance(value, int | float | bool) or value is None else json_type(value)
    hint = f' (write "{value}")' if isinstance(value, int) and not isinstance(value, bool) else ""
    return f"must be a string, got {json_type(value)} {shown}{hint}"


def describe_ids(ids: Iterable[str]) -> str:
    """Ids as compact text: numeric runs as ranges (``1-5, 7, 9-10``), other ids after them."""
    unique = set(ids)
    canonical = {x for x in unique if x.isascii() and x.isdigit() and str(int(x)) == x}
    numbers = sorted(int(x) for x in canonical)
    others = sorted(unique - canonical)
    runs: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        runs.append(str(numbers[i]) if i == j else f"{numbers[i]}-{numbers[j]}")
        i = j + 1
    return ", ".join(runs + others) or "none"


def shape_problems(
    prediction: Any, *, subtask: int | None, year: str, file: str | None = None, case_id: str | None = None
) -> list[Problem]:
    """Type and shape problems of one prediction; nothing about the case's ids (no dataset needed).

    A 2026 prediction with no subtask given is not checked.
    """
    field = prediction_field(year)
    if year == "2025":
        return _text_problems(prediction, field, file, case_id, what="answer")
    if subtask is None:
        return []
    st = Subtask(subtask)
    if st in _TEXT_SUBTASKS:
        return _text_problems(prediction, field, file, case_id, what="prediction")
    if st == Subtask.EVIDENCE_IDENTIFICATION:
        return _id_list_problems(prediction, field, file, case_id)
    return _alignment_problems(prediction, field, file, case_id)


def _text_problems(value: Any, field: str, file: str | None, case_id: str | None, *, what: str) -> list[Problem]:
    if not isinstance(value, str):
        return [Problem(f"{what} must be a string, got {json_type(value)}", file, case_id, field)]
    if not value.strip():
        return [Problem(f"empty {what}: the official scorer refuses the whole submission", file, case_id, field)]
    invalid = lone_surrogate(value)
    return [Problem(invalid, file, case_id, field)] if invalid else []


def _id_list_problems(value: Any, field: str, file: str | None, case_id: str | None) -> list[Problem]:
    if not isinstance(value, list):
        hint = ' (write ["1", "2"], not "1,2")' if isinstance(value, str) else ""
        return [Problem(f"must be an array of sentence-id strings, got {json_type(value)}{hint}", file, case_id, field)]
    return [
        Problem(f"sentence id {describe_non_string_id(item)}", file, case_id, f"{field}[{i}]")
        for i, item in enumerate(value)
        if not isinstance(item, str)
    ]


def _alignment_problems(value: Any, field: str, file: str | None, case_id: str | None) -> list[Problem]:
    if not isinstance(value, list):
        return [
            Problem(
                f'must be an array of {{"answer_id", "evidence_id"}} objects, got {json_type(value)}',
                file,
                case_id,
                field,
            )
        ]
    problems: list[Problem] = []
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            problems.append(
                Problem(
                    f'must be an object {{"answer_id", "evidence_id"}}, got {json_type(item)}', file, case_id, where
                )
            )
            continue
        if "answer_id" not in item:
            problems.append(Problem("missing", file, case_id, f"{where}.answer_id"))
        elif not isinstance(item["answer_id"], str):
            problems.append(Problem(describe_non_string_id(item["answer_id"]), file, case_id, f"{where}.answer_id"))
        evidence = item.get("evidence_id")
        if "evidence_id" not in item:
            problems.append(Problem("missing", file, case_id, f"{where}.evidence_id"))
        elif not isinstance(evidence, list):
            problems.append(
                Problem(
                    f"must be an array of sentence-id strings, got {json_type(evidence)}",
                    file,
                    case_id,
                    f"{where}.evidence_id",
                )
            )
        else:
            problems.extend(
                Problem(f"sentence id {describe_non_string_id(e)}", file, case_id, f"{where}.evidence_id[{j}]")
                for j, e in enumerate(evidence)
                if not isinstance(e, str)
            )
    return problems


def _plain(value: Any) -> Any:
    """Tuples to lists and mappings to dicts, recursively, so Python-built predictions serialise as JSON arrays."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def build_entries(
    predictions: Mapping[str, Any], case_ids: Sequence[str], *, subtask: int | None, year: str = "2026"
) -> list[dict[str, Any]]:
    """The official entries ``[{"case_id", "prediction"|"answer"}]`` in ``case_ids`` order.

    Raises :class:`InputError` listing every missing, extra or mistyped prediction.
    """
    check_year_subtask(year, subtask, subtask_required=True)
    if len(set(case_ids)) != len(case_ids):
        raise ValueError("case_ids holds duplicates")
    field = prediction_field(year)
    wanted = set(case_ids)
    problems: list[Problem] = []
    for key in predictions:
        if not isinstance(key, str):
            problems.append(Problem(f"case id {describe_non_string_id(key)}", None, str(key), "case_id"))
        elif key not in wanted:
            problems.append(
                Problem("prediction for a case that is not among the cases to submit", None, key, "case_id")
            )
    entries: list[dict[str, Any]] = []
    for case_id in case_ids:
        if case_id not in predictions:
            problems.append(Problem("no prediction for this case", None, case_id, field))
            continue
        value = _plain(predictions[case_id])
        problems.extend(shape_problems(value, subtask=subtask, year=year, case_id=case_id))
        entries.append({"case_id": case_id, field: value})
    if problems:
        raise InputError(problems)
    return entries
