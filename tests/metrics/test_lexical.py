"""BLEU and ROUGE: hand-worked values, and parity with sacrebleu and rouge_score themselves."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer
from rouge_score.rouge_scorer import _lcs_table
from rouge_score.tokenize import tokenize as rouge_score_tokenize
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from metrics.lexical import (
    ROUGE_TYPES,
    BleuMetric,
    RougeMetric,
    lcs_indices,
    lcs_length,
    rouge_tokenize,
    tokenize_13a,
)

# --------------------------------------------------------------------------- helpers


def bleu(hypothesis: str, reference: str) -> float:
    metric = BleuMetric()
    return metric.score(metric.prepare([reference]), [hypothesis])[0]


def rouge(hypothesis: str, reference: str) -> dict[str, float]:
    metric = RougeMetric()
    out = metric.score_outputs(metric.prepare([reference]), [hypothesis])
    return {k: v[0] for k, v in out.items()}


def official_bleu(hypothesis: str, reference: str) -> float:
    return (
        BLEU(tokenize="13a", smooth_method="none", effective_order=False)
        .corpus_score([hypothesis], [[reference]])
        .score
    )


WORDS = [
    "The", "patient", "was", "admitted", "with", "chest-pain", "and", "of", "breath", ".", "He", "the", ",",
    "which", "showed", "severe", "stenosis", ";", "a", "stent", "placed", "in", "5-6", "artery", "!", "3.5",
    "(BP)", "5mg", "?", "\n", "Dr.", "..", "&amp;", "x,y", "İ",
]  # fmt: skip


def random_text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


# --------------------------------------------------------------------------- BLEU, hand-worked


def test_bleu_hand_worked_equal_length():
    # 1-grams 5/6 (the clipped to 1), 2-grams 3/5, 3-grams 2/4, 4-grams 1/3; no brevity penalty
    expected = 100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert bleu("the cat sat on the mat", "the cat sat on a mat") == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(53.7284965911771)


def test_bleu_brevity_penalty():
    # every n-gram matches; 4 tokens against 6: BP = exp(1 - 6/4)
    assert bleu("the cat sat on", "the cat sat on the mat") == pytest.approx(100 * math.exp(-0.5), abs=1e-12)


def test_bleu_identical_is_100_and_disjoint_is_0():
    assert bleu("A stent was placed .", "A stent was placed .") == pytest.approx(100.0)
    assert bleu("completely different words here", "the cat sat on the mat") == 0.0


def test_bleu_no_effective_order_short_hypothesis_scores_zero():
    # fewer than 4 tokens: no 4-grams, no smoothing, no effective order → 0 (sentence_bleu would not be 0)
    assert bleu("the cat", "the cat sat") == 0.0
    assert BLEU(effective_order=True).sentence_score("the cat", ["the cat sat"]).score > 0


def test_bleu_is_case_sensitive_and_13a_tokenised():
    assert bleu("The cat sat on the mat", "the cat sat on the mat") < 100
    # 13a splits the final period off: "mat." == "mat ."
    assert bleu("the cat sat on the mat.", "the cat sat on the mat .") == pytest.approx(100.0)


def test_bleu_signature_names_the_settings():
    sig = BleuMetric().signature()
    for part in ("tok:13a", "smooth:none", "eff:no", "case:mixed", "sacrebleu:"):
        assert part in sig


def test_bleu_matches_sacrebleu_corpus_score_per_pair():
    rng = random.Random(7)
    refs = [random_text(rng, 0, 40) for _ in range(300)]
    hyps = [random_text(rng, 1, 40) for _ in range(300)]
    metric = BleuMetric()
    ours = metric.score(metric.prepare(refs), hyps)
    assert ours == [official_bleu(h, r) for h, r in zip(hyps, refs, strict=True)]


def test_bleu_prepared_references_are_reused():
    metric = BleuMetric()
    prepared = metric.prepare(["the cat sat on the mat", "a b c d e"])
    first = metric.score(prepared, ["the cat sat on a mat", "a b c d e"])
    assert metric.score(prepared, ["the cat sat on a mat", "a b c d e"]) == first
    with pytest.raises(ValueError):
        metric.score(prepared, ["only one"])


# --------------------------------------------------------------------------- 13a tokeniser

_PIECES = [*"aZ09.,-\n &;<>/()'\"!?:İK\t", "&quot;", "&AMP;", "<skipped>", "-\n", "..", "3.5", ".,", "5-", "x,y"]


def test_tokenize_13a_equals_sacrebleu_on_tricky_pieces():
    rng = random.Random(3)
    for _ in range(20000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 16)))
        assert tokenize_13a(text) == Tokenizer13a()(text), repr(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_tokenize_13a_equals_sacrebleu_on_any_text(text):
    assert tokenize_13a(text) == Tokenizer13a()(text)


# --------------------------------------------------------------------------- ROUGE, hand-worked


def test_rouge_hand_worked():
    got = rouge("the cat lay on the mat", "the cat sat on the mat")
    assert got["rouge1"] == pytest.approx(100 * 5 / 6)  # the×2, cat, on, mat
    assert got["rouge2"] == pytest.approx(100 * 3 / 5)  # the cat, on the, the mat
    assert got["rougeL"] == pytest.approx(100 * 5 / 6)  # the cat on the mat
    assert got["rougeLsum"] == got["rougeL"]  # one line each


def test_rouge_lsum_splits_on_newlines_only():
    reference = "the cat sat on the mat"
    single = rouge("on the mat the cat sat", reference)
    two_lines = rouge("on the mat\nthe cat sat", reference)
    assert single["rougeL"] == two_lines["rougeL"] == pytest.approx(50.0)  # LCS 3 of 6
    assert single["rougeLsum"] == pytest.approx(50.0)
    assert two_lines["rougeLsum"] == pytest.approx(100.0)  # the union LCS covers both lines
    # a sentence end without a newline does not split
    assert rouge("on the mat. the cat sat", reference)["rougeLsum"] == pytest.approx(50.0)


def test_rouge_no_stemming_and_lowercase():
    got = rouge("Stents PLACED", "stent placed")
    assert got["rouge1"] == pytest.approx(50.0)  # "stents" is not "stent"; case is ignored


def test_rouge_empty_token_lists_score_zero():
    assert rouge("!!!", "the cat") == {k: 0.0 for k in ROUGE_TYPES}
    assert rouge("the cat", "...") == {k: 0.0 for k in ROUGE_TYPES}


def test_rouge_matches_rouge_score_on_random_texts_with_newlines():
    rng = random.Random(11)
    refs = [random_text(rng, 0, 50) for _ in range(400)]
    hyps = [random_text(rng, 0, 50) for _ in range(400)]
    metric = RougeMetric()
    ours = metric.score_outputs(metric.prepare(refs), hyps)
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=False)
    official = [scorer.score(r, h) for r, h in zip(refs, hyps, strict=True)]
    for key in ROUGE_TYPES:
        assert ours[key] == [100 * o[key].fmeasure for o in official], key


def test_rouge_score_gives_rouge_lsum():
    metric = RougeMetric()
    prepared = metric.prepare(["the cat sat\non the mat"])
    assert (
        metric.score(prepared, ["on the mat\nthe cat sat"])
        == metric.score_outputs(prepared, ["on the mat\nthe cat sat"])["rougeLsum"]
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_rouge_tokenize_equals_rouge_score(text):
    assert rouge_tokenize(text) == rouge_score_tokenize(text, None)


def test_bit_parallel_lcs_reads_back_rouge_scores_table():
    rng = random.Random(5)
    for _ in range(2000):
        ref = [rng.choice("abcd") for _ in range(rng.randint(0, 12))]
        can = [rng.choice("abcd") for _ in range(rng.randint(0, 12))]
        table = _lcs_table(ref, can)
        assert lcs_length(ref, can) == table[-1][-1]
        # the backtrack of rouge_score's lcs_ind over its own table
        i, j, expected = len(ref), len(can), []
        while i > 0 and j > 0:
            if ref[i - 1] == can[j - 1]:
                expected.insert(0, i - 1)
                i, j = i - 1, j - 1
            elif table[i][j - 1] > table[i - 1][j]:
                j -= 1
            else:
                i -= 1
        assert lcs_indices(ref, can) == expected, (ref, can)
