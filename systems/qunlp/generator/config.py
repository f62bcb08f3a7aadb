"""The generator's configuration: typed sections loaded from YAML by :mod:`harness.config`.

A config file (``systems/qunlp/configs/*.yaml``) holds every section below; ``--set`` overrides take dotted
keys (``stage1.max_steps=5``) or the shortcuts in :data:`SHORTCUTS` (``batch_size=4``). The shared sections
(model, quantization, LoRA, stages, generation) live in :mod:`systems.lora.config`. Light: no torch here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.config import ConfigError, ConfigSpec, config_values
from systems.lora.config import (
    GenerationSection,
    LoraSection,
    ModelSection,
    QuantizationSection,
    StageSection,
)

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "cpu-demo.yaml"

#: Top-level override keys accepted by the builder besides dotted config keys.
SHORTCUTS: dict[str, str] = {
    "batch_size": "generation.batch_size",
    "max_new_tokens": "generation.max_new_tokens",
    "backend": "generation.backend",
    "device": "model.device",
}


class GeneratorConfigError(ConfigError):
    """A bad config file or override; the message names the key."""


@dataclass(frozen=True)
class PromptSection:
    system: str = (
        "You are a clinician answering a patient's question about their hospital stay using their clinical note. "
        "Answer in plain, patient-friendly language, in at most 75 words, without citations."
    )
    stage1_instruction: str = (
        "Answer the question with the exact words from the note. If the note does not contain the answer, say so."
    )
    unanswerable_answer: str = "The note does not contain the answer to this question."
    max_context_chars: int | None = 1500  # stage 1: the note is cut to a window around the answer
    max_note_words: int | None = None  # stage 2 and inference: keep the note sentences closest to the question


@dataclass(frozen=True)
class GeneratorConfig:
    name: str = "cpu-demo"
    description: str = ""
    seed: int = 13
    model: ModelSection = field(default_factory=ModelSection)
    quantization: QuantizationSection = field(default_factory=QuantizationSection)
    lora: LoraSection = field(default_factory=LoraSection)
    prompt: PromptSection = field(default_factory=PromptSection)
    stage1: StageSection = field(default_factory=StageSection)
    stage2: StageSection = field(default_factory=StageSection)
    generation: GenerationSection = field(default_factory=GenerationSection)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode("utf-8")).hexdigest()

    def stage(self, stage: str) -> StageSection:
        return self.stage1 if stage == "1" else self.stage2

    def training_identity(self) -> dict[str, Any]:
        """The prompt changes what both stages learn."""
        return {"prompt": asdict(self.prompt)}


SPEC: ConfigSpec[GeneratorConfig] = ConfigSpec(
    "generator config", GeneratorConfig, SHORTCUTS, DEFAULT_CONFIG, GeneratorConfigError
)


def load_config(
    overrides: Mapping[str, Any] | None = None,
    path: str | Path | None = None,
    fallback: Mapping[str, Any] | None = None,
) -> GeneratorConfig:
    """The config from ``path`` or ``overrides["config"]``, else ``fallback`` (e.g. the config an adapter was
    trained with), else cpu-demo.yaml; with ``overrides`` applied (see :mod:`harness.config`)."""
    chosen = path or (overrides or {}).get("config")
    return SPEC.load(overrides, path=path, base=None if chosen else fallback)


def config_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``overrides`` that are config keys (not ``config`` or ``model_dir``)."""
    return config_values(overrides)
