"""Load the stage-1 fine-tuning corpus: emrQA-MedSQuAD (emrQA in SQuAD v2 form) or the packaged synthetic stand-in.

The real corpus is credentialed n2c2 data and never enters the repository; point :func:`load_stage1_corpus`
at your own copy. Accepted layouts, for a file or for every matching file under a folder:

* nested SQuAD v2 JSON: ``{"version", "data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}``;
* flat rows (Hugging Face ``datasets`` layout) as a JSON array (``.json``), JSON Lines (``.jsonl``,
  ``.ndjson``, or a ``.json`` file holding one object per line) or parquet (``.parquet``, needs pyarrow):
  ``{"id", "title", "context", "question", "answers": {"text": [...], "answer_start": [...]}}``.

Empty answer lists mark unanswerable questions. Every answer span is checked against its context.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, InputError, Problem

logger = logging.getLogger(__name__)

SYNTHETIC_STAGE1 = Path(__file__).resolve().parent / "synthetic_emrqa" / "emrqa-medsquad-synthetic.json"
"""The packaged synthetic corpus (invented notes; see ``synthetic_emrqa/DATA_CARD.md``)."""

SYNTHETIC_NAME = "synthetic"
"""Passing this string (not a ``Path``) to :func:`load_stage1_corpus` loads :data:`SYNTHETIC_STAGE1`."""

STAGE1_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}

_PREVIEW = 60


@dataclass(frozen=True)
class Stage1Example:
    """One extractive question over a note; ``answer_text``/``answer_start`` are ``None`` when unanswerable."""

    id: str
    context: str
    question: str
    answer_text: str | None
    answer_start: int | None

    @property
    def answerable(self) -> bool:
        return self.answer_text is not None


@dataclass(frozen=True)
class BadSpan:
    """A question whose answer span does not check out (what the readers yield in its place)."""

    problem: Problem


class BadSpanError(InputError):
    """A bad answer span under the ``"error"`` policy (``bad_spans="skip"`` leaves such questions out)."""


class MissingDependencyError(HarnessError, ImportError):
    """An optional dependency (pyarrow, for parquet) is not installed."""


BAD_SPAN_POLICIES = ("error", "skip")


@dataclass(frozen=True)
class Stage1Corpus:
    """Loaded stage-1 examples, and the questions left out for a bad answer span (``bad_spans="skip"``)."""

    examples: list[Stage1Example]
    skipped: list[Problem]


def load_stage1_corpus(path: str | Path, limit: int | None = None) -> list[Stage1Example]:
    """Load stage-1 examples from a file or a folder, checking every answer span; a bad span is an error.

    ``path`` is a ``.json``/``.jsonl``/``.ndjson``/``.parquet`` file, a folder (its matching files are read
    recursively in sorted relative-path order; hidden files are skipped), or the string ``"synthetic"`` for the
    packaged synthetic corpus. Order is deterministic: files in that order, rows in file order.

    ``limit`` keeps the first ``limit`` examples in that order (answerable or not) and stops reading there, so
    rows after them are neither read nor validated; ``None`` loads everything.

    When a question has several answers, all are checked and the first is kept. Rows without an ``id`` get
    ``"<file stem>-<row index>"``. Raises :class:`InputError` (naming file, row and field) on bad input and
    :class:`MissingDependencyError` for parquet without pyarrow.
    """
    return read_stage1_corpus(path, limit).examples


def read_stage1_corpus(path: str | Path, limit: int | None = None, *, bad_spans: str = "error") -> Stage1Corpus:
    """:func:`load_stage1_corpus`, with a policy for bad answer spans (a text that is not at its
    ``answer_start`` in the context, an empty text, a bad offset): ``"error"`` stops at the first, ``"skip"``
    leaves the question out and reports it (each one logged, and listed in :attr:`Stage1Corpus.skipped`).
    The real emrQA has such spans. Every other problem (a missing field, a malformed file) is still an error.
    Skipped questions do not count toward ``limit``."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    if bad_spans not in BAD_SPAN_POLICIES:
        raise ValueError(f"bad_spans must be one of {', '.join(BAD_SPAN_POLICIES)}, got {bad_spans!r}")
    root = SYNTHETIC_STAGE1 if isinstance(path, str) and path == SYNTHETIC_NAME else Path(path)
    corpus = Stage1Corpus([], [])
    skipped = corpus.skipped if bad_spans == "skip" else None
    examples = corpus.examples
    if limit == 0:
        return corpus
    for file in _corpus_files(root):
        with closing(_read_file(file, skipped)) as reader:  # closes a half-read JSONL/parquet file at the limit
            for example in reader:
                examples.append(example)
                if limit is not None and len(examples) >= limit:
                    break
        if limit is not None and len(examples) >= limit:
            break
    duplicates = sum(n - 1 for n in Counter(e.id for e in examples).values() if n > 1)
    if duplicates:
        logger.warning("%s: %d example ids occur more than once", root, duplicates)
    for problem in corpus.skipped:
        logger.warning("skipped (bad answer span): %s", problem)
    unanswerable = sum(1 for e in examples if not e.answerable)
    logger.info(
        "loaded %d stage-1 examples (%d unanswerable, %d skipped for a bad answer span) from %s",
        len(examples),
        unanswerable,
        len(corpus.skipped),
        root,
    )
    return corpus


