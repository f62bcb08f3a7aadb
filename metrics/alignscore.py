"""AlignScore ``nli_sp`` (Zha et al. 2023) as the ArchEHR-QA scorers run it, without pytorch-lightning (spec §3).

Model: ``RobertaModel`` (with its pooler) plus the 3-way head ``tri_layer`` (one ``Linear(hidden, 3)``
on the pooled output; the dropout before it is inactive at inference), weights from the official
Lightning checkpoint ``AlignScore-base.ckpt`` (state-dict keys ``base_model.*`` and ``tri_layer.*``;
the MLM, binary and regression heads are ignored). The score of a (context chunk, claim sentence) pair
is the softmax probability of class 0 ("aligned").

``nli_sp`` per case (context = reference, claim = prediction):

1. split the context into sentences as NLTK 3.8.1's ``sent_tokenize`` does (:mod:`metrics.sentences`;
   an empty context gives one empty sentence);
2. ``n_chunk = len(context.strip().split()) // 350 + 1``; group size ``max(len(sents) // n_chunk, 1)``;
   consecutive groups of that many sentences, joined with single spaces, are the chunks;
3. split the claim into sentences; score every (chunk, claim sentence) pair;
4. per claim sentence the max over chunks, then the mean over claim sentences; × 100.

Pairs are tokenized as ``(chunk, sentence)`` with ``truncation="only_first"`` at the tokenizer's maximum
(512). Officially, a case's pairs (chunk-major) go through the tokenizer in batches of 8, and when one claim
sentence is too long for ``only_first`` the whole batch falls back to ``truncation=True`` (longest first):
``truncation="official"`` (the default) reproduces that; ``truncation="per-pair"`` falls back for that pair
only (its own signature). Contexts are chunked and tokenized once per key (``prepare``); each pair's ids are
assembled from the two token sequences with the tokenizer's own truncation and post-processing (identical to
tokenizing the pair). Pairs from all cases are deduplicated by token ids (and remembered across the
submissions scored by one metric object: a pair's value depends on its ids only), sorted by length and batched;
batches are padded to their longest pair instead of to 512 (attention-masked, so values agree with the
official padding to float rounding).

A claim with no sentence (empty or blank prediction) scores 0; the official scorers reject empty
predictions before scoring.
"""

from __future__ import annotations

import functools
import logging
import pickle
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metrics.base import HARNESS_METRICS_VERSION, MetricUnavailable, SingleOutput
from metrics.sentences import PUNKT_FIX, SPLITTER_LABEL
from metrics.sentences import split_sentences as punkt_sentences

logger = logging.getLogger(__name__)

CHUNK_WORDS = 350
DEFAULT_MAX_TOKENS = 512
OFFICIAL_BATCH = 8  # the official scorer's AlignScore batch size: its truncation fallback acts per batch
TRUNCATION_MODES = ("official", "per-pair")
_INSTALL_FIX = PUNKT_FIX  # requirements/ml.txt: torch, transformers and Punkt


# ---------------------------------------------------------------------- splitting and aggregation


def split_sentences(text: str) -> list[str]:
    """Punkt English sentences of ``text`` (what ``nltk.sent_tokenize`` returns; :mod:`metrics.sentences`)."""
    return punkt_sentences(text, "alignscore")


