"""Helpers for system authors' own tests: run a system on the bundled synthetic data and check its output
(app layer: it composes the data, the systems registry and the submission validator).

    from archehr.testing import check_system

    def test_my_system():
        check_system("word-overlap", tasks=["2026/2"])

:func:`check_system` raises :class:`SystemCheckError` (an ``AssertionError``, so pytest shows it as a failed
test) listing every problem: a card that does not name the system's subtasks, predictions missing, repeated,
out of order or for unknown cases, and predictions the official validator refuses (wrong shape, unknown
sentence ids, too many words). It never reads or writes a run store: every call predicts afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.data import inputs_for, load_dataset
from harness.errors import InputError, Problem
from harness.systems import Prediction, System, SystemCard, build_system
from harness.tasks import Task, get_task
from submissions import build_entries, validate_submission

__all__ = ["CheckReport", "SystemCheckError", "check_system"]

SYNTHETIC = "synthetic"


class SystemCheckError(AssertionError):
    """A system failed :func:`check_system`; the message lists every problem, one per line."""

    def __init__(self, problems: Sequence[Problem | str]) -> None:
        self.problems = [str(p) for p in problems]
        super().__init__("system check failed:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_system` ran: per task id, the number of cases checked and the validator's warnings."""

    system: str
    cases: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    predictions: dict[str, dict[str, Any]] = field(default_factory=dict)


def check_system(
    system: str | System,
    *,
    tasks: Iterable[str] | None = None,
    config: Mapping[str, Any] | None = None,
    data: str = SYNTHETIC,
    split: str = "test",
    case_ids: Sequence[str] | None = None,
) -> CheckReport:
    """Run ``system`` (a registered name, built with ``config``, or a built :class:`~harness.systems.System`) on
    ``data``/``split`` (default: the bundled synthetic test split) for each task id in ``tasks`` (default: every
    2026 subtask its card names) and validate the predictions as ``archehr validate`` would.

    Returns a :class:`CheckReport`; raises :class:`SystemCheckError` listing every problem."""
    built = build_system(system, config) if isinstance(system, str) else system
    card = getattr(built, "card", None)
    if not isinstance(card, SystemCard):
        raise SystemCheckError([f"{type(built).__name__}.card must be a harness.systems.SystemCard, got {card!r}"])
    chosen = [get_task(t) for t in tasks] if tasks is not None else [get_task(f"2026/{n}") for n in card.subtasks]
    target = load_dataset(data).split(split)
    report = CheckReport(card.name)
    problems: list[Problem | str] = []
    for task in chosen:
        problems += _check_task(built, card, task, target, case_ids, report)
    if problems:
        raise SystemCheckError(problems)
    return report


def _check_task(
    system: System, card: SystemCard, task: Task, target: Any, case_ids: Sequence[str] | None, report: CheckReport
) -> list[Problem | str]:
    if task.subtask is None or task.edition != "2026":
        return [f"{task.id}: systems answer the 2026 subtasks (2026/1 … 2026/4)"]
    number = int(task.subtask)
    if number not in card.subtasks:
        return [f"{task.id}: the card of {card.name!r} names subtasks {list(card.subtasks)}, not {number}"]
    cases = inputs_for(target, task.subtask, case_ids)
    file = f"{card.name} on {target.name} ({task.id})"
    problems: list[Problem | str] = []
    predicted: dict[str, Any] = {}
    order: list[str] = []
    for item in system.predict(cases, task.subtask):
        if not isinstance(item, Prediction):
            problems.append(f"{file}: predict() yielded {type(item).__name__}, not harness.systems.Prediction")
            continue
        if item.case_id in predicted:
            problems.append(Problem("predicted twice", file, str(item.case_id), "case_id"))
        predicted[item.case_id] = item.prediction
        order.append(item.case_id)
    wanted = [c.case_id for c in cases]
    if not problems and order != wanted[: len(order)] and set(order) <= set(wanted):
        problems.append(f"{file}: predictions come out of order (the run store needs them in the cases' order)")
    try:
        entries = build_entries(predicted, wanted, subtask=number)
    except InputError as exc:
        return problems + list(exc.problems)
    validation = validate_submission(entries, target, task, file=file, case_ids=wanted)
    problems += validation.errors
    report.cases[task.id] = len(entries)
    report.warnings[task.id] = [str(w) for w in validation.warnings]
    report.predictions[task.id] = predicted
    return problems
