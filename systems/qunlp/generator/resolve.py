"""Resolve what a training run or a build needs (base model, GPU, stage-1 corpus, folders) before loading anything.

Every check fails with one line naming what is missing and how to supply it; :func:`preflight` reports all
missing pieces at once. Light: torch is imported only to check for a GPU when the config asks for one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.config import MODEL_DIR_KEY, control_overrides
from harness.errors import HarnessError
from harness.systems import TrainOptions
from systems.lora.basemodel import BaseModelRef, GeneratorSetupError, check_setup, generator_cache
from systems.lora.cards import CARD_FILE, NO_ADAPTER, has_card
from systems.qunlp.generator.config import GeneratorConfig, load_config

STAGE_CHOICES: dict[str, tuple[str, ...]] = {"1": ("1",), "2": ("2",), "all": ("1", "2")}
DEFAULT_DATA, DEFAULT_SPLIT = "synthetic", "dev"
CARD_KIND = "qunlp-generator-adapter"  # the ``kind`` of this system's adapter cards


def resolve_stage1_data(config: GeneratorConfig) -> str:
    """The stage-1 corpus: ``stage1.data``, else the ``stage1.data_env`` variable; ``"synthetic"`` is packaged."""
    section = config.stage1
    value = section.data or (os.environ.get(section.data_env) if section.data_env else None)
    if not value:
        env = f"set {section.data_env}=PATH or " if section.data_env else ""
        raise GeneratorSetupError(
            f"the emrQA-MedSQuAD corpus (SQuAD v2 JSON/JSONL/parquet): {env}--set stage1.data=PATH "
            "(stage1.data=synthetic trains on the packaged synthetic stand-in)"
        )
    if value == "synthetic":
        return value
    path = Path(value).expanduser()
    if not path.exists():
        raise GeneratorSetupError(f"the stage-1 corpus: {path} does not exist")
    return str(path)


def _collect(config: GeneratorConfig, stages: Sequence[str]) -> BaseModelRef:
    more: list[str] = []
    if "1" in stages:
        try:
            resolve_stage1_data(config)
        except GeneratorSetupError as exc:
            more.append(f"stage 1 needs {exc}")
    return check_setup(config.model, f"qunlp generator ({config.name})", more=more)


def preflight(options: TrainOptions) -> tuple[GeneratorConfig, tuple[str, ...], BaseModelRef]:
    """The config, the stages and the base model of a training run, or one error naming all that is missing."""
    if options.stage not in STAGE_CHOICES:
        raise HarnessError(f"qunlp has stages 1, 2 and all, not {options.stage!r}")
    stages = STAGE_CHOICES[options.stage]
    config = load_config(options.overrides, options.config)
    return config, stages, _collect(config, stages)


def preflight_build(config: GeneratorConfig) -> BaseModelRef:
    """The base model of a build (no stage data needed), or one error naming all that is missing."""
    return _collect(config, ())


def default_out_dir(config: GeneratorConfig, data: str = DEFAULT_DATA, split: str = DEFAULT_SPLIT) -> Path:
    """``<cache>/qunlp-generator/runs/<config name>-<hash of config, data, split>``: a changed config trains anew."""
    where = data if data == DEFAULT_DATA else str(Path(data).expanduser().resolve())
    key = hashlib.sha256(f"{config.sha256()}|{where}|{split}".encode()).hexdigest()[:12]
    return generator_cache() / "runs" / f"{config.name}-{key}"


def model_dir_value(overrides: Mapping[str, Any]) -> str | None:
    """The ``model_dir`` override (``adapter_dir`` read as it, with a deprecation warning), or None."""
    value = control_overrides(overrides).get(MODEL_DIR_KEY)
    return None if value is None else str(value)


def adapter_in(model_dir: Path) -> Path | None:
    """The trained adapter a ``model_dir`` names: the folder itself (an adapter), or OUT/stage2/adapter of a
    training output; None when it holds neither."""
    for candidate in (model_dir, model_dir / "stage2" / "adapter"):
        if has_card(candidate):
            return candidate
    return None


def resolve_adapter_dir(config: GeneratorConfig, overrides: Mapping[str, Any]) -> Path | None:
    """The adapter of ``model_dir`` (``none``: the untuned base model), else the default training output's."""
    if MODEL_DIR_KEY in control_overrides(overrides):
        value = model_dir_value(overrides)
        if value is None or value.lower() in NO_ADAPTER:
            return None
        path = Path(value).expanduser()
        adapter = adapter_in(path)
        if adapter is None:
            raise GeneratorSetupError(
                f"model_dir={path} is not a trained qunlp adapter (no {CARD_FILE} in it or in stage2/adapter); "
                "give the --out of `archehr train qunlp` or the model_dir it printed"
            )
        return adapter.resolve()
    path = default_out_dir(config) / "stage2" / "adapter"
    if not has_card(path):
        raise GeneratorSetupError(
            f"no trained qunlp adapter for config {config.name!r} (looked in {path}): run `archehr train qunlp` "
            "with the same config first, or --set model_dir=DIR (model_dir=none: the untuned base model)"
        )
    return path
