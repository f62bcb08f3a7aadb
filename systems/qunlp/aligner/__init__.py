"""QU-NLP evidence aligner: BM25 (relative thresholding) + TF-IDF cosine + fine-tuned cross-encoder ensemble.

Registers ``qunlp-aligner`` (subtask 4: note sentences supporting each answer sentence) and
``qunlp-evidence`` (subtask 2: note sentences answering the question), and one trainer for both (one
model folder holds the cross-encoder and both tuned ensembles). Importing this package is light: torch,
sentence-transformers and scikit-learn load only when a system is built or trained. The aligner also declares
the ``archehr ablate`` command. See docs/aligner.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.systems import DemoPlan, System, TrainOptions, register_system, register_trainer
from systems.qunlp.aligner.cli import ablate_command
from systems.qunlp.aligner.config import CONFIG_DIR, SPEC


@register_system(
    "qunlp-aligner",
    subtasks=(4,),
    description="QU-NLP evidence alignment: BM25 + TF-IDF + cross-encoder ensemble per answer sentence (train first).",
    config=SPEC,
    demo=DemoPlan(subtasks=(4,), train_config=CONFIG_DIR / "aligner.yaml"),
    commands=(ablate_command,),
)
def build_aligner(overrides: Mapping[str, Any]) -> System:
    from systems.qunlp.aligner.system import build_aligner as build

    return build("qunlp-aligner", overrides)


@register_system(
    "qunlp-evidence",
    subtasks=(2,),
    description="QU-NLP evidence identification: the aligner's ensemble, question + narrative as query (train first).",
    config=SPEC,
    demo=DemoPlan(subtasks=(2,), trained_by="qunlp-aligner"),
)
def build_evidence(overrides: Mapping[str, Any]) -> System:
    from systems.qunlp.aligner.system import build_aligner as build

    return build("qunlp-evidence", overrides)


@register_trainer("qunlp-aligner")
@register_trainer("qunlp-evidence")
def train(options: TrainOptions) -> dict[str, Any]:
    """Fine-tune the cross-encoder and tune both ensembles; returns a JSON summary with ``run_config``."""
    from systems.qunlp.aligner.training import train_aligner

    return train_aligner(options)
