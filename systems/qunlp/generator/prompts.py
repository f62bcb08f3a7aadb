"""The generator's chat samples for both training stages and for inference (rendered by :mod:`systems.lora.prompts`).

Stage 1: note context + question → the answer span (or a fixed "not in the note" answer).
Stage 2 and inference: patient narrative, clinician question and numbered note sentences → the clinician answer
(``clinician_answer_without_citations``).
"""

from __future__ import annotations

from harness.data.model import Case, CaseKey, NoteSentence
from harness.textutil import tokenize
from systems.lora.prompts import ChatSample
from systems.qunlp.generator.config import PromptSection
from systems.qunlp.generator.emrqa import Stage1Example

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
