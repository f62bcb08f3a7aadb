"""The classify-then-generate configuration: the shared QLoRA sections of :mod:`systems.lora.config` (model,
quantisation, LoRA, training stages, generation), plus the relevance settings of this system.

A config file (``systems/classify_generate/configs/*.yaml``) holds every section; overrides take dotted keys
(``classifier.max_steps=5``) or the shortcuts in :data:`SHORTCUTS`, read by :mod:`harness.config`. Light: no torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.config import ConfigError, ConfigSpec, config_values
from systems.lora.config import GenerationSection, LoraSection, ModelSection, QuantizationSection, StageSection

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "cpu-demo.yaml"
SHORTCUTS: dict[str, str] = {
    "threshold": "relevance.threshold",
    "question": "relevance.question",
    "device": "model.device",
    "max_new_tokens": "generation.max_new_tokens",
}


class ClassifyGenerateConfigError(ConfigError):
    """A bad classify-generate config file or override."""


@dataclass(frozen=True)
class RelevanceSection:
    """Task 1: what the classifier reads, how it is trained on the gold labels, how items are selected."""

    question: Literal["clinician", "patient", "both"] = "clinician"  # which wording of the question to show
    item_chars: int = 300  # item texts cut to this many characters (0: whole)
    positive_labels: list[str] = field(default_factory=lambda: ["essential"])  # labels trained as "yes"
    skip_labels: list[str] = field(default_factory=lambda: ["supplementary"])  # labels left out of training
    negatives_per_positive: int = 2  # "no" pairs sampled per "yes" pair (at least this many per case)
    threshold: float = 0.5  # select items with P(yes) >= threshold
    min_items: int = 0  # select at least this many (the most probable)
    max_items: int = 8  # at most this many (0: no cap); also the answer prompt's item budget
    batch_size: int = 32  # prompts per forward pass when scoring


@dataclass(frozen=True)
class ClassifyGenerateConfig:
    name: str = "cpu-demo"
    description: str = ""
    seed: int = 13
    model: ModelSection = field(default_factory=ModelSection)
    quantization: QuantizationSection = field(default_factory=QuantizationSection)
    lora: LoraSection = field(default_factory=LoraSection)
    relevance: RelevanceSection = field(default_factory=RelevanceSection)
    classifier: StageSection = field(default_factory=StageSection)  # task-1 adapter training
    answerer: StageSection = field(default_factory=StageSection)  # task-2 adapter training
    generation: GenerationSection = field(default_factory=GenerationSection)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode("utf-8")).hexdigest()

    def stage(self, stage: str) -> StageSection:
        """Task 1 (relevance) trains in stage slot "1", task 2 (answer) in "2"."""
        return self.classifier if stage == "1" else self.answerer

    def training_identity(self) -> dict[str, Any]:
        """Nothing beyond the shared sections: the relevance settings shape the samples, which are hashed."""
        return {}


SPEC: ConfigSpec[ClassifyGenerateConfig] = ConfigSpec(
    "classify-generate config", ClassifyGenerateConfig, SHORTCUTS, DEFAULT_CONFIG, ClassifyGenerateConfigError
)


def load_config(overrides: Mapping[str, Any] | None = None, path: str | Path | None = None) -> ClassifyGenerateConfig:
    """The config from ``path`` (or ``overrides["config"]``, else cpu-demo.yaml) with ``overrides`` applied;
    overrides carrying ``name`` are a whole config (``archehr run --config FILE``) applied over the defaults."""
    return SPEC.load(overrides, path=path)


def config_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    return config_values(overrides)
