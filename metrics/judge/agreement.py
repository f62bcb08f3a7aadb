"""Agreement of the judge with reference ratings: Spearman's rho (average ranks for ties) and Cohen's kappa
(unweighted or quadratic-weighted), in numpy; ``None`` where the statistic is undefined (constant input)."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.errors import InputError


def ranks(values: Sequence[float]) -> np.ndarray:
    """1-based ranks, ties sharing the average of their positions."""
    array = np.asarray(values, dtype=np.float64)
    order = np.argsort(array, kind="mergesort")
    out = np.empty(len(array))
    sorted_values = array[order]
    i = 0
    while i < len(array):
        j = i
        while j + 1 < len(array) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        out[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson correlation of the ranks; ``None`` with fewer than 2 pairs or a constant side."""
    if len(x) != len(y):
        raise ValueError("spearman needs paired values")
    if len(x) < 2:
        return None
    rx, ry = ranks(x), ranks(y)
    dx, dy = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return None if denominator == 0 else float(dx @ dy) / denominator


def cohen_kappa(a: Sequence[int], b: Sequence[int], *, weights: str | None = None) -> float | None:
    """Cohen's kappa of two raters over the same items; ``weights="quadratic"`` weighs a disagreement by the
    squared distance of the categories (categories: the sorted union of the values). ``None`` when the
    expected disagreement is 0 (both raters constant on the same value)."""
    if len(a) != len(b):
        raise ValueError("kappa needs paired ratings")
    if not a:
        return None
    categories = sorted(set(a) | set(b))
    index = {c: i for i, c in enumerate(categories)}
    k = len(categories)
    observed = np.zeros((k, k))
    for x, y in zip(a, b, strict=True):
        observed[index[x], index[y]] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    if weights is None:
        w = 1.0 - np.eye(k)
    elif weights == "quadratic":
        values = np.asarray(categories, dtype=np.float64)
        w = (values[:, None] - values[None, :]) ** 2
    else:
        raise ValueError(f"unknown kappa weights {weights!r}")
    expected_disagreement = float((w * expected).sum())
    if expected_disagreement == 0:
        return None
    return 1.0 - float((w * observed).sum()) / expected_disagreement


def read_ratings(path: str | Path) -> dict[str, float]:
    """A reference CSV with header ``case_id,score`` (one row per case; numbers)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.one(f"cannot read the ratings ({exc})", file=path) from None
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or not {"case_id", "score"} <= set(reader.fieldnames):
        raise InputError.one("a ratings CSV needs the header case_id,score", file=path)
    out: dict[str, float] = {}
    for row in reader:
        case_id = (row.get("case_id") or "").strip()
        try:
            value = float(row.get("score") or "")
        except ValueError:
            raise InputError.one(
                f"score {row.get('score')!r} is not a number", file=path, case_id=case_id, field="score"
            ) from None
        if not case_id or not math.isfinite(value):
            raise InputError.one(
                "a row needs a case_id and a finite score", file=path, case_id=case_id or None, field="score"
            )
        if case_id in out:
            raise InputError.one("case listed twice", file=path, case_id=case_id, field="case_id")
        out[case_id] = value
    return out
