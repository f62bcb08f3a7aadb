"""Classify-then-generate with private fine-tuned LLMs (registered as ``classify-generate``; arXiv 2501.13687).

Task 1 (subtask 2): a QLoRA adapter answers "yes"/"no" to (question, record item) prompts; items with
P(yes) ≥ ``relevance.threshold`` are the evidence (scored from next-token logits, in batches). Task 2
(subtask 3): a second adapter on the same base model writes the answer from the selected items only. The
two tasks keep separate adapters (fine-tuning one adapter on both in sequence forgets task 1). Works on
ArchEHR-QA (items = note sentences) and on the FHIR track (items = resources). See
``docs/classify_generate.md``.

Importing this package registers the system and its trainer and stays light (no torch).

Overrides (``archehr run classify-generate --set KEY=VALUE``): ``config`` (YAML path, default cpu-demo.yaml),
``model_dir`` (the ``out`` of ``archehr train classify-generate``; ``none``: the untuned base model; default:
the default training output of the config on synthetic/dev), ``threshold``, ``question``, ``device``,
``max_new_tokens`` and any dotted config key (``relevance.max_items=4``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.systems import DemoPlan, System, TrainOptions, register_system, register_trainer
from systems.classify_generate.config import CONFIG_DIR, SPEC


@register_system(
    "classify-generate",
    subtasks=(2, 3),
    description="Classify-then-generate (arXiv 2501.13687): QLoRA yes/no relevance adapter per note sentence or "
    "FHIR resource (2), separate answer adapter fed the selected items only (3). Train first.",
    config=SPEC,
    demo=DemoPlan(subtasks=(2, 3), train_config=CONFIG_DIR / "cpu-demo.yaml"),
)
def build(overrides: Mapping[str, Any]) -> System:
    from systems.classify_generate.system import build as build_system

    return build_system(overrides)


@register_trainer("classify-generate")
def train(options: TrainOptions) -> dict[str, Any]:
    """Stages ``1`` (relevance adapter), ``2`` (answer adapter) or ``all``; ``run_config`` feeds ``archehr run``."""
    from systems.classify_generate.training import train as run_training

    return run_training(options)