def context_chunks(context: str) -> list[str]:
    """The official nltk_sp chunks of a context: groups of about 350 words of whole sentences."""
    sentences = split_sentences(context) or [""]
    n_chunk = len(context.strip().split()) // CHUNK_WORDS + 1
    size = max(len(sentences) // n_chunk, 1)
    return [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]


def aggregate(pair_scores: Sequence[Sequence[float]]) -> float:
    """``pair_scores[chunk][sentence]`` → mean over claim sentences of the max over chunks (0-1)."""
    if not pair_scores or not pair_scores[0]:
        return 0.0
    n_sentences = len(pair_scores[0])
    best = [max(row[j] for row in pair_scores) for j in range(n_sentences)]
    return sum(best) / n_sentences


# ---------------------------------------------------------------------- checkpoint loading


class _Stub(dict):  # type: ignore[type-arg]
    """Stands in for a class whose module is not installed (e.g. Lightning's ``AttributeDict``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def __setstate__(self, state: Any) -> None:
        self.__dict__["_state"] = state


class _LenientUnpickler(pickle.Unpickler):
    """Full pickle loading (trusted files only) that tolerates classes from uninstalled packages."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            logger.debug("checkpoint references %s.%s, which is not importable: stubbed", module, name)
            return type(name, (_Stub,), {"__module__": f"archehr_stub.{module}"})


def _lenient_pickle_module() -> types.ModuleType:
    module = types.ModuleType("archehr_lenient_pickle")
    module.Unpickler = _LenientUnpickler  # type: ignore[attr-defined]
    module.load = lambda file, **kwargs: _LenientUnpickler(file, **kwargs).load()  # type: ignore[attr-defined]
    module.__dict__.update({"UnpicklingError": pickle.UnpicklingError})
    return module


def load_checkpoint_state(path: str | Path, *, trust_checkpoint: bool = False) -> dict[str, Any]:
    """The model state dict of an AlignScore checkpoint (Lightning file or bare state dict), on CPU.

    ``weights_only=True`` unless ``trust_checkpoint``; then full pickle loading, which can run code from the
    file (logged as a warning), with classes of uninstalled packages (pytorch-lightning) replaced by stubs.
    """
    import torch

    path = Path(path)
    if trust_checkpoint:
        logger.warning("loading %s with full pickle (trust_checkpoint=True): it can run code from the file", path)
        raw = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_lenient_pickle_module())
    else:
        try:
            raw = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise MetricUnavailable(
                "alignscore",
                f"{path} holds objects that safe (weights_only) loading refuses: {first}",
                "if you trust the file, pass trust_checkpoint=True (CLI: --trust-checkpoint), or re-save it once as "
                "torch.save(torch.load(p, weights_only=False)['state_dict'], out)",
            ) from exc
    state = raw.get("state_dict", raw) if isinstance(raw, dict) else None
    if not isinstance(state, dict) or "tri_layer.weight" not in state:
        raise MetricUnavailable(
            "alignscore",
            f"{path} is not an AlignScore checkpoint (no tri_layer.weight in its state dict)",
            "supply AlignScore-base.ckpt (ARCHEHR_ALIGNSCORE_CKPT or `archehr assets fetch alignscore-base`)",
        )
    return state


@dataclass(frozen=True)
class PreparedAlignScore:
    """The references (contexts), their chunks and the chunks' token encodings, computed once per key."""

    references: tuple[str, ...]
    chunks: tuple[tuple[str, ...], ...]
    encoded_chunks: tuple[tuple[Any, ...], ...] = ()


class TruncationTooShort(Exception):
    """``only_first`` cannot fit a pair: the claim sentence alone is too long."""


