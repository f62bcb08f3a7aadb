"""Text generation with transformers ``generate`` (batched, left padding, greedy unless sampling is configured).

A backend turns rendered prompts into raw completions; post-processing is the system's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from systems.lora.config import QLoRAConfig

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completion:
    """A raw completion; ``finished`` is False when generation stopped at the token budget."""

    text: str
    finished: bool
    token_ids: tuple[int, ...] = ()


class Backend(Protocol):
    def generate(self, prompts: Sequence[str]) -> list[Completion]:
        """Raw completions of ``prompts``, in order."""
        ...


def end_of_turn_ids(tokenizer: PreTrainedTokenizerBase, model: Any) -> list[int]:
    """Token ids that end an answer: the tokenizer's eos, ``<|im_end|>`` if known, the model's eos ids."""
    ids: list[int] = []
    candidates: list[Any] = [tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")]
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    candidates += configured if isinstance(configured, list) else [configured]
    for value in candidates:
        if isinstance(value, int) and value >= 0 and value != tokenizer.unk_token_id and value not in ids:
            ids.append(value)
    return ids


class HFBackend:
    """Batched ``model.generate`` with left padding; greedy (deterministic) unless sampling is configured."""

    def __init__(self, config: QLoRAConfig, model: Any, tokenizer: PreTrainedTokenizerBase) -> None:
        from transformers import GenerationConfig

        self.config = config.generation
        self.seed = config.seed
        self.model = model.eval()
        self.tokenizer = tokenizer
        sampling = {"temperature": self.config.temperature, "top_p": self.config.top_p} if self.config.do_sample else {}
        self.generation_config = GenerationConfig(
            max_new_tokens=self.config.max_new_tokens,
            do_sample=self.config.do_sample,
            repetition_penalty=self.config.repetition_penalty,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=end_of_turn_ids(tokenizer, model),
            **sampling,
        )

    def generate(self, prompts: Sequence[str]) -> list[Completion]:
        """Completions in batches of ``generation.batch_size``, prompts of similar length together."""
        import torch

        if self.config.do_sample:
            torch.manual_seed(self.seed)
        stop = set(self.generation_config.eos_token_id)
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        results: dict[int, Completion] = {}
        size = self.config.batch_size
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            encoded = self.tokenizer(
                [prompts[i] for i in chunk],
                return_tensors="pt",
                padding=True,
                padding_side="left",  # generation continues every row from its last token
                add_special_tokens=False,
            ).to(self.model.device)
            with torch.inference_mode():
                output = self.model.generate(**encoded, generation_config=self.generation_config)
            for i, row in zip(chunk, output[:, encoded["input_ids"].shape[1] :].tolist(), strict=True):
                text = self.tokenizer.decode(row, skip_special_tokens=True)
                results[i] = Completion(text, any(t in stop for t in row), tuple(row))
        return [results[i] for i in range(len(prompts))]
