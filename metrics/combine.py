"""Combined keys: a task's official formula (:attr:`harness.tasks.Task.combined`) evaluated over its scores.

Combined keys are evaluated in order with ``numpy.mean`` over their components in the listed order (the
official scorers' own order, which fixes the last bit of the float); a single component is copied. When a
component is unavailable the combined key is ``None`` (never a number that is not the official one), and
:func:`combine` also returns the mean over the available components under ``partial`` and the names of the
missing ones (docs/scoring.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from harness.tasks import Task


@dataclass(frozen=True)
class CombinedResult:
    """Values of the combined keys (``None`` when a component is missing), partial means, missing names."""

    values: dict[str, float | None]
    partial: dict[str, float]
    missing: dict[str, tuple[str, ...]]


def combine(task: Task, values: Mapping[str, float | None]) -> CombinedResult:
    """Evaluate ``task.combined`` over ``values`` (output key → percent, ``None`` = unavailable)."""
    known: dict[str, float | None] = dict(values)
    partial: dict[str, float] = {}
    missing: dict[str, tuple[str, ...]] = {}
    out: dict[str, float | None] = {}
    for item in task.combined:
        lacking: list[str] = []
        available: list[float] = []
        for comp in item.components:
            value = known.get(comp)
            if value is not None:
                available.append(value)
                continue
            lacking.extend(missing.get(comp, (comp,)))
            if comp in partial:
                available.append(partial[comp])
        if lacking:
            out[item.key] = None
            missing[item.key] = tuple(dict.fromkeys(lacking))
            if available:
                partial[item.key] = float(np.mean(available))
        else:
            out[item.key] = float(np.mean(available))
        known[item.key] = out[item.key]
    return CombinedResult(out, partial, missing)