class AlignScoreMetric(SingleOutput):
    """AlignScore nli_sp × 100 per case: context = reference, claim = prediction.

    ``truncation="official"`` (default) reproduces the official fallback: pairs are tokenized per case in
    consecutive batches of 8, and when one pair of a batch cannot be truncated ``only_first`` the whole batch
    switches to ``longest_first``. ``truncation="per-pair"`` switches only that pair (a result then never
    depends on its neighbours); its signature differs.
    """

    name = "alignscore"
    output_key = "alignscore"

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        base_model_dir: str | Path | None = None,
        *,
        trust_checkpoint: bool = False,
        batch_size: int = 16,
        device: str | None = None,
        truncation: str = "official",
    ) -> None:
        if truncation not in TRUNCATION_MODES:
            raise ValueError(f"truncation must be one of {', '.join(TRUNCATION_MODES)}, not {truncation!r}")
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.base_model_dir = None if base_model_dir is None else Path(base_model_dir)
        self.trust_checkpoint = trust_checkpoint
        self.batch_size = batch_size
        self.device = device
        self.truncation = truncation
        self._model: Any = None
        self._tokenizer: Any = None
        self._backends: dict[str, Any] = {}
        self._claims: dict[str, Any] = {}
        self._pair_values: dict[tuple[int, ...], float] = {}  # P(aligned) per encoded pair, across submissions
        self._max_length = DEFAULT_MAX_TOKENS

    def signature(self) -> str:
        ckpt = self.checkpoint.name if self.checkpoint is not None else "AlignScore-base.ckpt"
        truncation = f"official-batch{OFFICIAL_BATCH}" if self.truncation == "official" else "per-pair"
        return (
            f"alignscore|ckpt:{ckpt}|base:roberta-base|mode:nli_sp|chunk_words:{CHUNK_WORDS}|split:{SPLITTER_LABEL}"
            f"|max_tokens:{DEFAULT_MAX_TOKENS}|truncation:{truncation}|harness:{HARNESS_METRICS_VERSION}"
        )

    # ------------------------------------------------------------------ model

    def resolve_paths(self) -> tuple[Path, Path]:
        """(checkpoint file, base model folder), or :class:`MetricUnavailable` saying how to supply them."""
        from harness.assets import locate

        checkpoint = self.checkpoint
        if checkpoint is None:
            status = locate("alignscore-base")
            if status.found_at is None:
                raise MetricUnavailable(
                    self.name, f"no AlignScore-base.ckpt ({status.problem or 'not found'})", status.how_to_supply
                )
            checkpoint = status.found_at
        elif not checkpoint.is_file():
            raise MetricUnavailable(self.name, f"checkpoint {checkpoint} does not exist", "pass an existing file")
        base = self.base_model_dir
        if base is None:
            status = locate("roberta-base")
            if status.found_at is None:
                raise MetricUnavailable(
                    self.name, f"no local roberta-base ({status.problem or 'not found'})", status.how_to_supply
                )
            base = status.found_at
        elif not (base / "config.json").is_file():
            raise MetricUnavailable(
                self.name, f"{base} is not a model folder (no config.json)", "pass a local roberta-base folder"
            )
        return checkpoint, base

    def _load(self) -> None:
        if self._model is not None:
            return
        checkpoint, base = self.resolve_paths()
        try:
            import torch
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise MetricUnavailable(self.name, f"cannot import torch/transformers ({exc})", _INSTALL_FIX) from exc
        split_sentences("")  # no Punkt: unavailable before loading the model
        state = load_checkpoint_state(checkpoint, trust_checkpoint=self.trust_checkpoint)
        model = _model_class().build(base, state)
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model = model.to(device).eval()
        self._tokenizer = AutoTokenizer.from_pretrained(str(base))
        limit = model.base_model.config.max_position_embeddings
        if getattr(model.base_model.config, "model_type", "") == "roberta":
            limit -= model.base_model.config.pad_token_id + 1  # positions start after the padding index
        tokenizer_max = self._tokenizer.model_max_length
        self._max_length = min(tokenizer_max if 0 < tokenizer_max <= 100_000 else DEFAULT_MAX_TOKENS, limit)
        self._backends.clear()
        self._claims.clear()
        self._pair_values.clear()
        logger.info("alignscore: %s on %s, max %d tokens, device %s", checkpoint.name, base, self._max_length, device)

    def components(self) -> tuple[Any, Any, int]:
        """(model, Hugging Face tokenizer, maximum pair length), loaded: for per-case comparisons.

        The model maps ``(input_ids, attention_mask)`` to P(aligned) per row.
        """
        self._load()
        return self._model, self._tokenizer, self._max_length

    def _backend(self, strategy: str) -> Any:
        """A private copy of the fast tokenizer's backend truncating pairs with ``strategy`` (no padding)."""
        backend = self._backends.get(strategy)
        if backend is None:
            from tokenizers import Tokenizer

            source = getattr(self._tokenizer, "backend_tokenizer", None)
            if source is None:
                raise MetricUnavailable(self.name, "the base model has no fast tokenizer", _INSTALL_FIX)
            backend = Tokenizer.from_str(source.to_str())
            backend.no_padding()
            backend.enable_truncation(self._max_length, strategy=strategy)
            self._backends[strategy] = backend
        return backend

    def _text_encoding(self, text: str) -> Any:
        """Tokens of one text without special tokens (what the tokenizer computes per pair member)."""
        return self._backend("only_first").encode(text, add_special_tokens=False)

    def _pair_ids(self, chunk: Any, claim: Any, strategy: str) -> tuple[int, ...]:
        """Input ids of a (chunk, claim sentence) pair, exactly as ``tokenizer(chunk, claim, truncation=...)``."""
        try:
            return tuple(self._backend(strategy).post_process(chunk, claim, True).ids)
        except Exception as exc:  # the Rust tokenizer raises a bare Exception
            if strategy == "only_first" and "Truncation error" in str(exc):
                raise TruncationTooShort(str(exc)) from None
            raise

    def _encode_case(self, chunks: Sequence[Any], claims: Sequence[Any]) -> list[tuple[int, ...]]:
        """Token ids of one case's pairs, chunk-major (the official pair order), with the fallback rule."""
        pairs = [(chunk, claim) for chunk in chunks for claim in claims]
        group = OFFICIAL_BATCH if self.truncation == "official" else 1
        out: list[tuple[int, ...]] = []
        for start in range(0, len(pairs), group):
            batch = pairs[start : start + group]
            try:
                out += [self._pair_ids(c, s, "only_first") for c, s in batch]
            except TruncationTooShort:
                logger.warning(
                    "alignscore: a claim sentence is too long for only_first truncation; %s truncated longest first",
                    "its batch of 8 pairs" if group > 1 else "the pair",
                )
                out += [self._pair_ids(c, s, "longest_first") for c, s in batch]
        return out

    # ------------------------------------------------------------------ metric

    def prepare(self, references: Sequence[str]) -> PreparedAlignScore:
        """Chunk and tokenize every context once (reused by every submission scored against this key)."""
        self._load()
        chunks = tuple(tuple(context_chunks(r)) for r in references)
        encoded = tuple(tuple(self._text_encoding(c) for c in case) for case in chunks)
        return PreparedAlignScore(tuple(references), chunks, encoded)

    def score(
        self, prepared: PreparedAlignScore, predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> list[float]:
        if len(prepared.references) != len(predictions):
            raise ValueError(f"{len(predictions)} predictions for {len(prepared.references)} references")
        self._load()
        unique: dict[tuple[int, ...], int] = {}
        layout: list[tuple[int, int, list[int]] | None] = []
        for index, (chunks, prediction) in enumerate(zip(prepared.encoded_chunks, predictions, strict=True)):
            sentences = split_sentences(prediction)
            if not sentences:
                logger.warning("alignscore: case index %d has an empty prediction, scored 0", index)
                layout.append(None)
                continue
            claims = [self._claim_encoding(s) for s in sentences]
            slots = [unique.setdefault(ids, len(unique)) for ids in self._encode_case(chunks, claims)]
            layout.append((len(chunks), len(claims), slots))
        todo = [ids for ids in unique if ids not in self._pair_values]
        if todo:
            self._pair_values.update(zip(todo, self._score_ids(todo), strict=True))
        values = [self._pair_values[ids] for ids in unique]
        out = []
        for item in layout:
            if item is None:
                out.append(0.0)
                continue
            n_chunks, n_claims, slots = item
            matrix = [[values[slots[c * n_claims + s]] for s in range(n_claims)] for c in range(n_chunks)]
            out.append(100.0 * aggregate(matrix))
        return out

    def _claim_encoding(self, sentence: str) -> Any:
        encoding = self._claims.get(sentence)
        if encoding is None:
            encoding = self._claims[sentence] = self._text_encoding(sentence)
        return encoding

    def _score_ids(self, encoded: Sequence[Sequence[int]]) -> list[float]:
        """P(aligned) per encoded pair: length-sorted batches padded to their longest pair (the model entry)."""
        import torch

        self._load()
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        pad_id = self._tokenizer.pad_token_id or 0
        device = next(self._model.parameters()).device
        out = [0.0] * len(encoded)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                width = max(len(encoded[i]) for i in batch)
                ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    ids[row, : len(encoded[i])] = torch.tensor(encoded[i], dtype=torch.long)
                    mask[row, : len(encoded[i])] = 1
                probs = self._model(ids.to(device), mask.to(device))
                for row, i in enumerate(batch):
                    out[i] = float(probs[row])
        return out


def _build_model_class() -> type:
    import torch
    from torch import nn

    class AlignHeadModel(nn.Module):
        """``RobertaModel`` + ``tri_layer``; forward gives P(class 0 = aligned)."""

        def __init__(self, base_model: nn.Module, hidden_size: int) -> None:
            super().__init__()
            self.base_model = base_model
            self.tri_layer = nn.Linear(hidden_size, 3)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            pooled = self.base_model(input_ids=input_ids, attention_mask=attention_mask).pooler_output
            return torch.softmax(self.tri_layer(pooled), dim=-1)[:, 0]

        @classmethod
        def build(cls, base_dir: Path, state: dict[str, Any]) -> AlignHeadModel:
            """Base weights from ``base_dir`` when it has them (as officially), then the checkpoint on top."""
            from transformers import AutoConfig, RobertaModel

            has_weights = any(base_dir.glob("*.safetensors")) or any(base_dir.glob("pytorch_model*.bin"))
            if has_weights:
                base = RobertaModel.from_pretrained(str(base_dir), add_pooling_layer=True)
            else:
                base = RobertaModel(AutoConfig.from_pretrained(str(base_dir)), add_pooling_layer=True)
            base_state = {k[len("base_model.") :]: v for k, v in state.items() if k.startswith("base_model.")}
            result = base.load_state_dict(base_state, strict=False)
            unexpected = [k for k in result.unexpected_keys if not k.endswith("position_ids")]
            if unexpected:
                raise MetricUnavailable(
                    "alignscore",
                    f"checkpoint does not fit the base model ({len(unexpected)} unexpected keys, e.g. {unexpected[0]})",
                    "use AlignScore-base.ckpt with roberta-base (AlignScore-large needs roberta-large)",
                )
            missing = [k for k in result.missing_keys if not k.endswith("position_ids")]
            if missing and not has_weights:
                raise MetricUnavailable(
                    "alignscore",
                    f"checkpoint lacks {len(missing)} base-model weights (e.g. {missing[0]}) and {base_dir} has none",
                    "supply the full roberta-base folder (with its weights)",
                )
            if missing:
                logger.warning("alignscore: %d base weights not in the checkpoint kept from %s", len(missing), base_dir)
            model = cls(base, base.config.hidden_size)
            model.tri_layer.load_state_dict({"weight": state["tri_layer.weight"], "bias": state["tri_layer.bias"]})
            return model

    return AlignHeadModel


@functools.cache
def _model_class() -> Any:
    """The ``nn.Module`` class, built on first use so that importing this module imports no torch."""
    return _build_model_class()
