"""Read and write the official case XML (``archehr-qa.xml``), 2025 and 2026 layouts.

Reading follows ARCHEHR_SPEC §1: defusedxml (no entities, no DTD tricks), every text
node stripped, phrase offsets checked against the stripped narrative, ids kept as
strings, unknown elements ignored. Writing emits the official pretty-printed layout
(4-space indentation, text nodes on their own lines), so a file we wrote loads and
writes back byte for byte.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from harness.atomic import atomic_write_text
from harness.data.model import AnswerSentence, Case, NoteSentence, Phrase
from harness.errors import InputError, Problem

MAX_XML_BYTES = 200 * 1024 * 1024
XML_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>"
_INDENT = "    "


def read_xml_bytes(path: Path) -> bytes:
    """Read a file's bytes, refusing absurd sizes and bytes that are not UTF-8."""
    size = path.stat().st_size
    if size > MAX_XML_BYTES:
        raise InputError.one(f"file is {size} bytes, over the {MAX_XML_BYTES} limit", file=path)
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.one(f"not UTF-8: byte {exc.start} cannot be decoded", file=path) from None
    return data


def load_cases_xml(path: str | Path) -> tuple[list[Case], bool]:
    """Load the cases of an ``archehr-qa.xml`` file; returns the cases and whether it had an XML declaration."""
    path = Path(path)
    data = read_xml_bytes(path)
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InputError.one(f"unsafe XML refused ({type(exc).__name__}: {exc})", file=path) from None
    except ET.ParseError as exc:
        raise InputError.one(f"malformed XML: {exc}", file=path) from None
    if root.tag != "annotations":
        raise InputError.one(f"root element is <{root.tag}>, expected <annotations>", file=path)

    problems: list[Problem] = []
    cases: list[Case] = []
    seen: set[str] = set()
    for index, node in enumerate(root.findall("case")):
        case_id = node.get("id")
        if case_id is None or not case_id.strip():
            problems.append(Problem(f"<case> number {index + 1} has no id attribute", str(path), None, "id"))
            continue
        if case_id in seen:
            problems.append(Problem("duplicate case id", str(path), case_id, "id"))
            continue
        seen.add(case_id)
        try:
            cases.append(_parse_case(node, case_id, str(path)))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return cases, data.lstrip().startswith(b"<?xml")


def _text(node: ET.Element | None) -> str | None:
    if node is None:
        return None
    return (node.text or "").strip()


def _int_attr(node: ET.Element, name: str, file: str, case_id: str, field_name: str) -> int:
    raw = node.get(name)
    if raw is None or not raw.strip().lstrip("-").isdigit():
        raise InputError.one(f"{name}={raw!r} is not an integer", file=file, case_id=case_id, field=field_name)
    return int(raw)


def _required_id(node: ET.Element, file: str, case_id: str, field_name: str) -> str:
    value = node.get("id")
    if value is None or not value.strip():
        raise InputError.one("missing id attribute", file=file, case_id=case_id, field=field_name)
    return value


def _parse_case(node: ET.Element, case_id: str, file: str) -> Case:
    narrative = _text(node.find("patient_narrative"))
    phrases: tuple[Phrase, ...] | None = None
    pq = node.find("patient_question")
    if pq is not None:
        items = []
        for p in pq.findall("phrase"):
            pid = _required_id(p, file, case_id, "patient_question/phrase")
            start = _int_attr(p, "start_char_index", file, case_id, f"patient_question/phrase[{pid}]")
            items.append(Phrase(pid, start, _text(p) or ""))
        phrases = tuple(items)
        _check_phrase_offsets(phrases, narrative, file, case_id)

    sentences: tuple[NoteSentence, ...] | None = None
    ns = node.find("note_excerpt_sentences")
    if ns is not None:
        items_s = []
        for s in ns.findall("sentence"):
            sid = _required_id(s, file, case_id, "note_excerpt_sentences/sentence")
            para = s.get("paragraph_id")
            if para is None:
                raise InputError.one(
                    "missing paragraph_id attribute",
                    file=file,
                    case_id=case_id,
                    field=f"note_excerpt_sentences/sentence[{sid}]",
                )
            start = _int_attr(s, "start_char_index", file, case_id, f"note_excerpt_sentences/sentence[{sid}]")
            items_s.append(NoteSentence(sid, para, start, _text(s) or ""))
        ids = [s.id for s in items_s]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise InputError.one(
                f"duplicate sentence id(s) {', '.join(dup)}", file=file, case_id=case_id, field="note_excerpt_sentences"
            )
        sentences = tuple(items_s)

    answers: tuple[AnswerSentence, ...] | None = None
    an = node.find("answer_sentences")
    if an is not None:
        answers = tuple(
            AnswerSentence(_required_id(a, file, case_id, "answer_sentences/sentence"), _text(a) or "")
            for a in an.findall("sentence")
        )

    return Case(
        case_id=case_id,
        patient_narrative=narrative,
        phrases=phrases,
        clinician_question=_text(node.find("clinician_question")),
        note_excerpt=_text(node.find("note_excerpt")),
        sentences=sentences,
        clinical_specialty=_text(node.find("clinical_specialty")),
        answer_sentences=answers,
    )


