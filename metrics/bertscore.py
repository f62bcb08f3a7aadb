"""BERTScore with the official ArchEHR-QA settings, through the ``bert-score`` package (spec §3).

Official: ``distilbert-base-uncased``, ``num_layers=4`` (not the library default of 5), idf off,
baseline rescaling on with the table bert-score ships (``rescale_baseline/en/distilbert-base-uncased.tsv``,
layer-4 F baseline 0.6014007), F1 × 100 per case, inputs truncated at 512 tokens.

The model comes from a LOCAL folder: ``model_dir``, else the ``distilbert-base-uncased`` asset
(``ARCHEHR_BERTSCORE_MODEL``, the assets file, the cache; see :mod:`harness.assets`). bert-score loads
whatever ``model_type`` names with ``AutoModel.from_pretrained``, so a folder path works; ``num_layers``
must then be given explicitly (its layer table is keyed by hub names) and so must ``baseline_path``
(bert-score would look for ``rescale_baseline/en/<model_type>.tsv``, i.e. the folder path).

``stand_in=True`` uses the packaged all-MiniLM-L6-v2 instead (name ``bertscore-minilm``): layer 4 of 6
(the same relative depth as the official layer 4 of distilbert's 6), no rescaling (no baseline exists
for MiniLM), so its numbers run higher than the official ones and are never comparable to the leaderboard.

One model load per metric object (lazily, on first use). bert-score's own ``score`` embeds references and
candidates together on every call; we run its steps (``get_bert_embedding`` over texts deduplicated and
sorted by length, ``greedy_cos_idf``, the baseline rescaling) with the reference embeddings computed once in
``prepare``, so scoring more submissions against the same key embeds only their predictions. Values agree
with ``BERTScorer.score`` to float rounding (a text's embedding does not depend on its batch neighbours
beyond that).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from metrics.base import HARNESS_METRICS_VERSION, MetricUnavailable, SingleOutput

logger = logging.getLogger(__name__)

OFFICIAL_MODEL = "distilbert-base-uncased"
OFFICIAL_LAYER = 4
STAND_IN_MODEL = "all-MiniLM-L6-v2"
STAND_IN_LAYER = 4
MAX_TOKENS = 512
_INSTALL_FIX = "pip install -r requirements/ml.txt (bert-score==0.3.13, torch, transformers)"


@dataclass(frozen=True)
class PreparedBertScore:
    """The references of one key and their token embeddings (layer output and idf weights, per text)."""

    references: tuple[str, ...]
    embeddings: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def _bert_score_version() -> str:
    try:
        return version("bert-score")
    except PackageNotFoundError:
        return "missing"


def shipped_baseline_path(model: str = OFFICIAL_MODEL) -> Path:
    """The rescale baseline table bert-score ships for ``model`` (English), located without importing it."""
    spec = importlib.util.find_spec("bert_score")
    if spec is None or not spec.submodule_search_locations:
        raise MetricUnavailable("bertscore", "the bert-score package is not installed", _INSTALL_FIX)
    return Path(next(iter(spec.submodule_search_locations))) / "rescale_baseline" / "en" / f"{model}.tsv"


class BertScoreMetric(SingleOutput):
    """BERTScore F1 × 100 per case (official settings, or the explicit MiniLM stand-in)."""

    output_key = "bertscore"

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        stand_in: bool = False,
        batch_size: int = 64,
        device: str | None = None,
    ) -> None:
        self.stand_in = stand_in
        self.name = "bertscore-minilm" if stand_in else "bertscore"
        self.model_dir = None if model_dir is None else Path(model_dir)
        self.batch_size = batch_size
        self.device = device
        self.layer = STAND_IN_LAYER if stand_in else OFFICIAL_LAYER
        self.rescale = not stand_in
        self._scorer: Any = None

    def signature(self) -> str:
        model = STAND_IN_MODEL if self.stand_in else OFFICIAL_MODEL
        extra = "|standin|not-comparable" if self.stand_in else ""
        return (
            f"{self.name}|model:{model}|layer:{self.layer}|idf:no|rescale:{'yes' if self.rescale else 'no'}"
            f"{extra}|bert_score:{_bert_score_version()}|harness:{HARNESS_METRICS_VERSION}"
        )

    # ------------------------------------------------------------------ model

    def resolve_model_dir(self) -> Path:
        """The local model folder, or :class:`MetricUnavailable` saying how to supply one."""
        from harness.assets import locate

        asset = "all-minilm-l6-v2" if self.stand_in else OFFICIAL_MODEL
        if self.model_dir is not None:
            if not (self.model_dir / "config.json").is_file():
                raise MetricUnavailable(
                    self.name,
                    f"{self.model_dir} is not a model folder (no config.json)",
                    f"pass the folder of a local {asset} copy (config.json, tokenizer files, weights)",
                )
            return self.model_dir
        status = locate(asset)
        if status.found_at is None:
            raise MetricUnavailable(
                self.name, f"no local {asset} model ({status.problem or 'not found'})", status.how_to_supply
            )
        return status.found_at

    def _load(self) -> Any:
        if self._scorer is not None:
            return self._scorer
        folder = self.resolve_model_dir()
        baseline = None
        if self.rescale:
            baseline = shipped_baseline_path(OFFICIAL_MODEL)
            if not baseline.is_file():
                raise MetricUnavailable(
                    self.name, f"bert-score's rescale baseline is missing: {baseline}", _INSTALL_FIX
                )
        try:
            from bert_score import BERTScorer
        except ImportError as exc:
            raise MetricUnavailable(self.name, f"cannot import bert-score ({exc})", _INSTALL_FIX) from exc
        logger.info("loading %s from %s (layer %d)", self.name, folder, self.layer)
        scorer = BERTScorer(
            model_type=str(folder),
            num_layers=self.layer,
            batch_size=self.batch_size,
            idf=False,
            device=self.device,
            lang="en",
            rescale_with_baseline=self.rescale,
            baseline_path=None if baseline is None else str(baseline),
        )
        _patch_tokenizer(scorer._tokenizer)
        if self.rescale:
            with warnings.catch_warnings():  # pandas 3 hands bert-score a read-only array: harmless here
                warnings.simplefilter("ignore", UserWarning)
                _ = scorer.baseline_vals  # read (and cache) the baseline table now
        self._scorer = scorer
        return scorer

    # ------------------------------------------------------------------ metric

    def scorer(self) -> Any:
        """The loaded ``bert_score.BERTScorer`` (official settings): for per-case comparisons."""
        return self._load()

    def prepare(self, references: Sequence[str]) -> PreparedBertScore:
        """Load the model (failing early with :class:`MetricUnavailable`) and embed the references once."""
        self._load()
        return PreparedBertScore(tuple(references), self._embed(references))

    def _embed(self, texts: Iterable[str], known: Mapping[str, Any] | None = None) -> dict[str, tuple[Any, Any]]:
        """Token embeddings and idf weights of each distinct text not in ``known`` (bert-score's batching)."""
        from bert_score.utils import get_bert_embedding

        scorer = self._load()
        todo = sorted({t for t in texts if not known or t not in known}, key=lambda t: len(t.split(" ")), reverse=True)
        out: dict[str, tuple[Any, Any]] = {}
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            embeddings, masks, idf = get_bert_embedding(
                batch, scorer._model, scorer._tokenizer, self._idf_dict(), device=scorer.device, all_layers=False
            )
            embeddings, masks, idf = embeddings.cpu(), masks.cpu(), idf.cpu()
            for row, text in enumerate(batch):
                length = int(masks[row].sum().item())
                out[text] = (embeddings[row, :length], idf[row, :length])
        return out

    def _idf_dict(self) -> dict[int, float]:
        """bert-score's weights with idf off: 1 for every token, 0 for [CLS] and [SEP]."""
        tokenizer = self._load()._tokenizer
        weights: dict[int, float] = defaultdict(lambda: 1.0)
        weights[tokenizer.sep_token_id] = 0.0
        weights[tokenizer.cls_token_id] = 0.0
        return weights

    def score(
        self, prepared: PreparedBertScore, predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> list[float]:
        if len(prepared.references) != len(predictions):
            raise ValueError(f"{len(predictions)} predictions for {len(prepared.references)} references")
        if not predictions:
            return []
        import torch
        from bert_score.utils import greedy_cos_idf

        scorer = self._load()
        stats = dict(prepared.embeddings)
        stats.update(self._embed(predictions, stats))
        rows = []
        with torch.no_grad():
            for start in range(0, len(predictions), self.batch_size):
                refs = prepared.references[start : start + self.batch_size]
                hyps = predictions[start : start + self.batch_size]
                precision, recall, f1 = greedy_cos_idf(*_padded(refs, stats), *_padded(hyps, stats), False)
                rows.append(torch.stack((precision, recall, f1), dim=-1).cpu())
        values = torch.cat(rows, dim=0)
        if self.rescale:
            values = (values - scorer.baseline_vals) / (1 - scorer.baseline_vals)
        out = []
        for index, value in enumerate(values[:, 2].tolist()):
            if math.isnan(value):  # bert-score already maps NaN to 0 raw; keep the guarantee anyway
                logger.warning("%s: NaN for case index %d, reported as 0", self.name, index)
                value = 0.0
            out.append(100.0 * value)
        return out


def _padded(texts: Sequence[str], stats: Mapping[str, tuple[Any, Any]]) -> tuple[Any, Any, Any]:
    """Embeddings padded with 2.0, the length mask and padded idf weights, as bert-score batches them."""
    import torch
    from torch.nn.utils.rnn import pad_sequence

    embeddings = [stats[t][0] for t in texts]
    weights = [stats[t][1] for t in texts]
    lengths = torch.tensor([e.size(0) for e in embeddings], dtype=torch.long)
    mask = torch.arange(int(lengths.max())).expand(len(texts), -1) < lengths.unsqueeze(1)
    return pad_sequence(embeddings, batch_first=True, padding_value=2.0), mask, pad_sequence(weights, batch_first=True)


def _patch_tokenizer(tokenizer: Any) -> None:
    """Make the tokenizer behave as bert-score expects under transformers 5.

    * Truncation at 512 tokens: bert-score truncates at ``model_max_length``, which a local folder
      without ``tokenizer_config.json`` leaves unbounded.
    * Empty texts: bert-score encodes them with ``build_inputs_with_special_tokens([])`` (``[CLS] [SEP]``),
      a method transformers 5 tokenizers no longer have.
    """
    if not tokenizer.model_max_length or tokenizer.model_max_length > MAX_TOKENS:
        tokenizer.model_max_length = MAX_TOKENS
    if not hasattr(tokenizer, "build_inputs_with_special_tokens"):
        empty = list(tokenizer.encode("", add_special_tokens=True))

        def build_inputs_with_special_tokens(token_ids_0: list[int], token_ids_1: list[int] | None = None) -> list[int]:
            if token_ids_0 or token_ids_1:
                raise NotImplementedError("only the empty-text case bert-score uses is supported")
            return list(empty)

        tokenizer.build_inputs_with_special_tokens = build_inputs_with_special_tokens
