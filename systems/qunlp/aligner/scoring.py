"""Raw component scores for a batch of cases: lexical scores for every pair, cross-encoder for candidates.

The cross-encoder sees, per query, the union of the top ``ce_top_n`` sentences by BM25 and by TF-IDF
(every sentence when ``ce_top_n`` is 0 or the case is small); all cases' candidate pairs go through one
batched, length-sorted pass (one pass per case with an int8 model, see
:meth:`CrossEncoderScorer.score_groups`): a case's scores do not depend on the other cases of the batch
(beyond float rounding from padding in fp32).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.data.model import Case, Subtask
from systems.qunlp.aligner.config import AlignerConfig
from systems.qunlp.aligner.cross_encoder import CrossEncoderScorer
from systems.qunlp.aligner.lexical import bm25_scores, tfidf_scores
from systems.qunlp.aligner.queries import CaseQueries, case_queries
from systems.qunlp.aligner.raw_scores import RawScores

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LexicalCase:
    """One case's queries and its lexical score matrices ``[n_queries, n_sentences]``."""

    queries: CaseQueries
    bm25: np.ndarray
    tfidf: np.ndarray

    def candidates(self, top_n: int) -> list[list[int]]:
        """Per query, the sentence positions sent to the cross-encoder, in note order."""
        n = len(self.queries.sentences)
        if top_n <= 0 or n <= top_n:
            return [list(range(n)) for _ in self.queries.queries]
        out = []
        for i in range(len(self.queries.queries)):
            chosen: set[int] = set()
            for matrix in (self.bm25, self.tfidf):
                order = np.lexsort((np.arange(n), -matrix[i]))
                chosen.update(int(j) for j in order[:top_n])
            out.append(sorted(chosen))
        return out


def lexical_case(case: Case, subtask: Subtask, config: AlignerConfig) -> LexicalCase:
    queries = case_queries(case, subtask)
    query_texts = [t for _, t in queries.queries]
    sentence_texts = [t for _, t in queries.sentences]
    return LexicalCase(
        queries,
        bm25_scores(query_texts, sentence_texts, backend=config.bm25_backend, k1=config.bm25_k1, b=config.bm25_b),
        tfidf_scores(query_texts, sentence_texts, sublinear_tf=config.tfidf_sublinear_tf),
    )


def score_cases(
    cases: Sequence[Case],
    subtask: Subtask,
    config: AlignerConfig,
    cross_encoder: CrossEncoderScorer | None,
    *,
    top_n: int | None = None,
) -> RawScores:
    """Raw scores of ``cases`` (no cross-encoder component when ``cross_encoder`` is None)."""
    top_n = config.settings(subtask).ce_top_n if top_n is None else top_n
    raw = RawScores(int(subtask), {"bm25": {}, "tfidf": {}})
    groups: list[list[tuple[str, str]]] = []  # per case, its candidate pairs
    slots: list[list[tuple[str, str]]] = []  # per case, (query_id, sentence_id) of each pair
    for case in cases:
        lex = lexical_case(case, subtask, config)
        q = lex.queries
        for name, matrix in (("bm25", lex.bm25), ("tfidf", lex.tfidf)):
            raw.components[name][case.case_id] = {
                qid: {sid: float(matrix[i, j]) for j, (sid, _) in enumerate(q.sentences)}
                for i, (qid, _) in enumerate(q.queries)
            }
        if cross_encoder is None:
            continue
        candidates = [(i, j) for i, positions in enumerate(lex.candidates(top_n)) for j in positions]
        groups.append([(q.queries[i][1], q.sentences[j][1]) for i, j in candidates])
        slots.append([(q.queries[i][0], q.sentences[j][0]) for i, j in candidates])
    if cross_encoder is not None:
        nested: dict[str, dict[str, dict[str, float]]] = {}
        for case, case_slots, logits in zip(cases, slots, cross_encoder.score_groups(groups), strict=True):
            queries = nested[case.case_id] = {qid: {} for qid in raw.components["bm25"][case.case_id]}
            for (qid, sid), logit in zip(case_slots, logits, strict=True):
                queries[qid][sid] = float(logit)
        raw.components["cross_encoder"] = nested
        logger.debug("cross-encoder scored %d pairs for %d cases", sum(map(len, groups)), len(cases))
    return raw
