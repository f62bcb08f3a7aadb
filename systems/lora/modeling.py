"""Load the tokenizer and the base model (4-bit NF4 through bitsandbytes) and attach LoRA adapters with peft."""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from systems.lora.config import QLoRAConfig, QuantizationSection, StageSection

if TYPE_CHECKING:
    import torch
    from peft import PeftModel
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)


def torch_dtype(name: str) -> torch.dtype:
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def load_tokenizer(model_dir: Path) -> PreTrainedTokenizerBase:
    """The base model's tokenizer, with a pad token (the end-of-sequence token when it has none).

    Loaded once per process and folder (a Qwen3 tokenizer takes over a second to parse): callers share it, so
    they pass ``padding_side`` with each call instead of relying on the attribute.
    """
    return _load_tokenizer(str(Path(model_dir).resolve()))


@functools.lru_cache(maxsize=4)
def _load_tokenizer(model_dir: str) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"the tokenizer in {model_dir} has no chat template; QLoRA systems need an instruct model")
    return tokenizer


def bnb_config(quant: QuantizationSection) -> Any:
    """The bitsandbytes config (None when 4-bit loading is off)."""
    if not quant.load_in_4bit:
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quant.quant_type,
        bnb_4bit_use_double_quant=quant.double_quant,
        bnb_4bit_compute_dtype=torch_dtype(quant.compute_dtype),
    )


def device_map(config: QLoRAConfig) -> Any:
    """One whole model per process: the CPU, or this process's GPU (``accelerate launch`` starts one per GPU)."""
    device = config.model.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return {"": "cpu"}
    from accelerate import PartialState

    return {"": PartialState().local_process_index}


def load_base_model(config: QLoRAConfig, model_dir: Path, *, training: StageSection | None = None) -> PreTrainedModel:
    """The base model, quantised as configured; prepared for k-bit training when a ``training`` stage is given."""
    from transformers import AutoModelForCausalLM

    if config.model.num_threads:
        import torch

        torch.set_num_threads(config.model.num_threads)
    kwargs: dict[str, Any] = {"dtype": torch_dtype(config.model.dtype), "device_map": device_map(config)}
    quantization = bnb_config(config.quantization)
    if quantization is not None:
        kwargs["quantization_config"] = quantization
    if config.model.attn_implementation:
        kwargs["attn_implementation"] = config.model.attn_implementation
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    if training is not None:
        model.config.use_cache = False
        if quantization is not None:
            from peft import prepare_model_for_kbit_training

            model = prepare_model_for_kbit_training(
                model,
                use_gradient_checkpointing=training.gradient_checkpointing,
                gradient_checkpointing_kwargs={"use_reentrant": False},
            )
        elif training.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
    return model


def attach_adapter(
    config: QLoRAConfig, model: PreTrainedModel, adapter_dir: Path | None, *, trainable: bool
) -> PeftModel:
    """A new LoRA adapter on every linear projection, or the adapter saved in ``adapter_dir``."""
    from peft import LoraConfig, PeftModel, get_peft_model

    if adapter_dir is not None:
        return PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=trainable)
    lora = LoraConfig(
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=config.lora.target_modules,
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def adapter_weights_sha256(model: PeftModel) -> str:
    """sha256 over the adapter's tensors (names, shapes, dtypes, bytes), as ``save_pretrained`` would write them."""
    from peft import get_peft_model_state_dict

    digest = hashlib.sha256()
    state = get_peft_model_state_dict(model)
    for name in sorted(state):
        tensor = state[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{tuple(tensor.shape)}|{tensor.dtype}\n".encode())
        digest.update(tensor.view(-1).view(dtype=_byte_dtype()).numpy().tobytes())
    return digest.hexdigest()


def _byte_dtype() -> torch.dtype:
    import torch

    return torch.uint8