def _check_phrase_offsets(phrases: Sequence[Phrase], narrative: str | None, file: str, case_id: str) -> None:
    if not phrases:
        return
    if narrative is None:
        raise InputError.one(
            "phrases given but no <patient_narrative>", file=file, case_id=case_id, field="patient_question"
        )
    problems = []
    for p in phrases:
        found = narrative[p.start_char_index : p.start_char_index + len(p.text)]
        if p.start_char_index < 0 or found != p.text:
            problems.append(
                Problem(
                    f"start_char_index {p.start_char_index} points at {found[:40]!r}, not the phrase {p.text[:40]!r}",
                    file,
                    case_id,
                    f"patient_question/phrase[{p.id}]",
                )
            )
    if problems:
        raise InputError(problems)


# ---------------------------------------------------------------- writing


def _block(tag: str, text: str, depth: int, attrs: str = "") -> str:
    indent = _INDENT * depth
    return f"{indent}<{tag}{attrs}>\n{escape(text)}\n{indent}</{tag}>\n"


def cases_to_xml(cases: Sequence[Case], *, xml_declaration: bool = True) -> str:
    """Serialise cases in the official pretty-printed layout."""
    out = [XML_DECLARATION + "\n"] if xml_declaration else []
    out.append("<annotations>\n")
    for case in cases:
        out.append(f"{_INDENT}<case id={quoteattr(case.case_id)}>\n")
        if case.clinical_specialty is not None:
            out.append(_block("clinical_specialty", case.clinical_specialty, 2))
        if case.patient_narrative is not None:
            out.append(_block("patient_narrative", case.patient_narrative, 2))
        if case.phrases is not None:
            out.append(f"{_INDENT * 2}<patient_question>\n")
            for p in case.phrases:
                attrs = f" id={quoteattr(p.id)} start_char_index={quoteattr(str(p.start_char_index))}"
                out.append(_block("phrase", p.text, 3, attrs))
            out.append(f"{_INDENT * 2}</patient_question>\n")
        if case.clinician_question is not None:
            out.append(_block("clinician_question", case.clinician_question, 2))
        if case.note_excerpt is not None:
            out.append(_block("note_excerpt", case.note_excerpt, 2))
        if case.sentences is not None:
            out.append(f"{_INDENT * 2}<note_excerpt_sentences>\n")
            for s in case.sentences:
                attrs = (
                    f" id={quoteattr(s.id)} paragraph_id={quoteattr(s.paragraph_id)}"
                    f" start_char_index={quoteattr(str(s.start_char_index))}"
                )
                out.append(_block("sentence", s.text, 3, attrs))
            out.append(f"{_INDENT * 2}</note_excerpt_sentences>\n")
        if case.answer_sentences is not None:
            out.append(f"{_INDENT * 2}<answer_sentences>\n")
            for a in case.answer_sentences:
                out.append(_block("sentence", a.text, 3, f" id={quoteattr(a.id)}"))
            out.append(f"{_INDENT * 2}</answer_sentences>\n")
        out.append(f"{_INDENT}</case>\n")
    out.append("</annotations>\n")
    return "".join(out)


def write_cases_xml(path: str | Path, cases: Sequence[Case], *, xml_declaration: bool = True) -> Path:
    """Write cases atomically in the official layout."""
    return atomic_write_text(path, cases_to_xml(cases, xml_declaration=xml_declaration))
