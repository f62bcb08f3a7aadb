"""QU-NLP reference answer generator for subtask 3 (registered as ``qunlp``).

A 4-bit NF4 base model (Qwen3-4B in ``configs/paper.yaml``; SmolLM2-135M-Instruct in the CPU demo config) with
LoRA adapters fine-tuned in two stages (emrQA-MedSQuAD question answering, then the annotated cases' clinician
answers), generating plain-language answers of at most 75 words. See ``docs/generator.md``.

Importing this package registers the system and its trainer and stays light (no torch): the builder and the
trainer import their modules when called.

Builder overrides (``archehr run qunlp --set KEY=VALUE``): ``config`` (YAML path, default cpu-demo.yaml),
``model_dir`` (the ``--out`` of ``archehr train qunlp`` or a trained adapter; ``none`` for the untuned base model;
default: the default training output of the config; the old name ``adapter_dir`` still works, with a warning),
``batch_size``, ``max_new_tokens``, ``backend`` (``hf`` | ``vllm``), ``device``, and any dotted config key
(``generation.max_words=60``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.systems import DemoPlan, System, TrainOptions, register_system, register_trainer
from systems.qunlp.generator.config import CONFIG_DIR, SPEC


@register_system(
    "qunlp",
    subtasks=(3,),
    description="QU-NLP answer generator: 4-bit NF4 base + two-stage LoRA (emrQA-MedSQuAD, then dev answers); "
    "answers of at most 75 words. Train first: archehr train qunlp.",
    config=SPEC,
    demo=DemoPlan(subtasks=(3,), train_config=CONFIG_DIR / "cpu-demo.yaml"),
)
def build(overrides: Mapping[str, Any]) -> System:
    from systems.qunlp.generator.system import build_generator

    return build_generator(overrides)


@register_trainer("qunlp")
def train(options: TrainOptions) -> dict[str, Any]:
    """Stages ``1``, ``2`` or ``all``; returns a JSON summary whose ``run_config`` feeds ``archehr run qunlp``."""
    from systems.qunlp.generator.resolve import preflight

    preflight(options)  # fail fast (one line) before importing torch and transformers
    from systems.qunlp.generator.training import train as run_training

    return run_training(options)
