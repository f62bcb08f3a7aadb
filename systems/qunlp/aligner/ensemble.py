"""The ensemble: per-case normalisation of each component, weighted sum, threshold, at most k links.

Normalisation (within the case, or within the query with ``scope="query"``):

- lexical components (``bm25``, ``tfidf``): relative to the group's best, ``s / max`` (all-zero → 0);
  BM25 is then relatively thresholded: below ``bm25_fraction`` of the best it contributes 0;
- ``cross_encoder``: min-max over the scored candidates (a degenerate group, e.g. one sentence, takes
  the sigmoid of the logit); a pair the cross-encoder did not score (pruned) counts 0.

Decision per query: rank the candidates by ensemble score (ties: note order); keep those scoring at least
``threshold``, at most ``k``; with ``min_links = 1`` a query with no passing candidate keeps its best one
when that scores above 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from systems.qunlp.aligner.raw_scores import Nested, RawScores

LEXICAL = ("bm25", "tfidf")
ENSEMBLE_KEY = "ensemble"


@dataclass(frozen=True)
class EnsembleParams:
    """Weights per component, BM25 relative threshold, decision threshold, link cap and fallback."""

    weights: Mapping[str, float]
    bm25_fraction: float
    threshold: float
    k: int
    min_links: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "weights": {k: round(float(v), 4) for k, v in self.weights.items()},
            "bm25_fraction": float(self.bm25_fraction),
            "threshold": float(self.threshold),
            "k": int(self.k),
            "min_links": int(self.min_links),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> EnsembleParams:
        return cls(
            weights={str(k): float(v) for k, v in dict(data["weights"]).items()},  # type: ignore[arg-type]
            bm25_fraction=float(data["bm25_fraction"]),  # type: ignore[arg-type]
            threshold=float(data["threshold"]),  # type: ignore[arg-type]
            k=int(data["k"]),  # type: ignore[call-overload]
            min_links=int(data.get("min_links", 0)),  # type: ignore[call-overload]
        )


@dataclass
class PairTable:
    """Every (case, query, sentence) pair as flat arrays, with normalised component scores."""

    case_ids: list[str]
    queries: list[tuple[str, str]]  # (case_id, query_id) per query index
    case_index: np.ndarray  # per pair
    query_index: np.ndarray  # per pair
    position: np.ndarray  # per pair: the sentence's position in its case (tie-break)
    sentence_ids: list[str]  # per pair
    normalised: dict[str, np.ndarray]  # per component, per pair

    @property
    def size(self) -> int:
        return len(self.sentence_ids)

    def gold_mask(self, gold: Mapping[str, set[tuple[str, str]]]) -> np.ndarray:
        return np.array(
            [
                (self.queries[q][1], sid) in gold.get(self.case_ids[c], ())
                for c, q, sid in zip(self.case_index, self.query_index, self.sentence_ids, strict=True)
            ],
            dtype=bool,
        )

    def to_nested(self, values: np.ndarray) -> Nested:
        """Per-pair ``values`` in the raw-score shape."""
        out: Nested = {c: {} for c in self.case_ids}
        for q, sid, value in zip(self.query_index, self.sentence_ids, values, strict=True):
            case_id, query_id = self.queries[q]
            out[case_id].setdefault(query_id, {})[sid] = float(value)
        return out


def build_table(raw: RawScores, *, scope: str = "case", case_ids: Sequence[str] | None = None) -> PairTable:
    """Flatten ``raw`` (pairs are those of the lexical components, which score every sentence)."""
    case_ids = list(case_ids) if case_ids is not None else raw.case_ids()
    base = raw.components.get("bm25") or raw.components.get("tfidf")
    if base is None:
        raise ValueError("raw scores need a lexical component (bm25 or tfidf) listing every pair")
    queries: list[tuple[str, str]] = []
    case_index: list[int] = []
    query_index: list[int] = []
    position: list[int] = []
    sentence_ids: list[str] = []
    for c, case_id in enumerate(case_ids):
        case_positions: dict[str, int] = {}
        for query_id, sentences in base.get(case_id, {}).items():
            queries.append((case_id, query_id))
            for sid in sentences:
                case_index.append(c)
                query_index.append(len(queries) - 1)
                position.append(case_positions.setdefault(sid, len(case_positions)))
                sentence_ids.append(sid)
    table = PairTable(
        case_ids,
        queries,
        np.array(case_index, dtype=np.int64),
        np.array(query_index, dtype=np.int64),
        np.array(position, dtype=np.int64),
        sentence_ids,
        {},
    )
    groups = table.case_index if scope == "case" else table.query_index
    n_groups = len(case_ids) if scope == "case" else len(queries)
    for name, nested in raw.components.items():
        if name == ENSEMBLE_KEY:
            continue
        values = np.array(
            [
                nested.get(case_ids[c], {}).get(queries[q][1], {}).get(sid, np.nan)
                for c, q, sid in zip(table.case_index, table.query_index, sentence_ids, strict=True)
            ],
            dtype=np.float64,
        )
        kind = "relative" if name in LEXICAL else "minmax"
        table.normalised[name] = normalise(values, groups, n_groups, kind)
    return table


def normalise(values: np.ndarray, groups: np.ndarray, n_groups: int, kind: str) -> np.ndarray:
    """Normalise ``values`` within each group (NaN = not scored → 0); see the module docstring."""
    scored = ~np.isnan(values)
    out = np.zeros_like(values)
    if not scored.any():
        return out
    hi = np.full(n_groups, -np.inf)
    lo = np.full(n_groups, np.inf)
    np.maximum.at(hi, groups[scored], values[scored])
    np.minimum.at(lo, groups[scored], values[scored])
    g_hi, g_lo, v = hi[groups[scored]], lo[groups[scored]], values[scored]
    if kind == "relative":
        out[scored] = np.where(g_hi > 0, np.clip(v, 0, None) / np.where(g_hi > 0, g_hi, 1.0), 0.0)
    else:
        span = g_hi - g_lo
        minmax = (v - g_lo) / np.where(span > 0, span, 1.0)
        out[scored] = np.where(span > 0, minmax, 1.0 / (1.0 + np.exp(-v)))
    return out


def combine(table: PairTable, weights: Mapping[str, float], bm25_fraction: float) -> np.ndarray:
    """The weighted sum of normalised components, BM25 relatively thresholded."""
    total = np.zeros(table.size)
    for name, weight in weights.items():
        if weight == 0:
            continue
        values = table.normalised.get(name)
        if values is None:
            raise ValueError(f"weight on component {name!r}, which the raw scores lack")
        if name == "bm25":
            values = np.where(values >= bm25_fraction, values, 0.0)
        total += weight * values
    return total


def ranks(table: PairTable, scores: np.ndarray) -> np.ndarray:
    """Each pair's 0-based rank within its query (higher score first, ties in note order)."""
    order = np.lexsort((table.position, -scores, table.query_index))
    sorted_queries = table.query_index[order]
    starts = np.searchsorted(sorted_queries, sorted_queries, side="left")
    out = np.empty(table.size, dtype=np.int64)
    out[order] = np.arange(table.size) - starts
    return out


