"""The aligner's configuration: one frozen dataclass, read by :mod:`harness.config` from defaults, a trained
model's stored config, a YAML file and overrides.

The dataclass defaults are the CPU demo settings (mirrored, value for value, by
``systems/qunlp/configs/aligner.yaml``). Keys of the per-subtask settings are overridden with dotted
names (``subtask4.ce_top_n=8``). Light: imports only yaml.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.config import ConfigError, ConfigSpec

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
#: Environment variable naming a trained cross-encoder directory (used when the config names none).
CROSS_ENCODER_ENV = "ARCHEHR_CROSS_ENCODER"
COMPONENTS = ("bm25", "tfidf", "cross_encoder")


class AlignerConfigError(ConfigError):
    pass


@dataclass(frozen=True)
class SubtaskSettings:
    """Candidate pruning and the grid of links per query, for one subtask."""

    ce_top_n: int = 4  # the union of BM25's and TF-IDF's top n per query goes to the cross-encoder (0 = all)
    k_grid: tuple[int, ...] = (1, 2, 3, 4)  # at most k links per query
    train_negatives_per_positive: int = 1  # negatives per positive among this subtask's training pairs
    train: bool = True  # train the cross-encoder on this subtask's pairs


@dataclass(frozen=True)
class EnsembleDefaults:
    """Ensemble parameters used when nothing was tuned (a user-named cross-encoder without training)."""

    bm25: float = 0.3
    tfidf: float = 0.2
    cross_encoder: float = 0.5
    bm25_fraction: float = 0.5
    threshold: float = 0.5
    k: int = 2
    min_links: int = 1


@dataclass(frozen=True)
class AlignerConfig:
    """Every knob of the aligner; the resolved value is stored with each trained model and each run."""

    seed: int = 13
    # which tuned decision rule a run applies: the ensemble, or one component alone with the parameters tuned
    # for it (the rows of `archehr ablate`); needs a trained model_dir for anything but the ensemble
    component: Literal["ensemble", "bm25", "tfidf", "cross_encoder"] = "ensemble"
    # lexical components
    bm25_backend: str = "rank_bm25"  # rank_bm25 | bm25s
    bm25_k1: float = 1.5
    bm25_b: float = 0.75
    tfidf_sublinear_tf: bool = True
    normalise_scope: str = "case"  # case | query: the group over which each component is normalised
    # cross-encoder
    cross_encoder: str | None = None  # a trained cross-encoder directory (else $ARCHEHR_CROSS_ENCODER, else fine-tune)
    base_model: str | None = None  # fine-tuning start point (None = the packaged all-MiniLM-L6-v2)
    device: str = "cpu"
    max_length: int = 128
    train_epochs: int = 1
    train_batch_size: int = 8
    learning_rate: float = 2e-4
    warmup_ratio: float = 0.1
    freeze_layers: int = 5  # lower transformer layers kept frozen (the embeddings always are)
    hard_negative_share: float = 0.5  # share of negatives drawn from the lexical top candidates
    inference_batch_size: int = 64
    quantize: bool = True  # int8 dynamic quantisation of the linear layers at inference (CPU)
    torch_threads: int = 1  # intra-op threads while the aligner computes (0 = torch's default); restored after
    # tuning
    cross_fit_folds: int = 2  # >= 2: out-of-fold cross-encoder scores for tuning; 0: in-sample (optimistic)
    cross_fit_final: str = "soup"  # soup: average the fold models' weights; refit: one more fine-tune on all cases
    cv_folds: int = 5  # leave-cases-out folds of the grid search
    weight_step: float = 0.2
    threshold_grid: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
    bm25_fraction_grid: tuple[float, ...] = (0.3, 0.5, 0.7)
    min_links_grid: tuple[int, ...] = (0, 1)
    defaults: EnsembleDefaults = field(default_factory=EnsembleDefaults)
    subtask4: SubtaskSettings = field(default_factory=SubtaskSettings)
    subtask2: SubtaskSettings = field(
        default_factory=lambda: SubtaskSettings(ce_top_n=6, k_grid=(2, 3, 4, 5, 6, 8), train=False)
    )

    def settings(self, subtask: int) -> SubtaskSettings:
        return {4: self.subtask4, 2: self.subtask2}[int(subtask)]

    def cross_encoder_dir(self) -> str | None:
        """The user-named trained cross-encoder: the config's, else the environment's."""
        return self.cross_encoder or os.environ.get(CROSS_ENCODER_ENV) or None

    def to_json(self) -> dict[str, Any]:
        return _plain(asdict(self))

    def validate(self) -> AlignerConfig:
        problems = []
        if self.bm25_backend not in ("rank_bm25", "bm25s"):
            problems.append(f"bm25_backend must be rank_bm25 or bm25s, not {self.bm25_backend!r}")
        if self.normalise_scope not in ("case", "query"):
            problems.append(f"normalise_scope must be case or query, not {self.normalise_scope!r}")
        if self.cross_fit_final not in ("soup", "refit"):
            problems.append(f"cross_fit_final must be soup or refit, not {self.cross_fit_final!r}")
        if self.cross_fit_folds == 1 or self.cross_fit_folds < 0:
            problems.append("cross_fit_folds must be 0 (in-sample) or at least 2")
        if self.cv_folds < 2:
            problems.append("cv_folds must be at least 2")
        if not 0 < self.weight_step <= 1:
            problems.append("weight_step must be in (0, 1]")
        if problems:
            raise AlignerConfigError("; ".join(problems))
        return self


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


SPEC: ConfigSpec[AlignerConfig] = ConfigSpec("aligner config", AlignerConfig, error=AlignerConfigError)


def read_yaml(path: str | Path) -> dict[str, Any]:
    return SPEC.read_yaml(path)


def resolve_config(overrides: Mapping[str, Any] | None = None, base: Mapping[str, Any] | None = None) -> AlignerConfig:
    """Defaults ← ``base`` (e.g. a trained model's stored config) ← ``overrides["config"]`` (YAML) ← the rest."""
    return SPEC.load(overrides, base=base).validate()