def _corpus_files(root: Path) -> list[Path]:
    if root.is_file():
        if root.suffix.lower() not in STAGE1_SUFFIXES:
            raise InputError.one(f"unsupported file type; expected one of {', '.join(STAGE1_SUFFIXES)}", file=root)
        return [root]
    if root.is_dir():
        found = [
            p
            for p in root.rglob("*")
            if p.is_file()
            and p.suffix.lower() in STAGE1_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        ]
        if not found:
            raise InputError.one(f"no {', '.join(STAGE1_SUFFIXES)} files in this folder", file=root)
        return sorted(found, key=lambda p: p.relative_to(root).as_posix())
    raise InputError.one("no such file or folder", file=root)


def _read_file(file: Path, skipped: list[Problem] | None) -> Generator[Stage1Example, None, None]:
    """The file's examples; with ``skipped`` a list, questions with a bad answer span go there instead."""
    kind = STAGE1_SUFFIXES[file.suffix.lower()]
    if kind == "parquet":
        examples = _flat_examples(_parquet_rows(file), file)
    elif kind == "jsonl":
        examples = _flat_examples(_jsonl_rows(file), file)
    else:
        examples = _json_examples(file)
    for example in examples:
        if isinstance(example, BadSpan):
            if skipped is None:
                raise BadSpanError([example.problem])
            skipped.append(example.problem)
        else:
            yield example


# --------------------------------------------------------------------------------------------------------------------
# Readers: each yields (row index, row label for errors, row)
# --------------------------------------------------------------------------------------------------------------------


