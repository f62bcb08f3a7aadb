"""BLEU and ROUGE with the official ArchEHR-QA settings, per case, batched (never ``evaluate.load``).

BLEU (spec §3): sacrebleu ``BLEU(tokenize="13a", smooth_method="none", effective_order=False)`` on one
hypothesis/reference pair per case (not ``sentence_bleu``, which turns effective order on). The reference
n-grams are counted once in ``prepare``; each hypothesis is 13a-tokenised, its clipped n-gram matches
counted exactly as sacrebleu counts them, and the score comes from sacrebleu's own
``BLEU.compute_bleu``. Parity with ``BLEU(...).corpus_score([hyp], [[ref]])`` is a test.

ROUGE (spec §3): the rouge_score 0.1.2 rules (its default tokenizer: lowercase, non-alphanumerics to
spaces, no stemming), F-measure; ``rougeLsum`` splits texts on ``"\\n"`` only (rouge_score's
behaviour without ``split_summaries``), so a newline inside an answer changes it. Reference tokens and
n-gram counts are made once in ``prepare``. LCS lengths use a bit-parallel algorithm (Hyyrö 2004) whose
rows give the same table as rouge_score's dynamic programme, so the summary-level union LCS reads the
same alignment back. Parity with ``rouge_scorer.RougeScorer.score`` is a test.

Speed: rouge_score's per-pair scorer (an O(n·m) table in Python) and both libraries' tokenisers are the
cost of the official per-case path; here the rules are reproduced with faster code, and every piece
(13a tokeniser, rouge tokeniser, LCS table and backtrack, final scores) is tested for exact equality
with the library it reproduces. ``benchmarks/score_speed.py`` measures the difference.

Values are percent (0-100) per case; the subtask score is their mean.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from itertools import chain, pairwise

from rouge_score import scoring
from sacrebleu.metrics.bleu import BLEU

from metrics.base import HARNESS_METRICS_VERSION, SingleOutput
from metrics.registry import get_metric_spec

logger = logging.getLogger(__name__)

BLEU_MAX_ORDER = 4
ROUGE_TYPES: tuple[str, ...] = get_metric_spec("rouge").output_keys


# --------------------------------------------------------------------------- tokenizers

# mteval-v13a as sacrebleu 2.x implements it (``Tokenizer13a`` + ``TokenizerRegexp``), made fast without
# changing one output (equality with sacrebleu's tokenizer is a property test):
# - its first regex pads each of 29 ASCII characters with spaces, one character per match; a
#   ``str.replace`` per character present does the same (padding the space itself is a no-op once the
#   result is re-split, and it changes no later match, which only looks at digits, ".", "," and "-");
# - its other regexes expand group templates in Python per match (slow on 3.11). The dash rule never
#   depends on earlier matches, so a lookbehind with a literal replacement is equivalent. When no two of
#   ".," are adjacent, no period/comma match consumes a character another one needs, and the two
#   period/comma rules together pad a "." or "," exactly when its left or its right neighbour is not a
#   digit: one literal replacement per character. Otherwise sacrebleu's own patterns run.
_13A_PAD = tuple('!"#$%&()*+/:;<=>?@[\\]^_`{|}~')
_13A_ADJACENT = ("..", ",,", ".,", ",.")
_13A_PERIOD_COMMA_AFTER = re.compile(r"([^0-9])([\.,])")
_13A_PERIOD_COMMA_BEFORE = re.compile(r"([\.,])([^0-9])")
_13A_FAST = (
    (re.compile(r"(?<=[^0-9])\.|\.(?=[^0-9])"), " . "),
    (re.compile(r"(?<=[^0-9]),|,(?=[^0-9])"), " , "),
)
_13A_DASH = re.compile(r"(?<=[0-9])-")
_ROUGE_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=2**16)
def tokenize_13a(line: str) -> str:
    """sacrebleu's 13a tokenisation of ``line`` (case kept), tokens joined by single spaces."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} "
    for char in _13A_PAD:
        if char in line:
            line = line.replace(char, f" {char} ")
    if "." in line or "," in line:
        if any(pair in line for pair in _13A_ADJACENT):
            line = _13A_PERIOD_COMMA_AFTER.sub(r"\1 \2 ", line)
            line = _13A_PERIOD_COMMA_BEFORE.sub(r" \1 \2", line)
        else:
            for pattern, replacement in _13A_FAST:
                line = pattern.sub(replacement, line)
    if "-" in line:
        line = _13A_DASH.sub(" - ", line)
    return " ".join(line.split())


