"""SARI (Xu et al. 2016) as the ArchEHR-QA scorers compute it, written from the spec (never ``evaluate.load``).

Rules (spec §3): lowercase, sacrebleu's 13a tokenizer, tokens split on single spaces (so an empty text
is one empty token), n = 1..4. Per order, with source counts multiplied by the number of references:
keep F1 (keep recall over the reference-kept counts, the "fixed" recall), deletion precision and
addition F1 (on sets), where every 0/0 precision or recall counts 1. Each is averaged over the orders and
SARI is the mean of the three, × 100 per case; the subtask score is the mean over cases.

- :func:`reference_sari` is the rules written plainly with Counter arithmetic, tokenising everything
  with sacrebleu's own tokenizer on each call: the per-case path of the official scorer, and the parity
  oracle of the tests and the speed benchmark.
- :class:`SariMetric` is the batched metric: each case's source/reference side is counted once (cached
  on the prepared object, reused when more submissions are scored against the key), then a prediction
  costs one tokenisation (shared with BLEU's cache) and four Counters. :func:`sari_sentence` is the same
  fast core for one case with any number of references.

Sums of fractions run in the order of the official Counter operations (first occurrence in the source),
so the fast path is bit-identical to the oracle (a test checks this).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from itertools import pairwise

from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from metrics.base import HARNESS_METRICS_VERSION, SingleOutput
from metrics.lexical import tokenize_13a

logger = logging.getLogger(__name__)

MAX_ORDER = 4


def _f1(precision: float, recall: float) -> float:
    if precision > 0 or recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0


def _mean_of_orders(scores: Sequence[tuple[float, float, float]]) -> float:
    keep = sum([s[0] for s in scores]) / MAX_ORDER
    delete = sum([s[1] for s in scores]) / MAX_ORDER
    add = sum([s[2] for s in scores]) / MAX_ORDER
    return 100 * ((keep + delete + add) / 3)


# --------------------------------------------------------------------------- the oracle


def reference_sari(source: str, prediction: str, references: Sequence[str]) -> float:
    """SARI of one case in percent, the rules written plainly (slow; the parity oracle)."""

    def grams(text: str) -> list[list[str]]:
        tokens = Tokenizer13a()(text.lower()).split(" ")
        return [[" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)] for n in range(1, MAX_ORDER + 1)]

    numref = len(references)
    src, pred, refs = grams(source), grams(prediction), [grams(r) for r in references]
    scores = []
    for n in range(MAX_ORDER):
        s = Counter({g: c * numref for g, c in Counter(src[n]).items()})
        c = Counter({g: k * numref for g, k in Counter(pred[n]).items()})
        r = Counter(g for ref in refs for g in ref[n])
        keep, keep_all = s & c, s & r
        keep_good = keep & r
        keep_p = sum(keep_good[g] / keep[g] for g in keep_good) / len(keep) if keep else 1
        keep_r = sum(keep_good.values()) / sum(keep_all.values()) if keep_all else 1
        deleted = s - c
        del_good = deleted - r
        del_p = sum(del_good[g] / deleted[g] for g in del_good) / len(deleted) if deleted else 1
        added = set(c) - set(s)
        add_good = added & set(r)
        add_all = set(r) - set(s)
        add_p = len(add_good) / len(added) if added else 1
        add_r = len(add_good) / len(add_all) if add_all else 1
        scores.append((_f1(keep_p, keep_r), del_p, _f1(add_p, add_r)))
    return _mean_of_orders(scores)


# --------------------------------------------------------------------------- the fast path


def normalise(text: str) -> list[str]:
    """Lowercase, 13a-tokenise and split on single spaces (``""`` gives ``[""]``, as officially).

    13a touches only ASCII punctuation, digits and whitespace, none of which ``str.lower`` changes, so
    lowercasing after tokenising is the same unless the text holds 13a's case-sensitive literals
    (``<skipped>``, ``&quot;`` …); those texts are lowercased first. Reusing the cased tokenisation
    shares BLEU's cache.
    """
    if "<" in text or "&" in text:
        return tokenize_13a(text.lower()).split(" ")
    return tokenize_13a(text).lower().split(" ")


def ngrams(t: list[str]) -> list[list[Hashable]]:
    """The 1- to 4-grams of ``t`` in text order: tokens, then tuples (the same identity as the official
    space-joined strings, since tokens hold no spaces)."""
    trigrams = zip(t, t[1:], t[2:], strict=False)
    return [t, list(pairwise(t)), list(trigrams), list(zip(t, t[1:], t[2:], t[3:], strict=False))]


@dataclass(frozen=True)
class _Side:
    """One case's source and reference counts for one n-gram order (independent of the prediction).

    ``items`` are (gram, source count × number of references, pooled reference count) in first-occurrence
    order of the source: the order in which the official Counter operations visit them.
    """

    items: tuple[tuple[Hashable, int, int], ...]
    source: frozenset[Hashable]
    reference: dict[Hashable, int]
    keep_all_total: int  # sum of min(source, reference) counts: the keep-recall denominator
    add_all: int  # |set(reference) - set(source)|: the addition-recall denominator
    all_dropped: float  # the deletion-ratio sum when the prediction keeps none of the source grams


def _side(source_grams: list[Hashable], reference_grams: Sequence[list[Hashable]]) -> _Side:
    numref = len(reference_grams)
    reference: Counter[Hashable] = Counter()
    for grams in reference_grams:
        reference.update(grams)
    ref_get = reference.get
    source = Counter(source_grams)
    items = tuple((g, c * numref, ref_get(g, 0)) for g, c in source.items())
    keep_all_total = sum(s if s < r else r for _, s, r in items)
    all_dropped = 0.0
    for _, s, r in items:
        if s > r:
            all_dropped += (s - r) / s
    add_all = len(reference.keys() - source.keys())
    return _Side(items, frozenset(source), dict(reference), keep_all_total, add_all, all_dropped)


def _order_scores(side: _Side, prediction_grams: list[Hashable], numref: int) -> tuple[float, float, float]:
    """Keep F1, deletion precision and addition F1 of one n-gram order."""
    pred = Counter(prediction_grams)
    keep_n = keep_good = 0
    keep_ratio = 0.0
    if pred.keys().isdisjoint(side.source):  # nothing kept: every source gram is deleted
        del_n, del_ratio = len(side.items), side.all_dropped
    else:
        del_n, del_ratio = 0, 0.0
        pred_get = pred.get
        for gram, s, r in side.items:
            c = pred_get(gram)
            if c is None:  # dropped entirely
                del_n += 1
                if s > r:
                    del_ratio += (s - r) / s
                continue
            c *= numref
            keep = s if s < c else c
            keep_n += 1
            good = keep if keep < r else r
            if good > 0:
                keep_ratio += good / keep
                keep_good += good
            if s > c:
                del_n += 1
                if s - c > r:
                    del_ratio += (s - c - r) / (s - c)
    keep_p = keep_ratio / keep_n if keep_n else 1
    keep_r = keep_good / side.keep_all_total if side.keep_all_total else 1
    del_p = del_ratio / del_n if del_n else 1

    added = pred.keys() - side.source
    add_good = len(added & side.reference.keys())
    add_p = add_good / len(added) if added else 1
    add_r = add_good / side.add_all if side.add_all else 1
    return _f1(keep_p, keep_r), del_p, _f1(add_p, add_r)


def _case_sides(source: str, references: Sequence[str]) -> list[_Side]:
    source_grams = ngrams(normalise(source))
    reference_grams = [ngrams(normalise(r)) for r in references]
    return [_side(source_grams[n], [r[n] for r in reference_grams]) for n in range(MAX_ORDER)]


def _sari(sides: list[_Side], prediction: str, numref: int) -> float:
    grams = ngrams(normalise(prediction))
    return _mean_of_orders([_order_scores(sides[n], grams[n], numref) for n in range(MAX_ORDER)])


def sari_sentence(source: str, prediction: str, references: Sequence[str]) -> float:
    """SARI of one case in percent through the fast core (any number of references)."""
    return _sari(_case_sides(source, references), prediction, len(references))


@dataclass
class PreparedSari:
    """Per-case reference texts, plus the counts of each (source, reference) pair met so far."""

    references: tuple[str, ...]
    _sides: dict[tuple[str, str], list[_Side]] = field(default_factory=dict, repr=False)

    def sides(self, index: int, source: str) -> list[_Side]:
        key = (source, self.references[index])
        found = self._sides.get(key)
        if found is None:
            found = self._sides[key] = _case_sides(source, (self.references[index],))
        return found


class SariMetric(SingleOutput):
    """SARI with one reference per case; ``score`` needs the ``sources`` (spec §3 says which text)."""

    name = "sari"
    output_key = "sari"

    def signature(self) -> str:
        return (
            "sari|case:lc|tok:13a|split:single-space|orders:1-4|keep:f1|del:precision|add:f1|zero-div:1"
            f"|nrefs:1|impl:archehr|sacrebleu:{version('sacrebleu')}|harness:{HARNESS_METRICS_VERSION}"
        )

    def prepare(self, references: Sequence[str]) -> PreparedSari:
        return PreparedSari(tuple(references))

    def score(
        self, prepared: PreparedSari, predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> list[float]:
        if sources is None:
            raise ValueError("SARI needs the source texts")
        if not len(prepared.references) == len(predictions) == len(sources):
            raise ValueError(
                f"{len(prepared.references)} references, {len(predictions)} predictions, {len(sources)} sources"
            )
        return [
            _sari(prepared.sides(index, source), prediction, 1)
            for index, (prediction, source) in enumerate(zip(predictions, sources, strict=True))
        ]
