"""Turn a raw model output into a subtask-3 answer: no thinking, no citation markers, at most 75 words, never empty."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.textutil import cut_words, split_sentences

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<think>.*", re.DOTALL | re.IGNORECASE)  # unterminated: the budget ran out while thinking
_THINK_CLOSE = re.compile(r"^.*</think>", re.DOTALL | re.IGNORECASE)  # stray closes: drop all before the last
_SPECIAL_TOKEN = re.compile(r"<\|[^|<>]{1,40}\|>")  # chat-template tokens such as <|im_end|>

_ID = r"(?:S|sent(?:ence)?s?\.?\s*)?\s*\d+"
_ID_LIST = rf"{_ID}(?:\s*(?:[,;]|-|–|and)\s*{_ID})*"
_CITATION = re.compile(
    rf"\[\s*{_ID_LIST}\s*\]"  # [1, 2]  [S3]  [1-3]
    rf"|\|\s*{_ID_LIST}\s*\|"  # |1,2|
    rf"|\(\s*(?:S\s*\d+|sent(?:ence)?s?\.?\s*\d+)(?:\s*(?:[,;]|-|–|and)\s*{_ID})*\s*\)",  # (S3)  (sentences 2, 4)
    re.IGNORECASE,
)
_ANSWER_LABEL = re.compile(r"^\s*(?:\*\*)?\s*answer\s*:\s*(?:\*\*)?\s*", re.IGNORECASE)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_ORPHAN_COMMA = re.compile(r"[,;]\s*(?=[.,;:!?])")  # "pressure [6], [7]." leaves ", ."


@dataclass(frozen=True)
class CleanAnswer:
    """The answer to submit, and what post-processing did to get it."""

    text: str
    words: int
    cut: str | None  # None; "sentence"/"word": cut to max_words there; "unfinished": a budget-cut sentence dropped
    fallback: bool


def strip_thinking(text: str) -> str:
    """Remove ``<think>…</think>`` blocks, an unterminated ``<think>`` tail and anything before a stray ``</think>``."""
    text = _THINK_BLOCK.sub(" ", text)
    text = _THINK_CLOSE.sub(" ", text)
    return _THINK_OPEN.sub(" ", text)


def strip_citations(text: str) -> str:
    """Remove citation markers in the ``[1, 2]``, ``|1,2|`` and ``(S3)`` styles, and tidy the spacing they leave."""
    while True:  # removing a marker can close another one ("[1[2]]")
        stripped = _CITATION.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return _ORPHAN_COMMA.sub("", text)


def normalise(text: str) -> str:
    """One paragraph: special tokens and an ``Answer:`` label removed, whitespace (newlines included) collapsed."""
    text = _SPECIAL_TOKEN.sub(" ", text)
    text = " ".join(text.split())
    return _ANSWER_LABEL.sub("", text).strip()


def cut_to_words(text: str, limit: int) -> tuple[str, str | None]:
    """At most ``limit`` whitespace words: whole sentences where one fits, else the official word cut."""
    if len(text.split()) <= limit:
        return text, None
    kept: list[str] = []
    count = 0
    for sentence in split_sentences(text):
        n = len(sentence.split())
        if count + n > limit:
            break
        kept.append(sentence)
        count += n
    if kept:
        return " ".join(kept), "sentence"
    return cut_words(text, limit), "word"


def drop_unfinished_sentence(text: str) -> str:
    """``text`` without a trailing sentence cut off by the token budget, when a complete sentence precedes it."""
    if not text or text[-1] in ".!?\"')":
        return text
    sentences = split_sentences(text)
    return " ".join(sentences[:-1]) if len(sentences) > 1 else text


def clean_answer(raw: str, *, max_words: int = 75, fallback: str, finished: bool = True) -> CleanAnswer:
    """The full post-processing chain; ``fallback`` (itself cut to ``max_words``) replaces an empty result.

    ``finished=False`` (generation stopped at the token budget, not at end of turn) drops the unfinished last
    sentence where a complete one precedes it.
    """
    # special tokens go first: removing one can close a citation marker ("| 7 <|im_end|> |")
    text = normalise(strip_citations(_SPECIAL_TOKEN.sub(" ", strip_thinking(raw))))
    text = text.strip(" \"'`")  # stray quotes around the whole answer
    if not any(ch.isalnum() for ch in text):
        text, cut = cut_to_words(normalise(fallback), max_words)
        return CleanAnswer(text, len(text.split()), cut, True)
    cut = None
    if not finished:
        shorter = drop_unfinished_sentence(text)
        cut, text = ("unfinished" if shorter != text else None), shorter
    text, word_cut = cut_to_words(text, max_words)
    return CleanAnswer(text, len(text.split()), word_cut or cut, False)
