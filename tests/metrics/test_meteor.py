"""METEOR (metrics.meteor) on hand-worked examples, with and without WordNet; the shared Punkt splitter."""

from __future__ import annotations

import pytest

from metrics.meteor import MeteorMetric, find_wordnet, lexnames_text, word_tokenize
from metrics.sentences import punkt_tokenizer


def test_meteor_exact_and_stem_without_wordnet() -> None:
    metric = MeteorMetric("none")
    assert metric.name == "meteor-exact-stem" and metric.signature().startswith("meteor-exact-stem|")
    prepared = metric.prepare(["the cat sat on the mat", "the cat sat", "the auto stopped", "I feel ill today."])
    got = metric.score(prepared, ["the cat sat on the mat", "the cats sat", "the car stopped", "I feel sick today."])
    # 6 matches in 1 chunk: 1 - 0.5 (1/6)^3;  stem cats~cat: 1 - 0.5 (1/3)^3
    assert got[0] == pytest.approx(100 * (1 - 0.5 / 216))
    assert got[1] == pytest.approx(100 * (1 - 0.5 / 27))
    # car/auto and sick/ill unmatched: P = R = 2/3 in 2 chunks -> 2/3 (1 - 0.5); 4/5 in 2 chunks -> .8 (1 - 0.5/8)
    assert got[2] == pytest.approx(100 / 3)
    assert got[3] == pytest.approx(75.0)


@pytest.mark.skipif(find_wordnet() is None, reason="WordNet not installed (apt-get install -y wordnet-base)")
def test_meteor_synonyms_with_debian_wordnet() -> None:
    metric = MeteorMetric("auto")
    assert metric.name == "meteor" and "syn:wordnet-3.0" in metric.signature()
    assert metric.signature() != MeteorMetric("none").signature()
    prepared = metric.prepare(["the auto stopped", "I feel ill today."])
    got = metric.score(prepared, ["the car stopped", "I feel sick today."])
    assert got[0] == pytest.approx(100 * (1 - 0.5 / 27))  # car ~ auto: 3 matches, 1 chunk
    assert got[1] == pytest.approx(100 * (1 - 0.5 / 125))  # sick ~ ill: 5 matches, 1 chunk


def test_lexnames_is_the_wordnet_list() -> None:
    rows = [line.split("\t") for line in lexnames_text().splitlines()]
    assert len(rows) == 45 and rows[0] == ["00", "adj.all", "3"] and rows[44] == ["44", "adj.ppl", "3"]


def test_words_come_from_the_shared_punkt_splitter() -> None:
    assert punkt_tokenizer() is punkt_tokenizer()  # built once per process
    assert " ".join(word_tokenize("Dr. Smith saw him. He was tired.")) == "Dr. Smith saw him . He was tired ."
