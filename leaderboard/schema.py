"""The leaderboard schema, derived: which columns a task shows, in what order, how they are named, and
whether higher is better (HELM's habit: presentation is data). Nothing here is a table of its own: the
order and the default columns come from the task (:mod:`harness.tasks`), names, direction and scale of
metric outputs from the metric registry (:mod:`metrics.registry`), names of combined keys from the task's
formula.

"Year" is the report's ``year``: an ArchEHR-QA edition (``2025``, ``2026``) or the FHIR track (``fhir``).
Output keys a task does not list still show, after the listed ones, as secondary columns named by their
key, higher-is-better unless the report says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.tasks import Task, UnknownTaskError, editions, task_for
from metrics.registry import output_spec


@dataclass(frozen=True)
class ColumnSpec:
    """How one output key of a score report is shown."""

    key: str
    display: str
    higher_is_better: bool = True
    primary: bool = True  # shown in the terminal by default; secondary ones with --all-columns
    description: str = ""
    scale: tuple[float, float] = (0.0, 100.0)


OVERALL_KEY = "overall_score"

#: The years the board knows, in table order (``--year`` choices).
YEARS: tuple[str, ...] = editions()


def _task(year: str, subtask: int | None) -> Task | None:
    try:
        return task_for(year, subtask)
    except UnknownTaskError:
        return None


def column_spec(task: Task | None, key: str, higher_is_better: Mapping[str, bool] | None = None) -> ColumnSpec:
    """The spec of one key: a combined key of the task, a registered metric output, or an unknown key."""
    primary = task is not None and key in task.primary
    combined = next((c for c in task.combined if c.key == key), None) if task is not None else None
    if combined is not None:
        return ColumnSpec(key, combined.display, primary=primary, description=combined.description)
    output = output_spec(key)
    if output is not None:
        return ColumnSpec(key, output.display, output.higher_is_better, primary, output.description, output.scale)
    return ColumnSpec(key, key, (higher_is_better or {}).get(key, True), primary=False)


def columns_for(
    year: str, subtask: int | None, keys: Iterable[str], higher_is_better: Mapping[str, bool] | None = None
) -> list[ColumnSpec]:
    """The specs of ``keys``: the task's column order first, then its other output keys, then unknown keys
    (secondary, higher-is-better as ``higher_is_better`` from the reports says, else True)."""
    wanted = set(keys)
    task = _task(year, subtask)
    order = list(dict.fromkeys([*task.column_order, *task.output_keys])) if task is not None else []
    listed = [k for k in order if k in wanted]
    extra = sorted(wanted - set(listed))
    specs = [column_spec(task, k, higher_is_better) for k in listed]
    return [*specs, *(column_spec(task, k, higher_is_better) for k in extra)]


def table_title(year: str, subtask: int | None) -> str:
    task = _task(year, subtask)
    return task.table_title if task is not None else f"{year} Subtask {subtask}"


def task_name(year: str, subtask: int | None) -> str:
    """``"2026 subtask 3"``, ``"FHIR QA task 1"``, ``"ArchEHR-QA 2025"``."""
    task = _task(year, subtask)
    return task.name if task is not None else f"{year} subtask {subtask}"
