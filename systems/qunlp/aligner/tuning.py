"""Grid search of the ensemble (weights, BM25 fraction, threshold, k, fallback) with leave-cases-out CV.

Every grid point is scored once per case (true positives and predicted links, vectorised over thresholds
and k); a fold's choice is then the best pooled micro-F1 on the other folds' cases (each point's F1
averaged with its neighbouring thresholds', which prefers flat optima), scored on its own cases, and the
cross-validated F1 pools the held-out counts of all folds. The final parameters are the best on all cases.
Single components are tuned the same way with one-hot weights (the ablation rows).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from metrics.evidence import Counts
from systems.qunlp.aligner.ensemble import EnsembleParams, PairTable, combine, ranks
from systems.qunlp.aligner.evaluation import MicroScores, micro_rule

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grid:
    """The values searched; ``weights`` lists whole weight vectors."""

    weights: tuple[Mapping[str, float], ...]
    bm25_fractions: tuple[float, ...]
    thresholds: tuple[float, ...]
    ks: tuple[int, ...]
    min_links: tuple[int, ...]

    def size(self) -> int:
        return len(self.weights) * len(self.bm25_fractions) * len(self.thresholds) * len(self.ks) * len(self.min_links)


@dataclass(frozen=True)
class TuneResult:
    """The chosen parameters, their in-sample scores and the cross-validated scores of the procedure."""

    params: EnsembleParams
    fit: MicroScores  # the chosen parameters on all tuning cases (optimistic)
    cv: MicroScores  # pooled held-out scores of per-fold choices
    folds: int
    grid_size: int

    def to_json(self) -> dict[str, object]:
        return {
            "params": self.params.to_json(),
            "cv": self.cv.to_json(),
            "fit": self.fit.to_json(),
            "folds": self.folds,
            "grid_size": self.grid_size,
        }


def simplex_weights(components: Sequence[str], step: float) -> tuple[dict[str, float], ...]:
    """All weight vectors over ``components`` on a grid of ``step`` that sum to 1."""
    n = round(1 / step)
    out = []
    for parts in itertools.product(range(n + 1), repeat=len(components)):
        if sum(parts) == n:
            out.append({c: round(p / n, 6) for c, p in zip(components, parts, strict=True)})
    return tuple(out)


def one_hot(component: str) -> tuple[dict[str, float], ...]:
    return ({component: 1.0},)


def _counts(table: PairTable, gold_mask: np.ndarray, grid: Grid) -> tuple[list[EnsembleParams], np.ndarray, np.ndarray]:
    """Parameters of every grid point, and per case their true positives and predicted links."""
    n_cases = len(table.case_ids)
    onehot = np.zeros((table.size, n_cases))
    onehot[np.arange(table.size), table.case_index] = 1.0
    gold_onehot = onehot * gold_mask[:, None]
    thresholds = np.asarray(grid.thresholds)[:, None]
    ks = np.asarray(grid.ks)[:, None]
    params: list[EnsembleParams] = []
    tps: list[np.ndarray] = []
    preds: list[np.ndarray] = []
    for weights in grid.weights:
        fractions = grid.bm25_fractions if weights.get("bm25", 0) else grid.bm25_fractions[:1]
        for fraction in fractions:
            scores = combine(table, weights, fraction)
            rank = ranks(table, scores)
            within_k = rank[None, :] < ks  # (K, M)
            passes = scores[None, :] >= thresholds  # (T, M)
            fallback = (rank == 0) & (scores > 0)
            for min_links in grid.min_links:
                chosen = (passes | fallback[None, :]) if min_links else passes
                mask = (chosen[:, None, :] & within_k[None, :, :]).reshape(-1, table.size).astype(np.float64)
                tps.append(mask @ gold_onehot)
                preds.append(mask @ onehot)
                for t, k in itertools.product(grid.thresholds, grid.ks):
                    params.append(EnsembleParams(dict(weights), fraction, t, k, min_links))
    return params, np.concatenate(tps), np.concatenate(preds)


def _best(tp: np.ndarray, pred: np.ndarray, gold: float, subtask: int, shape: tuple[int, int]) -> int:
    """Index of the best pooled micro-F1, each point's F1 first averaged with its neighbouring thresholds'
    (a flat optimum generalises better than a spike); first in grid order on ties."""
    rule = micro_rule(subtask)
    f1 = np.array([rule(Counts(int(t), int(p), int(gold))).f1 for t, p in zip(tp, pred, strict=True)])
    f1 = f1.reshape(-1, *shape)  # (blocks, thresholds, ks)
    padded = np.pad(f1, ((0, 0), (1, 1), (0, 0)), constant_values=np.nan)
    smoothed = np.nanmean(np.stack([padded[:, :-2], padded[:, 1:-1], padded[:, 2:]]), axis=0)
    return int(np.argmax(np.round(smoothed, 12)))


def fold_assignment(n_cases: int, folds: int, seed: int) -> np.ndarray:
    """Case index → fold, a seeded shuffle dealt round-robin (leave-one-case-out when folds ≥ cases)."""
    folds = min(folds, n_cases)
    order = np.random.default_rng(seed).permutation(n_cases)
    out = np.empty(n_cases, dtype=np.int64)
    out[order] = np.arange(n_cases) % folds
    return out


def tune(
    table: PairTable,
    gold: Mapping[str, set[tuple[str, str]]],
    grid: Grid,
    *,
    subtask: int,
    folds: int = 5,
    seed: int = 13,
) -> TuneResult:
    """Grid search with leave-cases-out cross-validation; see the module docstring."""
    if not table.case_ids:
        raise ValueError("nothing to tune on: no cases")
    gold_mask = table.gold_mask(gold)
    gold_per_case = np.array([len(gold.get(c, ())) for c in table.case_ids], dtype=np.float64)
    params, tp, pred = _counts(table, gold_mask, grid)
    shape = (len(grid.thresholds), len(grid.ks))
    assignment = fold_assignment(len(table.case_ids), folds, seed)
    held = np.zeros(3)
    for fold in np.unique(assignment):
        train = assignment != fold
        best = _best(tp[:, train].sum(1), pred[:, train].sum(1), gold_per_case[train].sum(), subtask, shape)
        held += [tp[best, ~train].sum(), pred[best, ~train].sum(), gold_per_case[~train].sum()]
    best = _best(tp.sum(1), pred.sum(1), gold_per_case.sum(), subtask, shape)
    fit = (tp[best].sum(), pred[best].sum(), gold_per_case.sum())
    logger.info("tuned %d grid points on %d cases: %s", len(params), len(table.case_ids), params[best].to_json())
    return TuneResult(
        params[best],
        MicroScores.from_counts(*fit, subtask),
        MicroScores.from_counts(*held, subtask),
        int(assignment.max()) + 1,
        len(params),
    )
