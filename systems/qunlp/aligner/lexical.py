"""Lexical components over one case's note sentences: BM25 (rank-bm25 or bm25s) and TF-IDF cosine.

Both return a ``[n_queries, n_sentences]`` array of raw scores; tokens come from
:func:`harness.textutil.tokenize`. A query or sentence without tokens scores 0 everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from harness.textutil import tokenize

logger = logging.getLogger(__name__)

#: Stands in for a sentence without tokens (rank-bm25 cannot index an empty document).
_EMPTY_TOKEN = "\x00empty"


def bm25_scores(
    queries: Sequence[str], sentences: Sequence[str], *, backend: str = "rank_bm25", k1: float = 1.5, b: float = 0.75
) -> np.ndarray:
    """BM25 of each query against the case's sentences (rank-bm25 ``BM25Okapi`` or bm25s ``lucene``)."""
    out = np.zeros((len(queries), len(sentences)), dtype=np.float64)
    if not queries or not sentences:
        return out
    docs = [tokenize(s) or [_EMPTY_TOKEN] for s in sentences]
    tokenized = [tokenize(q) for q in queries]
    if backend == "rank_bm25":
        from rank_bm25 import BM25Okapi

        index = BM25Okapi(docs, k1=k1, b=b)
        for i, tokens in enumerate(tokenized):
            if tokens:
                out[i] = index.get_scores(tokens)
    elif backend == "bm25s":
        import bm25s

        if logging.getLogger("bm25s").level == logging.DEBUG:  # bm25s sets DEBUG on import: undo the log spam
            logging.getLogger("bm25s").setLevel(logging.WARNING)
        index = bm25s.BM25(k1=k1, b=b)
        index.index(docs, show_progress=False)
        for i, tokens in enumerate(tokenized):
            if tokens:
                out[i] = index.get_scores(tokens)
    else:
        raise ValueError(f"unknown BM25 backend {backend!r} (rank_bm25 or bm25s)")
    return out


def tfidf_scores(queries: Sequence[str], sentences: Sequence[str], *, sublinear_tf: bool = True) -> np.ndarray:
    """Cosine similarity of TF-IDF vectors, the IDF fitted on the case's sentences."""
    out = np.zeros((len(queries), len(sentences)), dtype=np.float64)
    if not queries or not sentences:
        return out
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=tokenize, sublinear_tf=sublinear_tf)
    try:
        docs = vectorizer.fit_transform(sentences)
    except ValueError:  # no sentence has a token: nothing to match
        return out
    return np.asarray((vectorizer.transform(queries) @ docs.T).todense(), dtype=np.float64)
