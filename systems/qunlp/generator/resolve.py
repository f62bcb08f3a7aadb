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

from harness.errors import HarnessError
from harness.systems import TrainOptions
from systems.qunlp.generator.basemodel import BaseModelRef, GeneratorSetupError, check_base_model, generator_cache
from systems.qunlp.generator.cards import CARD_FILE
from systems.qunlp.generator.config import GeneratorConfig, load_config

STAGE_CHOICES: dict[str, tuple[str, ...]] = {"1": ("1",), "2": ("2",), "all": ("1", "2")}
DEFAULT_DATA, DEFAULT_SPLIT = "synthetic", "dev"
NO_ADAPTER = ("none", "base")


def check_device(config: GeneratorConfig) -> None:
    """Fail when the config asks for a CUDA GPU that torch cannot see."""
    if config.model.device != "cuda":
        return
    import torch

    if not torch.cuda.is_available():
        raise GeneratorSetupError(
            "a CUDA GPU (model.device=cuda), and torch sees none: on CPU use systems/qunlp/configs/cpu-demo.yaml"
        )


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
    problems: list[str] = []
    base = None
    try:
        base = check_base_model(config.model)
    except GeneratorSetupError as exc:
        problems.append(str(exc))
    try:
        check_device(config)
    except GeneratorSetupError as exc:
        problems.append(f"needs {exc}")
    if "1" in stages:
        try:
            resolve_stage1_data(config)
        except GeneratorSetupError as exc:
            problems.append(f"stage 1 needs {exc}")
    if problems:
        raise GeneratorSetupError(f"qunlp generator ({config.name}): " + "; ".join(problems))
    assert base is not None
    return base


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


def resolve_adapter_dir(config: GeneratorConfig, overrides: Mapping[str, Any]) -> Path | None:
    """``adapter_dir`` from the overrides (``none``: the untuned base model), else the default training output."""
    if "adapter_dir" in overrides:
        value = overrides["adapter_dir"]
        if value is None or str(value).lower() in NO_ADAPTER:
            return None
        path = Path(str(value)).expanduser()
        if not (path / CARD_FILE).is_file():
            raise GeneratorSetupError(
                f"adapter_dir={path} is not a trained qunlp adapter (no {CARD_FILE}); "
                "give the adapter_dir printed by `archehr train qunlp` (OUT/stage2/adapter)"
            )
        return path.resolve()
    path = default_out_dir(config) / "stage2" / "adapter"
    if not (path / CARD_FILE).is_file():
        raise GeneratorSetupError(
            f"no trained qunlp adapter for config {config.name!r} (looked in {path}): run `archehr train qunlp` "
            "with the same config first, or --set adapter_dir=DIR (adapter_dir=none: the untuned base model)"
        )
    return path
