"""Small text helpers shared by systems and the scorer: lexical tokens, sentence splitting, word cuts, bad text."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

STOPWORDS = frozenset(
    """a an and are as at be been but by did do does for from had has have he her his i if in is it its me
    my of on or our she so that the their them there they this to was we were what when where which who
    why will with would you your""".split()  # noqa: SIM905
)


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens without stopwords (for BM25 and TF-IDF)."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def split_sentences(text: str) -> list[str]:
    """A light rule-based splitter (after ``.!?`` followed by space, and at newlines)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def cut_words(text: str, limit: int) -> str:
    """The first ``limit`` whitespace tokens, rejoined with single spaces (the official length rule)."""
    words = text.split()
    return " ".join(words[:limit]) if len(words) > limit else text


def lone_surrogate(text: str) -> str | None:
    """Why ``text`` is not valid Unicode, or ``None``: ``json.load`` accepts an escaped lone surrogate (``"\\ud800"``).

    Pairs were already combined by the JSON decoder, so any surrogate code point left is a lone one; the official
    scorers crash on it. The message names the code point, never prints it.
    """
    match = _LONE_SURROGATE.search(text)
    if match is None:
        return None
    return (
        f"lone surrogate U+{ord(match.group(0)):04X} at character {match.start()} is not valid Unicode;"
        " the official scorers crash on it"
    )


_CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, 0x0D, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)])


def strip_control(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` without terminal control characters (escape sequences lose their ESC and cannot act)."""
    table = _CONTROL if keep_newlines else {**_CONTROL, 0x0A: None, 0x09: None}
    return text.translate(table)
