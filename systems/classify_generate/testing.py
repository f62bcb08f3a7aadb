"""classify-generate settings for offline tests: the tiny random Qwen3 (:mod:`systems.qunlp.generator.testing`)
in 4-bit NF4, a couple of training steps per adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from systems.qunlp.generator.testing import tiny_model_settings


def tiny_overrides(model_dir: Path) -> dict[str, Any]:
    """Config overrides running classify-generate on the tiny model saved in ``model_dir``."""
    stage = {"batch_size": 2, "learning_rate": 1e-2, "warmup": 0, "lr_scheduler": "constant", "logging_steps": 1}
    return {
        **tiny_model_settings(model_dir),
        "relevance": {"item_chars": 80, "negatives_per_positive": 1, "min_items": 1, "max_items": 2, "batch_size": 8},
        "classifier": {**stage, "max_steps": 2, "max_seq_len": 128, "save_steps": 2},
        "answerer": {**stage, "max_steps": 1, "batch_size": 1, "max_seq_len": 256, "save_steps": 1},
        "generation": {"batch_size": 4, "max_new_tokens": 6},
    }
