"""Generation backends of the generator: transformers ``generate`` (default, :class:`systems.lora.generation.HFBackend`)
and vLLM (optional)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from systems.lora.generation import Backend, HFBackend
from systems.qunlp.generator.config import GeneratorConfig

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


def make_backend(
    config: GeneratorConfig, model_dir: Path, adapter_dir: Path | None, tokenizer: PreTrainedTokenizerBase
) -> Backend:
    if config.generation.backend == "vllm":
        from systems.qunlp.generator.vllm_backend import VLLMBackend

        return VLLMBackend(config, model_dir, adapter_dir)
    from systems.lora.modeling import attach_adapter, load_base_model

    model = load_base_model(config, model_dir)
    if config.generation.dequantize and config.quantization.load_in_4bit:
        model = model.dequantize()  # the NF4 values as float32 weights: same outputs, no per-step dequantisation
    if adapter_dir is not None:
        model = attach_adapter(config, model, adapter_dir, trainable=False)
    return HFBackend(config, model, tokenizer)
