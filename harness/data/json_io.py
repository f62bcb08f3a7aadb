"""Read and write the key (``archehr-qa_key.json``) and mapping (``archehr-qa_mapping.json``) files."""

from __future__ import annotations

import codecs
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.atomic import atomic_write_text
from harness.data.model import RELEVANCE_LABELS, AnswerSentence, CaseKey, MappingEntry
from harness.errors import InputError, Problem

MAX_JSON_BYTES = 200 * 1024 * 1024


def read_json(path: str | Path) -> Any:
    """Parse a UTF-8 JSON file, with errors that name the file and the position."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise InputError.one(f"file is {size} bytes, over the {MAX_JSON_BYTES} limit", file=path)
    return parse_json_bytes(path.read_bytes(), file=str(path))


def parse_json_bytes(raw: bytes, *, file: str) -> Any:
    """Strict UTF-8 JSON (no byte-order mark: the official scorer's ``json.load`` rejects it)."""
    if raw.startswith(codecs.BOM_UTF8):
        raise InputError.one("starts with a UTF-8 byte-order mark, which the official scorer rejects", file=file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.one(
            f"not UTF-8: byte {exc.start} (0x{raw[exc.start]:02x}) cannot be decoded", file=file
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.one(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", file=file) from None
    except RecursionError:
        raise InputError.one("malformed JSON: nested too deeply", file=file) from None


def dump_json(data: Any) -> str:
    """The layout we write: 4-space indentation, non-ASCII kept, trailing newline."""
    return json.dumps(data, indent=4, ensure_ascii=False) + "\n"


def normalise_citations(raw: Any, *, file: str, case_id: str, field: str) -> tuple[str, ...]:
    """``"1,5"`` → ``("1", "5")``; ``""`` → ``()``; a list of strings stays; anything else is an error."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
        return tuple(x.strip() for x in raw if x.strip())
    raise InputError.one(
        f"citations must be a list of string ids or a comma-separated string, got {raw!r}",
        file=file,
        case_id=case_id,
        field=field,
    )


def _require_str(obj: dict, name: str, file: str, case_id: str | None, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise InputError.one(
            f"{name} must be a string, got {type(value).__name__}", file=file, case_id=case_id, field=f"{where}{name}"
        )
    return value


def load_key(path: str | Path) -> tuple[dict[str, CaseKey], str]:
    """Load a key file; returns keys by case id (file order) and its style (``"2025"`` or ``"2026"``)."""
    path = Path(path)
    file = str(path)
    data = read_json(path)
    if not isinstance(data, list):
        raise InputError.one("key must be a JSON array of cases", file=path)
    keys: dict[str, CaseKey] = {}
    problems: list[Problem] = []
    style = "2025"
    for index, entry in enumerate(data):
        try:
            if not isinstance(entry, dict):
                raise InputError.one(f"entry {index} is not an object", file=file)
            case_id = _require_str(entry, "case_id", file, None, "")
            if case_id in keys:
                raise InputError.one("duplicate case id", file=file, case_id=case_id, field="case_id")
            keys[case_id] = _parse_key_entry(entry, case_id, file)
            if "clinician_answer_sentences" in entry or "clinician_answer" in entry:
                style = "2026"
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return keys, style


def _parse_key_entry(entry: dict, case_id: str, file: str) -> CaseKey:
    answers = entry.get("answers")
    if not isinstance(answers, list):
        raise InputError.one("answers must be an array", file=file, case_id=case_id, field="answers")
    relevance: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, a in enumerate(answers):
        where = f"answers[{i}]."
        if not isinstance(a, dict):
            raise InputError.one("not an object", file=file, case_id=case_id, field=f"answers[{i}]")
        sid = _require_str(a, "sentence_id", file, case_id, where)
        rel = _require_str(a, "relevance", file, case_id, where)
        if rel not in RELEVANCE_LABELS:
            raise InputError.one(
                f"relevance {rel!r} is not one of {', '.join(RELEVANCE_LABELS)}",
                file=file,
                case_id=case_id,
                field=f"{where}relevance",
            )
        if sid in seen:
            raise InputError.one(
                f"sentence {sid} labelled twice", file=file, case_id=case_id, field=f"{where}sentence_id"
            )
        seen.add(sid)
        relevance.append((sid, rel))

    sentences = None
    raw_sentences = entry.get("clinician_answer_sentences")
    if raw_sentences is not None:
        if not isinstance(raw_sentences, list):
            raise InputError.one("must be an array", file=file, case_id=case_id, field="clinician_answer_sentences")
        items = []
        for i, s in enumerate(raw_sentences):
            where = f"clinician_answer_sentences[{i}]."
            if not isinstance(s, dict):
                raise InputError.one("not an object", file=file, case_id=case_id, field=where[:-1])
            sid = _require_str(s, "id", file, case_id, where)
            text = _require_str(s, "text", file, case_id, where)
            cites = normalise_citations(s.get("citations"), file=file, case_id=case_id, field=f"{where}citations")
            items.append(AnswerSentence(sid, text.strip(), cites))
        sentences = tuple(items)

    def optional_text(name: str) -> str | None:
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            raise InputError.one("must be a string", file=file, case_id=case_id, field=name)
        return value

    return CaseKey(
        case_id=case_id,
        relevance=tuple(relevance),  # type: ignore[arg-type]
        clinician_answer=optional_text("clinician_answer"),
        clinician_answer_without_citations=optional_text("clinician_answer_without_citations"),
        clinician_answer_sentences=sentences,
    )


def key_to_json(keys: Sequence[CaseKey]) -> str:
    """Serialise keys; 2026 fields are written only where present."""
    out = []
    for k in keys:
        entry: dict[str, Any] = {"case_id": k.case_id}
        if k.clinician_answer is not None:
            entry["clinician_answer"] = k.clinician_answer
        if k.clinician_answer_without_citations is not None:
            entry["clinician_answer_without_citations"] = k.clinician_answer_without_citations
        if k.clinician_answer_sentences is not None:
            entry["clinician_answer_sentences"] = [
                {"id": a.id, "text": a.text, "citations": list(a.citations)} for a in k.clinician_answer_sentences
            ]
        entry["answers"] = [{"sentence_id": sid, "relevance": rel} for sid, rel in k.relevance]
        out.append(entry)
    return dump_json(out)


def write_key(path: str | Path, keys: Sequence[CaseKey]) -> Path:
    return atomic_write_text(path, key_to_json(keys))


def load_mapping(path: str | Path) -> list[MappingEntry]:
    path = Path(path)
    file = str(path)
    data = read_json(path)
    if not isinstance(data, list):
        raise InputError.one("mapping must be a JSON array", file=path)
    out = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise InputError.one(f"entry {i} is not an object", file=file)
        case_id = _require_str(entry, "case_id", file, None, "")
        out.append(
            MappingEntry(
                case_id,
                _require_str(entry, "document_id", file, case_id, ""),
                _require_str(entry, "document_source", file, case_id, ""),
            )
        )
    return out


def mapping_to_json(entries: Sequence[MappingEntry]) -> str:
    return dump_json(
        [{"case_id": m.case_id, "document_id": m.document_id, "document_source": m.document_source} for m in entries]
    )


def write_mapping(path: str | Path, entries: Sequence[MappingEntry]) -> Path:
    return atomic_write_text(path, mapping_to_json(entries))
