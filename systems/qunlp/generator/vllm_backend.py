"""Optional vLLM backend (the ``vllm`` extra): the base model served by vLLM with the LoRA adapter attached.

Imported only when ``generation.backend: vllm`` is chosen; fails with one line when vLLM is not installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from systems.lora.basemodel import GeneratorSetupError
from systems.lora.generation import Completion
from systems.qunlp.generator.config import GeneratorConfig

INSTALL_HINT = (
    "generation.backend=vllm needs vLLM and a CUDA GPU: pip install 'archehr-harness[vllm]' "
    "(or use generation.backend=hf)"
)


class VLLMBackend:
    """Greedy (temperature 0) or sampled generation through ``vllm.LLM`` with a ``LoRARequest``."""

    def __init__(self, config: GeneratorConfig, model_dir: Path, adapter_dir: Path | None) -> None:
        try:
            import vllm
            from vllm.lora.request import LoRARequest
        except ImportError as exc:
            raise GeneratorSetupError(INSTALL_HINT) from exc
        generation = config.generation
        kwargs = {
            "model": str(model_dir),
            "dtype": config.model.dtype,
            "seed": config.seed,
            "gpu_memory_utilization": generation.vllm_gpu_memory_utilization,
            "max_model_len": generation.vllm_max_model_len,
            "enable_lora": adapter_dir is not None,
        }
        if adapter_dir is not None:
            kwargs["max_lora_rank"] = config.lora.r
        if config.quantization.load_in_4bit:
            kwargs["quantization"] = "bitsandbytes"  # vLLM quantises to NF4 on load, like the training setup
        self.llm = vllm.LLM(**kwargs)
        self.lora = LoRARequest("qunlp", 1, str(adapter_dir)) if adapter_dir is not None else None
        self.params = vllm.SamplingParams(
            temperature=generation.temperature if generation.do_sample else 0.0,
            top_p=generation.top_p if generation.do_sample else 1.0,
            max_tokens=generation.max_new_tokens,
            repetition_penalty=generation.repetition_penalty,
            seed=config.seed,
        )

    def generate(self, prompts: Sequence[str]) -> list[Completion]:
        outputs = self.llm.generate(list(prompts), self.params, lora_request=self.lora, use_tqdm=False)
        return [
            Completion(o.outputs[0].text, o.outputs[0].finish_reason != "length", tuple(o.outputs[0].token_ids))
            for o in outputs
        ]
