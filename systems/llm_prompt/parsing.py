"""Parse and validate model outputs per subtask; ``None`` means "invalid, ask again".

Reasoning blocks (``<think>…</think>``, as Qwen3 writes them) are dropped before parsing."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from harness.textutil import cut_words

_LABEL = re.compile(
    r"^\s*(?:clinician question|patient message|question|answer|rewritten question)\s*:\s*", re.IGNORECASE
)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_CITATION = re.compile(r"\s*\|\s*\d+(?:\s*,\s*\d+)*\s*\|")
_ANSWER_END = re.compile(r"[\s.,;:!)`*]*")
# |3| or |2,5| anywhere; [3] or (3) only inline (at a line start it is an echoed note's sentence tag)
_BARS = re.compile(r"(?:\||(?<=[^\s])[ \t]?[\[(])\s*(\d+(?:\s*[,;]\s*\d+)*)\s*[|\])]")


def strip_reasoning(raw: str) -> str:
    """The reply without ``<think>`` blocks (an unclosed one runs to the end)."""
    return _THINK.sub("", raw).strip()


def clean_text(raw: str, limit: int, *, first_line: bool = False) -> str | None:
    """The reply without a leading label, quotes or citation marks (only its first line with ``first_line``),
    whitespace collapsed and cut to ``limit`` words; ``None`` when nothing is left."""
    text = strip_reasoning(raw)
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    text = _LABEL.sub("", text).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    text = lines[0] if first_line else " ".join(lines)
    text = _CITATION.sub("", text)
    text = " ".join(text.split()).strip("\"'“” ")
    text = _LABEL.sub("", text).strip()
    return cut_words(text, limit) if text else None


def _json_values(raw: str, opener: str) -> list[Any]:
    """Every JSON value starting at an ``opener`` character of ``raw`` that parses and ends its line (bar
    closing punctuation), first ones first."""
    decoder = json.JSONDecoder()
    text = strip_reasoning(raw)
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    found = []
    for match in re.finditer(re.escape(opener), text):
        try:
            value, end = decoder.raw_decode(text[match.start() :])
        except json.JSONDecodeError:
            continue
        rest_of_line = text[match.start() + end :].split("\n", 1)[0]
        if _ANSWER_END.fullmatch(rest_of_line):  # "[1] HPI: …" is a sentence tag (an echoed note), not a reply
            found.append(value)
    return found


def _as_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip().strip("[]|")
    return None


def parse_id_list(raw: str, known: Sequence[str]) -> list[str] | None:
    """A JSON list of note sentence ids (numbers or strings); ``[]`` is valid. Unknown ids are dropped, but a
    list naming only unknown ids is invalid. Falls back to a bare ``1, 4, 7`` reply."""
    valid = set(known)
    candidates = [v for v in _json_values(raw, "[") if isinstance(v, list)]
    bare = strip_reasoning(raw)
    if not candidates and re.fullmatch(r"[\s\d,;]+", bare or "x"):
        candidates = [re.findall(r"\d+", bare)]
    for value in candidates:
        ids = [i for i in (_as_id(v) for v in value) if i is not None]
        kept = [i for i in dict.fromkeys(ids) if i in valid]
        if kept or not value:
            return kept
    return None


def parse_cited_answer(raw: str, known: Sequence[str]) -> list[str] | None:
    """The note sentence ids an answer cites as ``|3|``, ``|2,5|``, ``[4]`` or ``(4)``; none cited is invalid."""
    valid = set(known)
    raw = strip_reasoning(raw)
    cited = [i for group in _BARS.findall(raw) for i in re.findall(r"\d+", group)]
    kept = [i for i in dict.fromkeys(cited) if i in valid]
    return kept or None


def parse_alignment(raw: str, answer_ids: Sequence[str], known: Sequence[str]) -> dict[str, list[str]] | None:
    """Links per answer sentence, from ``{"1": ["3"]}`` or ``[{"answer_id": "1", "evidence_id": ["3"]}]``.

    Valid when at least one answer id is recognised; answer sentences it leaves out get no links."""
    valid = set(known)
    answers = set(answer_ids)
    for value in _json_values(raw, "{") + _json_values(raw, "["):
        pairs: list[tuple[Any, Any]] = []
        if isinstance(value, dict) and "answer_id" not in value:
            pairs = list(value.items())
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value) and value:
            pairs = [(v.get("answer_id"), v.get("evidence_id", [])) for v in value]
        out: dict[str, list[str]] = {}
        for key, evidence in pairs:
            answer_id = _as_id(key)
            if answer_id not in answers:
                continue
            items = evidence if isinstance(evidence, list) else [evidence]
            ids = [i for i in (_as_id(e) for e in items) if i is not None and i in valid]
            out[answer_id] = list(dict.fromkeys(ids))
        if out:
            return out
    return None