def rouge_tokenize(text: str) -> list[str]:
    """rouge_score 0.1.2's default tokenizer without stemming (lowercase, non-alphanumerics split).

    After the substitution only ``[a-z0-9]`` and spaces remain, so ``str.split`` yields exactly the
    tokens rouge_score keeps after its whitespace split and validity filter.
    """
    return _ROUGE_NON_ALNUM.sub(" ", text.lower()).split()


# --------------------------------------------------------------------------- BLEU


def _ngrams(t: list[str]) -> Iterator[tuple[str, ...]]:
    """All 1..4-grams of ``t`` as tuples (as sacrebleu keys them), order by order."""
    return chain(zip(t), pairwise(t), zip(t, t[1:], t[2:], strict=False), zip(t, t[1:], t[2:], t[3:], strict=False))


@dataclass(frozen=True)
class PreparedBleu:
    """Per case: the reference n-gram counts and the reference length."""

    ngrams: tuple[Counter[tuple[str, ...]], ...]
    lengths: tuple[int, ...]


class BleuMetric(SingleOutput):
    """Sentence-level BLEU per case with the official sacrebleu settings (no smoothing, no effective order)."""

    name = "bleu"
    output_key = "bleu"

    def signature(self) -> str:
        return (
            "bleu|nrefs:1|case:mixed|eff:no|tok:13a|smooth:none|max-order:4|per-case-mean"
            f"|sacrebleu:{version('sacrebleu')}|harness:{HARNESS_METRICS_VERSION}"
        )

    @staticmethod
    def _tokens(text: str) -> list[str]:
        # sacrebleu's BLEU._preprocess_segment (case kept) followed by extract_all_word_ngrams' split
        return tokenize_13a(text.rstrip()).split()

    def prepare(self, references: Sequence[str]) -> PreparedBleu:
        counted: dict[str, tuple[Counter[tuple[str, ...]], int]] = {}  # identical texts counted once
        for ref in references:
            if ref not in counted:
                tokens = self._tokens(ref)
                counted[ref] = (Counter(_ngrams(tokens)), len(tokens))
        return PreparedBleu(tuple(counted[r][0] for r in references), tuple(counted[r][1] for r in references))

    def score(
        self, prepared: PreparedBleu, predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> list[float]:
        if len(predictions) != len(prepared.lengths):
            raise ValueError(f"{len(predictions)} predictions for {len(prepared.lengths)} references")
        out = []
        for ref, ref_len, prediction in zip(prepared.ngrams, prepared.lengths, predictions, strict=True):
            tokens = self._tokens(prediction)
            correct = [0] * BLEU_MAX_ORDER
            for gram, h in Counter(filter(ref.__contains__, _ngrams(tokens))).items():  # clipped, as sacrebleu's
                r = ref[gram]
                correct[len(gram) - 1] += h if h < r else r
            total = [max(len(tokens) - n, 0) for n in range(BLEU_MAX_ORDER)]
            result = BLEU.compute_bleu(
                correct,
                total,
                len(tokens),
                ref_len,
                smooth_method="none",
                effective_order=False,
                max_ngram_order=BLEU_MAX_ORDER,
            )
            out.append(float(result.score))
        return out


# --------------------------------------------------------------------------- ROUGE


@dataclass(frozen=True)
class _RougeText:
    """One text as ROUGE sees it: all tokens, uni/bigram counts, and the tokens of each non-empty line."""

    tokens: list[str]
    unigrams: Counter[str]
    bigrams: Counter[tuple[str, str]]
    lines: list[list[str]]


def _lcs_rows(ref: list[str], can: list[str]) -> list[int]:
    """Bit-parallel LCS rows: row ``i`` has a 0 bit at ``j`` where LCS(ref[:i], can[:j+1]) steps up.

    ``T[i][j] = j - popcount(row_i & (2**j - 1))`` equals rouge_score's ``_lcs_table(ref, can)[i][j]``.
    """
    full = (1 << len(can)) - 1
    match: dict[str, int] = {}
    for j, tok in enumerate(can):
        match[tok] = match.get(tok, 0) | (1 << j)
    row = full
    rows = [row]
    for tok in ref:
        u = row & match.get(tok, 0)
        row = ((row + u) | (row - u)) & full
        rows.append(row)
    return rows


def lcs_length(ref: list[str], can: list[str]) -> int:
    """Length of the longest common subsequence of two token lists."""
    if not ref or not can:
        return 0
    return len(can) - _lcs_rows(ref, can)[-1].bit_count()


def lcs_indices(ref: list[str], can: list[str]) -> list[int]:
    """The indices into ``ref`` of the LCS that rouge_score's ``lcs_ind`` (table + backtrack) returns."""
    rows = _lcs_rows(ref, can)

    def table(i: int, j: int) -> int:
        return j - (rows[i] & ((1 << j) - 1)).bit_count()

    i, j = len(ref), len(can)
    out: list[int] = []
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            out.append(i - 1)
            i -= 1
            j -= 1
        elif table(i, j - 1) > table(i - 1, j):
            j -= 1
        else:
            i -= 1
    out.reverse()
    return out


def _prf(hits: int, pred_len: int, ref_len: int) -> float:
    precision = hits / pred_len
    recall = hits / ref_len
    return scoring.fmeasure(precision, recall)


def _ngram_f(ref: Counter, pred: Counter, ref_total: int, pred_total: int) -> float:
    overlap = sum(min(ref[g], pred[g]) for g in ref.keys() & pred.keys())
    precision = overlap / max(pred_total, 1)
    recall = overlap / max(ref_total, 1)
    return scoring.fmeasure(precision, recall)


def _summary_lcs_f(ref_lines: list[list[str]], can_lines: list[list[str]]) -> float:
    """rouge_score's summary-level LCS F-measure (union LCS per reference line, no double counting)."""
    if not ref_lines or not can_lines:
        return 0.0
    m = sum(map(len, ref_lines))
    n = sum(map(len, can_lines))
    if not n or not m:
        return 0.0
    ref_counts: Counter[str] = Counter()
    can_counts: Counter[str] = Counter()
    for line in ref_lines:
        ref_counts.update(line)
    for line in can_lines:
        can_counts.update(line)
    hits = 0
    for ref in ref_lines:
        union: set[int] = set()
        for can in can_lines:
            union.update(lcs_indices(ref, can))
        for i in sorted(union):
            tok = ref[i]
            if can_counts[tok] > 0 and ref_counts[tok] > 0:
                hits += 1
                can_counts[tok] -= 1
                ref_counts[tok] -= 1
    return _prf(hits, n, m)


class RougeMetric:
    """ROUGE-1/2/L/Lsum F-measures per case; ``score`` gives ROUGE-Lsum, ``score_outputs`` all four."""

    name = "rouge"
    primary = "rougeLsum"

    def signature(self) -> str:
        return (
            "rouge|f-measure|tok:rouge_score-default|stem:no|lsum-split:newline|per-case-mean"
            f"|rouge_score:{version('rouge-score')}|harness:{HARNESS_METRICS_VERSION}"
        )

    def _text(self, text: str) -> _RougeText:
        tokens = rouge_tokenize(text)
        lines = [tokens] if text else []  # rougeLsum's sentences: the non-empty lines
        if "\n" in text:
            lines = [rouge_tokenize(s) for s in text.split("\n") if len(s)]
        return _RougeText(tokens, Counter(tokens), Counter(pairwise(tokens)), lines)

    def prepare(self, references: Sequence[str]) -> tuple[_RougeText, ...]:
        texts: dict[str, _RougeText] = {}  # identical texts tokenised once
        for ref in references:
            if ref not in texts:
                texts[ref] = self._text(ref)
        return tuple(texts[r] for r in references)

    def score(
        self, prepared: tuple[_RougeText, ...], predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> list[float]:
        return self.score_outputs(prepared, predictions, sources)[self.primary]

    def score_outputs(
        self, prepared: tuple[_RougeText, ...], predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> dict[str, list[float]]:
        """Per-case F-measures in percent for each of :data:`ROUGE_TYPES`."""
        if len(predictions) != len(prepared):
            raise ValueError(f"{len(predictions)} predictions for {len(prepared)} references")
        out: dict[str, list[float]] = {t: [] for t in ROUGE_TYPES}
        for ref, prediction in zip(prepared, predictions, strict=True):
            pred = self._text(prediction)
            rt, pt = ref.tokens, pred.tokens
            out["rouge1"].append(100 * _ngram_f(ref.unigrams, pred.unigrams, len(rt), len(pt)))
            out["rouge2"].append(100 * _ngram_f(ref.bigrams, pred.bigrams, max(len(rt) - 1, 0), max(len(pt) - 1, 0)))
            rouge_l = _prf(lcs_length(rt, pt), len(pt), len(rt)) if rt and pt else 0.0
            out["rougeL"].append(100 * rouge_l)
            if len(ref.lines) == 1 and len(pred.lines) == 1:
                # one line each: the union LCS is one LCS, every token of it is a hit, so Lsum = L
                out["rougeLsum"].append(100 * rouge_l)
            else:
                out["rougeLsum"].append(100 * _summary_lcs_f(ref.lines, pred.lines))
        return out
