"""The settings every QLoRA system shares: base model, 4-bit quantisation, LoRA, a training stage, generation.

A system's config (a frozen dataclass read by :mod:`harness.config`) holds these sections and satisfies
:class:`QLoRAConfig`, which is all the library's loading, training and generation code reads. Light: no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class ModelSection:
    name: str = "SmolLM2-135M-Instruct"  # display name, recorded in cards
    asset: str | None = "smollm2-135m-gguf"  # a harness asset (`archehr assets status`); a .gguf is converted once
    path: str | None = None  # a local Hugging Face model folder; overrides ``asset``
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"  # dtype of the unquantised parts
    attn_implementation: str | None = None  # None: the transformers default (sdpa)
    num_threads: int | None = None  # CPU threads for torch; None: torch's default (all cores)


@dataclass(frozen=True)
class QuantizationSection:
    load_in_4bit: bool = True
    quant_type: Literal["nf4", "fp4"] = "nf4"
    double_quant: bool = True
    compute_dtype: Literal["float32", "bfloat16", "float16"] = "float32"


@dataclass(frozen=True)
class LoraSection:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"  # every linear projection except the output head


@dataclass(frozen=True)
class StageSection:
    data: str | None = None  # stage 1: corpus file/folder or "synthetic"; stage 2: unused (TrainOptions data/split)
    data_env: str | None = None  # stage 1: environment variable holding the corpus path when ``data`` is null
    limit: int | None = None  # stage 1: number of samples (first N of the corpus)
    # stage 1: a bad answer span stops training ("error") or its question is left out and reported ("skip")
    bad_spans: Literal["error", "skip"] = "error"
    init_adapter: str | None = None  # stage 2: adapter to continue from (default: OUT/stage1/adapter)
    max_steps: int = -1  # > 0 overrides ``epochs``
    epochs: float = 1.0
    learning_rate: float = 2e-4
    batch_size: int = 4
    grad_accum: int = 1
    warmup: float = 0.03  # < 1: a fraction of the steps
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_seq_len: int = 1024
    optim: str = "adamw_torch"
    gradient_checkpointing: bool = False
    logging_steps: int = 10
    save_steps: int = 100
    save_total_limit: int = 2


@dataclass(frozen=True)
class GenerationSection:
    backend: Literal["hf", "vllm"] = "hf"
    batch_size: int = 8
    max_new_tokens: int = 160
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    dequantize: bool = False  # generate with the NF4 weights dequantised once (faster on CPU; more memory)
    max_words: int = 75
    fallback: str = "The note does not give enough information to answer this question; please ask your care team."
    vllm_gpu_memory_utilization: float = 0.85
    vllm_max_model_len: int = 4096


class QLoRAConfig(Protocol):
    """What :mod:`systems.lora` reads from a system's config."""

    name: str
    seed: int
    model: ModelSection
    quantization: QuantizationSection
    lora: LoraSection
    generation: GenerationSection

    def stage(self, stage: str) -> StageSection:
        """The training section of ``stage`` ("1", "2")."""
        ...

    def to_json(self) -> dict[str, Any]:
        """The whole config, recorded in adapter cards."""
        ...

    def training_identity(self) -> dict[str, Any]:
        """Settings outside the shared sections that change what a stage learns (part of its training hash)."""
        ...
