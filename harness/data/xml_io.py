"""Read and write the official case XML (``archehr-qa.xml``), 2025 and 2026 layouts.

Reading follows ARCHEHR_SPEC §1: defusedxml (no entities, no DTD tricks), every text
node stripped, phrase offsets checked against the stripped narrative, ids kept as
strings, unknown elements ignored. Writing emits the official pretty-printed layout
(4-space indentation, text nodes on their own lines), so a file we wrote loads and
writes back byte for byte.
"""

from __future__ import annotations

import codecs
import re
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


#: Byte-order marks and the first bytes of ``<?`` or ``<a`` in each encoding we refuse (XML spec, appendix F).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian, with byte-order mark)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian, with byte-order mark)"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian, with byte-order mark)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian, with byte-order mark)"),
)
_WIDE_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"<\x00\x00\x00", "UTF-32 (little-endian, no byte-order mark)"),
    (b"\x00\x00\x00<", "UTF-32 (big-endian, no byte-order mark)"),
    (b"<\x00", "UTF-16 (little-endian, no byte-order mark)"),
    (b"\x00<", "UTF-16 (big-endian, no byte-order mark)"),
)
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8_NAMES = {"utf-8", "utf8"}
#: Bytes XML 1.0 forbids anywhere (tab, newline and carriage return are allowed).
_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CASE_OPEN = re.compile(rb"""<case\b[^>]*?\bid\s*=\s*["']([^"']*)["']""")
_TAG = re.compile(r"<(/?)([A-Za-z_][\w.:-]*)([^<>]*?)(/?)>")
_ID_ATTR = re.compile(r"""\bid\s*=\s*["']([^"']*)["']""")
RESAVE = "re-save it as UTF-8"


def sniff_encoding(data: bytes) -> str | None:
    """The name of a non-UTF-8 encoding ``data`` is in or declares, or ``None`` when it is (meant as) UTF-8."""
    for bom, name in _BOMS:  # UTF-32 marks first: the UTF-32-LE mark starts with the UTF-16-LE one
        if data.startswith(bom):
            return name
    for prefix, name in _WIDE_PREFIXES:
        if data.startswith(prefix):
            return name
    declared = _DECLARED.match(data.removeprefix(codecs.BOM_UTF8))
    if declared and declared.group(1).decode("ascii").lower() not in _UTF8_NAMES:
        return f"{declared.group(1).decode('ascii')} (as its XML declaration says)"
    return None


def _case_at(data: bytes, offset: int) -> str | None:
    """The id of the ``<case>`` open at byte ``offset``, if any."""
    found = None
    for match in _CASE_OPEN.finditer(data, 0, offset):
        found = match
    return None if found is None else found.group(1).decode("utf-8", "replace")


def read_xml_bytes(path: Path) -> bytes:
    """Read a file's bytes, refusing absurd sizes, encodings other than UTF-8 and bytes XML forbids."""
    size = path.stat().st_size
    if size > MAX_XML_BYTES:
        raise InputError.one(f"file is {size} bytes, over the {MAX_XML_BYTES} limit", file=path)
    data = path.read_bytes()
    encoding = sniff_encoding(data)
    if encoding is not None:
        raise InputError.one(f"file is encoded as {encoding}, not UTF-8; {RESAVE}", file=path)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.one(f"not UTF-8: byte {exc.start} cannot be decoded; {RESAVE}", file=path) from None
    bad = _FORBIDDEN.search(data)
    if bad is not None:
        what = "a NUL byte" if bad.group() == b"\x00" else f"control character 0x{bad.group()[0]:02x}"
        raise InputError.one(
            f"{what} at byte offset {bad.start()}, which XML does not allow; remove it",
            file=path,
            case_id=_case_at(data, bad.start()),
        )
    return data


def _open_elements(text: str) -> list[str]:
    """The elements still open at the end of ``text`` (outermost first), as ``tag`` or ``tag id="…"``."""
    stack: list[tuple[str, str]] = []
    for match in _TAG.finditer(text):
        closing, tag, attrs, empty = match.groups()
        if empty:
            continue
        if closing:
            names = [name for name, _ in stack]
            if tag in names:
                del stack[len(names) - 1 - names[::-1].index(tag) :]
            continue
        ident = _ID_ATTR.search(attrs)
        stack.append((tag, tag if ident is None else f'{tag} id="{ident.group(1)}"'))
    return [label for _, label in stack]


def _parse_error(path: Path, data: bytes, exc: ET.ParseError) -> InputError:
    """A message for malformed XML: a file that ends early says what is left open; others name line and case."""
    text = data.decode("utf-8")
    if not text.rstrip().endswith("</annotations>"):
        still_open = _open_elements(text)
        if still_open:
            unclosed = " ".join(f"<{e}>" for e in still_open)
            case = next((e.split('"')[1] for e in reversed(still_open) if e.startswith("case ")), None)
            return InputError.one(
                f"file ends before </annotations>; unclosed: {unclosed} (truncated? copy the file again)",
                file=path,
                case_id=case,
            )
    line, column = exc.position
    offset = sum(len(raw) for raw in data.splitlines(keepends=True)[: line - 1]) + column
    return InputError.one(f"malformed XML: {exc}", file=path, case_id=_case_at(data, offset))


def load_cases_xml(path: str | Path) -> tuple[list[Case], bool]:
    """Load the cases of an ``archehr-qa.xml`` file; returns the cases and whether it had an XML declaration."""
    path = Path(path)
    data = read_xml_bytes(path)
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InputError.one(f"unsafe XML refused ({type(exc).__name__}: {exc})", file=path) from None
    except ET.ParseError as exc:
        raise _parse_error(path, data, exc) from None
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
        if not items_s:
            raise InputError.one(
                "<note_excerpt_sentences> holds no <sentence>",
                file=file,
                case_id=case_id,
                field="note_excerpt_sentences",
            )
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