def decide(table: PairTable, scores: np.ndarray, threshold: float, k: int, min_links: int) -> np.ndarray:
    """Boolean mask of the chosen pairs."""
    rank = ranks(table, scores)
    passes = scores >= threshold
    if min_links:
        passes |= (rank == 0) & (scores > 0)
    return passes & (rank < k)


def apply(table: PairTable, params: EnsembleParams) -> tuple[np.ndarray, dict[str, dict[str, list[str]]]]:
    """Ensemble scores per pair and the chosen links ``{case_id: {query_id: [sentence_id, ...]}}``."""
    scores = combine(table, params.weights, params.bm25_fraction)
    chosen = decide(table, scores, params.threshold, params.k, params.min_links)
    links: dict[str, dict[str, list[str]]] = {c: {} for c in table.case_ids}
    for case_id, query_id in table.queries:
        links[case_id].setdefault(query_id, [])
    for q, sid in zip(table.query_index[chosen], np.array(table.sentence_ids, dtype=object)[chosen], strict=True):
        case_id, query_id = table.queries[q]
        links[case_id][query_id].append(str(sid))
    return scores, links


def link_sets(links: Mapping[str, Mapping[str, Sequence[str]]]) -> dict[str, set[tuple[str, str]]]:
    return {c: {(q, s) for q, sids in qs.items() for s in sids} for c, qs in links.items()}
