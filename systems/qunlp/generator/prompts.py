"""Chat samples for both training stages and for inference, rendered with the model's own chat template.

Stage 1: note context + question → the answer span (or a fixed "not in the note" answer).
Stage 2 and inference: patient narrative, clinician question and numbered note sentences → the clinician answer
(``clinician_answer_without_citations``). Prompts are rendered with ``enable_thinking=False`` (Qwen3 then opens
the assistant turn with an empty think block; other templates ignore the flag). Training samples carry labels
only on the answer tokens: prompt and padding labels are -100.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from harness.data.emrqa import Stage1Example
from harness.data.model import Case, CaseKey, NoteSentence
from harness.textutil import tokenize
from systems.qunlp.generator.config import PromptSection

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


# ------------------------------------------------------------------ building samples


def stage1_sample(example: Stage1Example, prompt: PromptSection) -> ChatSample:
    """An emrQA-MedSQuAD question over a window of its note; unanswerable questions get the fixed answer."""
    context = window_context(
        example.context, example.answer_start, len(example.answer_text or ""), prompt.max_context_chars
    )
    user = f"Clinical note:\n{context.strip()}\n\nQuestion: {example.question.strip()}\n\n{prompt.stage1_instruction}"
    answer = example.answer_text if example.answer_text is not None else prompt.unanswerable_answer
    return ChatSample(example.id, _messages(prompt, user), answer.strip())


def case_sample(case: Case, prompt: PromptSection, key: CaseKey | None = None) -> ChatSample:
    """A subtask-3 case; with its key, the answer is ``clinician_answer_without_citations`` (stage 2)."""
    sentences = select_note_sentences(case, prompt.max_note_words)
    note = "\n".join(f"[{s.id}] {s.text.strip()}" for s in sentences)
    user = (
        f"Patient's question:\n{(case.patient_narrative or '').strip()}\n\n"
        f"Clinician's question:\n{(case.clinician_question or '').strip()}\n\n"
        f"Clinical note sentences:\n{note}\n\n"
        "Answer the patient's question using the note."
    )
    answer = None if key is None else (key.clinician_answer_without_citations or "").strip() or None
    return ChatSample(case.case_id, _messages(prompt, user), answer)


def _messages(prompt: PromptSection, user: str) -> tuple[dict[str, str], ...]:
    return ({"role": "system", "content": prompt.system}, {"role": "user", "content": user})


def window_context(context: str, answer_start: int | None, answer_len: int, max_chars: int | None) -> str:
    """``context`` cut to at most ``max_chars`` around the answer (from the start when there is none), snapped
    inwards to line breaks or sentence ends where possible; the answer span is always kept whole."""
    if max_chars is None or len(context) <= max_chars:
        return context
    if answer_start is None:
        lo, hi, keep_lo, keep_hi = 0, max_chars, max_chars, 0
    else:
        keep_lo, keep_hi = answer_start, answer_start + answer_len
        lo = max(0, keep_lo - max(0, max_chars - answer_len) // 2)
        hi = min(len(context), max(keep_hi, lo + max_chars))
        lo = max(0, min(lo, hi - max_chars))
    if lo > 0:
        lo = _boundary_after(context, lo, keep_lo) or lo
    if hi < len(context):
        hi = _boundary_before(context, max(keep_hi, lo), hi) or hi
    return context[lo:hi].strip()


def _boundary_after(text: str, lo: int, limit: int) -> int | None:
    for mark in ("\n", ". "):
        found = text.find(mark, lo, limit)
        if found != -1:
            return found + len(mark)
    return None


def _boundary_before(text: str, floor: int, hi: int) -> int | None:
    for mark in ("\n", ". "):
        found = text.rfind(mark, floor, hi)
        if found != -1:
            return found + (1 if mark == ". " else 0)
    return None


def select_note_sentences(case: Case, max_words: int | None) -> list[NoteSentence]:
    """All note sentences, or, past ``max_words``, those sharing most words with the clinician question and the
    narrative (question words count double), listed in note order."""
    sentences = list(case.sentences or ())
    sizes = [len(s.text.split()) for s in sentences]
    if max_words is None or sum(sizes) <= max_words:
        return sentences
    question = set(tokenize(case.clinician_question or ""))
    narrative = set(tokenize(case.patient_narrative or ""))

    def score(i: int) -> int:
        words = set(tokenize(sentences[i].text))
        return 2 * len(words & question) + len(words & narrative)

    chosen: set[int] = set()
    total = 0
    for i in sorted(range(len(sentences)), key=lambda i: (-score(i), i)):
        if total + sizes[i] <= max_words:
            chosen.add(i)
            total += sizes[i]
    return [s for i, s in enumerate(sentences) if i in chosen]


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
