"""The classify-then-generate configuration: the generator's model, quantisation, LoRA, training-stage and
generation sections (reused as they are), plus the relevance settings of this system.

A config file (``systems/classify_generate/configs/*.yaml``) holds every section; overrides take dotted keys
(``classifier.max_steps=5``) or the shortcuts in :data:`SHORTCUTS`. Light: no torch.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from systems.qunlp.generator.config import (
    GenerationSection,
    GeneratorConfig,
    LoraSection,
    ModelSection,
    QuantizationSection,
    StageSection,
    build_section,
    read_yaml,
    set_dotted,
)

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "cpu-demo.yaml"
SHORTCUTS: dict[str, str] = {
    "threshold": "relevance.threshold",
    "question": "relevance.question",
    "device": "model.device",
    "max_new_tokens": "generation.max_new_tokens",
}
#: Override keys that are not config fields: where the trained adapters are (``model_dir``), the config file.
CONTROL_KEYS = frozenset({"config", "model_dir"})


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

    def generator_config(self) -> GeneratorConfig:
        """The generator's config carrying these sections: task 1 trains as its stage 1, task 2 as its stage 2."""
        return GeneratorConfig(
            name=f"classify-generate-{self.name}",
            description=self.description,
            seed=self.seed,
            model=self.model,
            quantization=self.quantization,
            lora=self.lora,
            stage1=self.classifier,
            stage2=self.answerer,
            generation=self.generation,
        )


def load_config(overrides: Mapping[str, Any] | None = None, path: str | Path | None = None) -> ClassifyGenerateConfig:
    """The config from ``path`` (or ``overrides["config"]``, else cpu-demo.yaml) with ``overrides`` applied;
    overrides carrying ``name`` are a whole config (``archehr run --config FILE``) applied over the defaults."""
    overrides = dict(overrides or {})
    chosen = path or overrides.get("config")
    base = read_yaml(Path(chosen)) if chosen else {} if "name" in overrides else read_yaml(DEFAULT_CONFIG)
    data = copy.deepcopy(base)
    for key, value in overrides.items():
        if key not in CONTROL_KEYS:
            set_dotted(data, SHORTCUTS.get(key, key), value)
    return build_section(ClassifyGenerateConfig, data, "")


def config_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in overrides.items() if k not in CONTROL_KEYS}
