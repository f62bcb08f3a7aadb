"""SARI: the spec's unit vector, a hand-worked case, and bit-identity of the fast path with the oracle."""

from __future__ import annotations

import random

import pytest

from metrics.sari import SariMetric, normalise, reference_sari, sari_sentence

UNIT_SOURCE = "About 95 species are currently accepted ."
UNIT_PREDICTION = "About 95 you now get in ."
UNIT_REFERENCES = [
    "About 95 species are currently known .",
    "About 95 species are now accepted .",
    "95 species are now accepted .",
]


def test_unit_vector_exactly():
    assert reference_sari(UNIT_SOURCE, UNIT_PREDICTION, UNIT_REFERENCES) == 26.953601953601954
    assert sari_sentence(UNIT_SOURCE, UNIT_PREDICTION, UNIT_REFERENCES) == 26.953601953601954


def test_hand_worked_single_reference():
    # source "a b c", prediction "a b d", reference "a d":
    # keep F1 per order 2/3, 0, 1, 1 (0/0 counts 1) → 2/3; deletion precision 1, 1, 1, 1 → 1;
    # addition F1 1, 0, 0, 1 → 1/2; SARI = (2/3 + 1 + 1/2) / 3 = 13/18
    expected = 100 * 13 / 18
    assert reference_sari("a b c", "a b d", ["a d"]) == pytest.approx(expected, abs=1e-12)
    assert sari_sentence("a b c", "a b d", ["a d"]) == pytest.approx(expected, abs=1e-12)
    metric = SariMetric()
    assert metric.score(metric.prepare(["a d"]), ["a b d"], ["a b c"]) == [sari_sentence("a b c", "a b d", ["a d"])]


def test_copying_the_reference_when_source_is_disjoint():
    # nothing to keep or delete wrongly, every addition is right: every component is 1
    assert sari_sentence("x y", "a b c d", ["a b c d"]) == pytest.approx(100.0)


def test_lowercased_and_13a_tokenised():
    assert normalise("The Stent, placed.") == ["the", "stent", ",", "placed", "."]
    assert normalise("") == [""]  # one empty token, as the official split(" ") gives
    assert normalise("&QUOT;x") == normalise("&quot;x") == ['"', "x"]  # entities are decoded after lowercasing
    assert sari_sentence("A B", "A C", ["a c"]) == sari_sentence("a b", "a c", ["a c"])


WORDS = [
    "The", "patient", "was", "admitted", "with", "chest-pain", ".", "He", "the", "the", ",", "which", "showed",
    "&", ";", "a", "<skipped>", "in", "5-6", "3.5", "(BP)", "?", "\n",
]  # fmt: skip


def _text(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def test_fast_path_is_bit_identical_to_the_oracle():
    rng = random.Random(13)
    for _ in range(1500):
        source, prediction = _text(rng, 0, 40), _text(rng, 0, 30)
        references = [_text(rng, 0, 30) for _ in range(rng.randint(1, 3))]
        assert sari_sentence(source, prediction, references) == reference_sari(source, prediction, references)


def test_batched_metric_matches_per_case_and_reuses_sides():
    rng = random.Random(17)
    refs = [_text(rng, 1, 30) for _ in range(200)]
    preds = [_text(rng, 1, 30) for _ in range(200)]
    srcs = [_text(rng, 1, 40) for _ in range(200)]
    metric = SariMetric()
    prepared = metric.prepare(refs)
    first = metric.score(prepared, preds, srcs)
    assert first == [reference_sari(s, p, [r]) for s, p, r in zip(srcs, preds, refs, strict=True)]
    assert metric.score(prepared, preds, srcs) == first  # second submission against the same key


def test_sources_are_required():
    metric = SariMetric()
    with pytest.raises(ValueError, match="source"):
        metric.score(metric.prepare(["a"]), ["a"])
    with pytest.raises(ValueError):
        metric.score(metric.prepare(["a"]), ["a", "b"], ["a", "b"])


def test_signature():
    sig = SariMetric().signature()
    assert sig.startswith("sari|") and "tok:13a" in sig and "case:lc" in sig
