"""Chat samples rendered with the model's own chat template, and encoded for training with answer-only labels.

Prompts are rendered with ``enable_thinking=False`` (Qwen3 then opens the assistant turn with an empty think
block; other templates ignore the flag). Training samples carry labels only on the answer tokens: prompt and
padding labels are -100.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

IGNORE_INDEX = -100
_MIN_ANSWER_TOKENS = 8  # a sample whose prompt leaves fewer answer tokens than this is dropped


@dataclass(frozen=True)
class ChatSample:
    """One conversation: system and user messages, and the assistant answer to learn (None at inference)."""

    id: str
    messages: tuple[dict[str, str], ...]
    answer: str | None = None


@dataclass(frozen=True)
class EncodedSample:
    input_ids: list[int]
    labels: list[int]

    def as_features(self) -> dict[str, list[int]]:
        return {"input_ids": self.input_ids, "attention_mask": [1] * len(self.input_ids), "labels": self.labels}


def samples_sha256(samples: Iterable[ChatSample]) -> str:
    """A hash of the training samples' text (ids, messages, answers), independent of the tokenizer."""
    digest = hashlib.sha256()
    for sample in samples:
        digest.update(json.dumps(asdict(sample), sort_keys=True, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


# ------------------------------------------------------------------ rendering and encoding


def render_prompt(tokenizer: PreTrainedTokenizerBase, sample: ChatSample) -> str:
    """The prompt text up to and including the assistant turn's opening (what generation continues)."""
    return _template(tokenizer, list(sample.messages), add_generation_prompt=True)


def completion_text(tokenizer: PreTrainedTokenizerBase, sample: ChatSample, prompt_text: str) -> str:
    """The assistant turn after ``prompt_text``: the answer and the template's end-of-turn marker."""
    assert sample.answer is not None
    full = _template(tokenizer, [*sample.messages, {"role": "assistant", "content": sample.answer}], False)
    if full.startswith(prompt_text) and sample.answer in full[len(prompt_text) :]:
        return full[len(prompt_text) :]
    logger.debug("chat template renders the answer turn differently from the generation prompt; using answer + eos")
    return sample.answer + (tokenizer.eos_token or "")


def encode_sample(tokenizer: PreTrainedTokenizerBase, sample: ChatSample, max_seq_len: int) -> EncodedSample | None:
    """Token ids and labels (-100 on the prompt); None when the prompt leaves no room for the answer."""
    prompt_text = render_prompt(tokenizer, sample)
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(completion_text(tokenizer, sample, prompt_text), add_special_tokens=False)["input_ids"]
    room = max_seq_len - len(prompt_ids)
    if room < min(_MIN_ANSWER_TOKENS, len(answer_ids)):
        return None
    answer_ids = answer_ids[:room]
    return EncodedSample(prompt_ids + answer_ids, [IGNORE_INDEX] * len(prompt_ids) + answer_ids)


def encode_samples(
    tokenizer: PreTrainedTokenizerBase, samples: Sequence[ChatSample], max_seq_len: int
) -> tuple[list[EncodedSample], int]:
    """Encode ``samples``; returns the encoded ones and how many were dropped as too long."""
    encoded = [encode_sample(tokenizer, s, max_seq_len) for s in samples]
    kept = [e for e in encoded if e is not None]
    dropped = len(encoded) - len(kept)
    if dropped:
        logger.warning(
            "%d of %d samples dropped: their prompt exceeds max_seq_len=%d", dropped, len(encoded), max_seq_len
        )
    return kept, dropped


def _template(tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, Any]], add_generation_prompt: bool) -> str:
    text = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt, enable_thinking=False
    )
    assert isinstance(text, str)
    return text
