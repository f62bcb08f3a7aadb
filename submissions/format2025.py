"""The 2025 answer string: writer, the official parser reproduced exactly, and a pitfall linter.

One answer sentence per line, ending in pipe citations: ``Sentence text. |2,3|``. The official parsing rules
(quirks included) are specified in docs/scoring.md ("The 2025 answer"); the linter reports every way an answer
can silently lose citations, and as errors what the official scorer refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from harness.data.model import AnswerSentence
from harness.errors import InputError, Problem
from harness.tasks import get_task
from submissions.formats import describe_ids

_SENTENCE_END = (".", "!", "?")
_BRACKET_CITATION = re.compile(r"\[\s*\d+(?:\s*[,;\-–]\s*\d+)*\s*\]")
_FIELD = "answer"
#: The 2025 answer limit (words split on single spaces, citations kept), from the task registry.
WORD_LIMIT_2025: int = get_task("2025").max_words or 0


@dataclass(frozen=True)
class ParsedLine:
    """One non-blank line as the official scorer reads it."""

    line_number: int
    raw: str
    sentence: str
    citations: tuple[str, ...]
    has_citation_group: bool
    group: str = ""  # the raw text between the last two pipes, blank items included


@dataclass(frozen=True)
class ParsedAnswer:
    """A 2025 answer as the official scorer reads it.

    ``citations`` keeps the non-blank raw items in order, duplicates and stray spaces included; ``answer_text``
    is cut to :data:`WORD_LIMIT_2025` non-blank words of ``split(" ")``; ``word_count`` counts those words.
    """

    answer_text: str
    citations: tuple[str, ...]
    lines: tuple[ParsedLine, ...]
    word_count: int
    truncated: bool


@dataclass(frozen=True)
class AnswerLint:
    """Problems of one 2025 answer: errors fail the official scorer, warnings lose citations silently."""

    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


def format_answer_2025(
    sentences: Iterable[AnswerSentence | tuple[str, Sequence[str]]], *, case_id: str | None = None
) -> str:
    """Write answer sentences as the 2025 answer string (one per line, ``text |1,2|``, no spaces in the pipes).

    Whitespace inside a sentence is collapsed; duplicate citations are dropped; a sentence
    without citations is written without a pipe group. Text holding ``|`` and citations holding
    whitespace, ``,`` or ``|`` cannot be written faithfully and are refused.
    """
    lines: list[str] = []
    problems: list[Problem] = []
    for index, item in enumerate(sentences):
        text, cites = (item.text, item.citations) if isinstance(item, AnswerSentence) else item
        where = f"{_FIELD}[{index}]"
        clean = " ".join(text.split())
        if not clean:
            problems.append(Problem("empty answer sentence", None, case_id, where))
            continue
        if "|" in clean:
            problems.append(
                Problem("sentence text holds '|', which the 2025 parser would misread", None, case_id, where)
            )
            continue
        items = list(dict.fromkeys(str(c).strip() for c in cites))
        bad = [c for c in items if not c or any(ch.isspace() or ch in ",|" for ch in c)]
        if bad:
            problems.append(Problem(f"citation(s) {bad!r} cannot be written as pipe citations", None, case_id, where))
            continue
        lines.append(f"{clean} |{','.join(items)}|" if items else clean)
    if problems:
        raise InputError(problems)
    return "\n".join(lines)


def parse_answer_2025(answer: str) -> ParsedAnswer:
    """Parse an answer exactly as the official 2025 scorer does (docs/scoring.md, "The 2025 answer")."""
    lines: list[ParsedLine] = []
    sentences: list[str] = []
    citations: list[str] = []
    for number, raw in enumerate(answer.split("\n"), start=1):
        if not raw.strip():
            continue
        parts = raw.rsplit("|", 2)
        if len(parts) < 3:
            sentence, cites, group = raw.strip(), (), None
        else:
            # items are not stripped (" 2" never matches), but blank items are dropped
            sentence, group = parts[-3].strip(), parts[-2]
            cites = tuple(c for c in group.split(",") if c.strip())
        if sentence and not sentence.endswith(_SENTENCE_END):
            sentence += "."
        lines.append(ParsedLine(number, raw, sentence, cites, group is not None, group or ""))
        if sentence:  # a citation-only line adds no text
            sentences.append(sentence)
        citations.extend(cites)
    text = " ".join(sentences)
    words = [w for w in text.split(" ") if w.strip()]
    truncated = len(words) > WORD_LIMIT_2025
    if truncated:
        text = " ".join(words[:WORD_LIMIT_2025])
    return ParsedAnswer(text, tuple(citations), tuple(lines), len(words), truncated)


def lint_answer_2025(
    answer: str,
    *,
    sentence_ids: Collection[str] | None = None,
    file: str | None = None,
    case_id: str | None = None,
) -> AnswerLint:
    """Errors and warnings for one 2025 answer string; ``sentence_ids`` (when known) checks the citations."""
    parsed = parse_answer_2025(answer)
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def warn(message: str) -> None:
        warnings.append(Problem(message, file, case_id, _FIELD))

    if not parsed.lines:
        return AnswerLint(
            (Problem("empty answer: the official scorer refuses the whole submission", file, case_id, _FIELD),)
        )
    if not parsed.citations:
        errors.append(
            Problem(
                "no citations at all: the official 2025 scorer stops on it ('No citations found') and scores"
                " nothing; end each sentence with pipe citations like 'Text. |1,2|'",
                file,
                case_id,
                _FIELD,
            )
        )
    if not parsed.answer_text:
        errors.append(
            Problem(
                "no answer text: every line holds only citations, and the official 2025 scorer's BLEU divides by"
                " zero on an empty answer",
                file,
                case_id,
                _FIELD,
            )
        )
    for line in parsed.lines:
        at = f"line {line.line_number}"
        if line.has_citation_group and not line.sentence and parsed.answer_text:
            warn(f"{at}: only citations on this line; it adds no text (its citations count)")
        for match in _BRACKET_CITATION.finditer(line.raw):
            warn(f"{at}: bracket citation {match.group(0)} is read as words, not citations; end the line with |…|")
        pipes = line.raw.count("|")
        if pipes >= 4:
            warn(
                f"{at}: {pipes // 2} pipe groups on one line; only the last, |{_shown(line.group)}|, counts"
                " and the earlier ones become part of the sentence text"
            )
        elif pipes in (1, 3):
            warn(f"{at}: {pipes} '|' character(s); pipe citations need one opening and one closing '|'")
        if not line.has_citation_group:
            if parsed.citations and not _BRACKET_CITATION.search(line.raw):
                warn(f"{at}: no citations on this line")
            continue
        trailing = line.raw.rsplit("|", 2)[-1].strip()
        if trailing:
            warn(f"{at}: text after the closing pipe ({trailing[:40]!r}) is ignored by the scorer")
        _lint_citation_items(line, at, sentence_ids, warn)
    if parsed.truncated:
        warn(f"{parsed.word_count} words; the scorer keeps the first {WORD_LIMIT_2025} (citations are kept)")
    return AnswerLint(tuple(errors), tuple(warnings))


def _lint_citation_items(
    line: ParsedLine, at: str, sentence_ids: Collection[str] | None, warn: Callable[[str], None]
) -> None:
    spaced = [c for c in line.citations if c != c.strip()]
    if spaced:
        shown = ", ".join(repr(c) for c in spaced)
        fixed = ",".join(c.strip() for c in line.group.split(",") if c.strip())
        warn(
            f"{at}: spaces in |{_shown(line.group)}| make the scorer read {shown}, which match no sentence;"
            f" write |{_shown(fixed)}|"
        )
    if any(not c.strip() for c in line.group.split(",")):
        warn(f"{at}: empty citation item in |{_shown(line.group)}| (the scorer drops it)")
    if sentence_ids is not None:
        unknown = [c.strip() for c in line.citations if c.strip() and c.strip() not in sentence_ids]
        if unknown:
            known = describe_ids(sentence_ids)
            warn(
                f"{at}: cites {', '.join(map(_shown, unknown))}, not a sentence of this case (sentences: {known});"
                " it never matches"
            )


def _shown(text: str) -> str:
    """``text`` with control characters escaped (``\\t``), safe to print on a terminal."""
    return repr(text)[1:-1] if not text.isprintable() else text
