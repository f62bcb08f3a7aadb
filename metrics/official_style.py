"""Per-case loops built the way the official ArchEHR-QA scorers run the neural metrics (not used for scoring).

They are the yardstick for equality tests and for ``benchmarks/score_many.py``: one call per case and metric,
no caches. AlignScore follows the official ``Inferencer.inference_per_example``: split and chunk the context,
pair every chunk with every claim sentence (chunk-major), tokenize the pairs in batches of 8 padded to the
512-token maximum with ``only_first`` truncation (the whole batch falling back to longest-first when that
fails), softmax of the 3-way head, max over chunks, mean over claim sentences. The chunking rule is written
out again here on purpose, so a test compares two independent implementations. BERTScore calls
``BERTScorer.score([prediction], [reference])`` per case; MEDCON matches both texts per case.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from metrics.alignscore import CHUNK_WORDS, OFFICIAL_BATCH, AlignScoreMetric
from metrics.bertscore import BertScoreMetric
from metrics.medcon import extract_concepts, medcon_f1
from metrics.sentences import split_sentences


def alignscore_case(model: Any, tokenizer: Any, context: str, claim: str, *, max_length: int) -> float:
    """AlignScore nli_sp × 100 of one case, computed as the official code does."""
    import torch

    sentences = split_sentences(context) or [""]
    n_chunk = len(context.strip().split()) // CHUNK_WORDS + 1
    size = max(len(sentences) // n_chunk, 1)
    chunks = [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]
    claims = split_sentences(claim)
    if not claims:
        return 0.0
    premises = [chunk for chunk in chunks for _ in claims]
    hypotheses = [sentence for _ in chunks for sentence in claims]
    probabilities = []
    for start in range(0, len(premises), OFFICIAL_BATCH):
        batch = (premises[start : start + OFFICIAL_BATCH], hypotheses[start : start + OFFICIAL_BATCH])
        kwargs = {"padding": "max_length", "max_length": max_length, "return_tensors": "pt"}
        try:
            encoded = tokenizer(*batch, truncation="only_first", **kwargs)
        except Exception as exc:  # the Rust tokenizer raises a bare Exception; the official code catches all
            if "Truncation error" not in str(exc):
                raise
            encoded = tokenizer(*batch, truncation=True, **kwargs)
        with torch.inference_mode():
            probabilities.append(model(encoded["input_ids"], encoded["attention_mask"]))
    matrix = torch.cat(probabilities).view(len(chunks), len(claims))
    return 100.0 * matrix.max(dim=0).values.mean().item()


def alignscore_per_case(metric: AlignScoreMetric, references: Sequence[str], predictions: Sequence[str]) -> list[float]:
    model, tokenizer, max_length = metric.components()
    return [
        alignscore_case(model, tokenizer, r, p, max_length=max_length)
        for r, p in zip(references, predictions, strict=True)
    ]


def bertscore_per_case(metric: BertScoreMetric, references: Sequence[str], predictions: Sequence[str]) -> list[float]:
    scorer = metric.scorer()
    return [100.0 * float(scorer.score([p], [r])[2][0]) for r, p in zip(references, predictions, strict=True)]


def medcon_per_case(metric: Any, references: Sequence[str], predictions: Sequence[str]) -> list[float]:
    matcher = metric.matcher()
    return [
        100.0 * medcon_f1(extract_concepts(matcher, r), extract_concepts(matcher, p))
        for r, p in zip(references, predictions, strict=True)
    ]