def _json_examples(file: Path) -> Iterator[Stage1Example | BadSpan]:
    text = _decode(file.read_bytes(), file)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _first_line_is_object(text):  # JSON Lines under a .json name (datasets' to_json)
            yield from _flat_examples(_jsonl_rows(file), file)
            return
        raise InputError.one(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", file=file) from None
    if isinstance(data, list):
        yield from _flat_examples(((i, f"row {i}", row) for i, row in enumerate(data)), file)
    elif isinstance(data, dict) and "data" in data:
        yield from _squad_examples(data, file)
    else:
        raise InputError.one(
            "expected a JSON array of rows or a SQuAD object with a 'data' array, got "
            + ("an object without 'data'" if isinstance(data, dict) else type(data).__name__),
            file=file,
        )


def _first_line_is_object(text: str) -> bool:
    first = text.lstrip().split("\n", 1)[0]
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False


def _decode(raw: bytes, file: Path, case_id: str | None = None) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.one(f"not UTF-8: byte {exc.start} cannot be decoded", file=file, case_id=case_id) from None


def _jsonl_rows(file: Path) -> Iterator[tuple[int, str, Any]]:
    index = 0
    with file.open("rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            label = f"line {lineno}"
            line = _decode(raw, file, label).strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError.one(
                    f"malformed JSON: {exc.msg} at column {exc.colno}", file=file, case_id=label
                ) from None
            yield index, label, row
            index += 1


def _parquet_rows(file: Path) -> Iterator[tuple[int, str, Any]]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise MissingDependencyError(
            f"{file}: reading parquet needs pyarrow, which is not installed; run: pip install pyarrow"
        ) from exc
    index = 0
    try:
        for batch in pyarrow.parquet.ParquetFile(file).iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                yield index, f"row {index}", row
                index += 1
    except (OSError, pyarrow.ArrowException) as exc:
        raise InputError.one(f"cannot read parquet: {exc}", file=file, case_id=f"row {index}") from None


# --------------------------------------------------------------------------------------------------------------------
# Row checks
# --------------------------------------------------------------------------------------------------------------------


def _flat_examples(rows: Iterator[tuple[int, str, Any]], file: Path) -> Iterator[Stage1Example | BadSpan]:
    for index, label, row in rows:
        if not isinstance(row, dict):
            raise InputError.one(f"row must be an object, got {type(row).__name__}", file=file, case_id=label)
        row_id = _optional_id(row.get("id"), file, label, "id")
        case = row_id if row_id is not None else label
        context = _required_str(row, "context", file, case, "context")
        question = _required_str(row, "question", file, case, "question")
        if "answers" not in row or row["answers"] is None:
            raise InputError.one("missing field", file=file, case_id=case, field="answers")
        raw = row["answers"]
        if isinstance(raw, dict):
            answers = _columnar_answers(raw, file, case)
        elif isinstance(raw, list):
            answers = _listed_answers(raw, file, case, "answers")
        else:
            raise InputError.one(
                f"must be an object {{'text': [...], 'answer_start': [...]}}, got {type(raw).__name__}",
                file=file,
                case_id=case,
                field="answers",
            )
        yield _example(row_id or f"{file.stem}-{index}", context, question, answers, file, case)


def _squad_examples(data: dict, file: Path) -> Iterator[Stage1Example | BadSpan]:
    articles = data["data"]
    if not isinstance(articles, list):
        raise InputError.one("must be an array of articles", file=file, field="data")
    for a, article in enumerate(articles):
        where = f"data[{a}]"
        if not isinstance(article, dict):
            raise InputError.one("article must be an object", file=file, case_id=where)
        paragraphs = article.get("paragraphs")
        if not isinstance(paragraphs, list):
            raise InputError.one("must be an array", file=file, case_id=where, field="paragraphs")
        for p, paragraph in enumerate(paragraphs):
            pwhere = f"{where}.paragraphs[{p}]"
            if not isinstance(paragraph, dict):
                raise InputError.one("paragraph must be an object", file=file, case_id=pwhere)
            context = _required_str(paragraph, "context", file, pwhere, "context")
            qas = paragraph.get("qas")
            if not isinstance(qas, list):
                raise InputError.one("must be an array", file=file, case_id=pwhere, field="qas")
            for q, qa in enumerate(qas):
                qwhere = f"{pwhere}.qas[{q}]"
                if not isinstance(qa, dict):
                    raise InputError.one("question must be an object", file=file, case_id=qwhere)
                qa_id = _optional_id(qa.get("id"), file, qwhere, "id")
                case = qa_id if qa_id is not None else qwhere
                question = _required_str(qa, "question", file, case, "question")
                raw = qa.get("answers", [])
                if not isinstance(raw, list):
                    raise InputError.one("must be an array", file=file, case_id=case, field="answers")
                answers = _listed_answers(raw, file, case, "answers")
                impossible = qa.get("is_impossible")
                if impossible is not None:
                    if not isinstance(impossible, bool):
                        raise InputError.one("must be true or false", file=file, case_id=case, field="is_impossible")
                    if impossible == bool(answers):
                        state = "true but answers are given" if impossible else "false but there are no answers"
                        raise InputError.one(
                            f"is_impossible is {state}", file=file, case_id=case, field="is_impossible"
                        )
                yield _example(qa_id or f"{file.stem}-{a}-{p}-{q}", context, question, answers, file, case)


_Answer = tuple[Any, Any, str, str]  # text, start, text field, start field


def _columnar_answers(raw: dict, file: Path, case: str) -> list[_Answer]:
    for key in ("text", "answer_start"):
        if key not in raw:
            raise InputError.one("missing field", file=file, case_id=case, field=f"answers.{key}")
        if not isinstance(raw[key], list):
            raise InputError.one(
                f"must be a list, got {type(raw[key]).__name__}", file=file, case_id=case, field=f"answers.{key}"
            )
    texts, starts = raw["text"], raw["answer_start"]
    if len(texts) != len(starts):
        raise InputError.one(
            f"{len(texts)} texts but {len(starts)} answer_start values", file=file, case_id=case, field="answers"
        )
    return [
        (t, s, f"answers.text[{i}]", f"answers.answer_start[{i}]")
        for i, (t, s) in enumerate(zip(texts, starts, strict=True))
    ]


def _listed_answers(raw: list, file: Path, case: str, where: str) -> list[_Answer]:
    answers = []
    for i, answer in enumerate(raw):
        if not isinstance(answer, dict):
            raise InputError.one("answer must be an object", file=file, case_id=case, field=f"{where}[{i}]")
        for key in ("text", "answer_start"):
            if key not in answer:
                raise InputError.one("missing field", file=file, case_id=case, field=f"{where}[{i}].{key}")
        answers.append((answer["text"], answer["answer_start"], f"{where}[{i}].text", f"{where}[{i}].answer_start"))
    return answers


def _example(
    example_id: str, context: str, question: str, answers: list[_Answer], file: Path, case: str
) -> Stage1Example | BadSpan:
    for text, start, text_field, start_field in answers:
        problem = _span_problem(context, text, start, text_field, start_field)
        if problem is not None:
            return BadSpan(Problem(problem[0], str(file), case, problem[1]))
    if not answers:
        return Stage1Example(example_id, context, question, None, None)
    return Stage1Example(example_id, context, question, answers[0][0], answers[0][1])


def _span_problem(context: str, text: Any, start: Any, text_field: str, start_field: str) -> tuple[str, str] | None:
    """(message, field) of what is wrong with one answer span, or None."""
    if not isinstance(text, str) or not text:
        return (
            f"answer text must be a non-empty string, got {text!r} (unanswerable questions have no answers)",
            text_field,
        )
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        return f"must be a non-negative integer, got {start!r}", start_field
    found = context[start : start + len(text)]
    if found != text:
        return (
            f"answer {_preview(text)} does not match the context at {start}, which reads {_preview(found)}",
            start_field,
        )
    return None


def _optional_id(value: Any, file: Path, case: str, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InputError.one(
        f"must be a non-empty string or an integer, got {value!r}", file=file, case_id=case, field=field
    )


def _required_str(obj: dict, key: str, file: Path, case: str, field: str) -> str:
    if key not in obj:
        raise InputError.one("missing field", file=file, case_id=case, field=field)
    value = obj[key]
    if not isinstance(value, str):
        raise InputError.one(f"must be a string, got {type(value).__name__}", file=file, case_id=case, field=field)
    return value


def _preview(text: str) -> str:
    return repr(text if len(text) <= _PREVIEW else text[:_PREVIEW] + "...")
