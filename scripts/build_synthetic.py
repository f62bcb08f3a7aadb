"""Build the bundled synthetic ArchEHR-QA dataset from its case sources.

Reads ``data-src/synthetic/cases/case_NNN.json`` (format: ``data-src/synthetic/FORMAT.md``) and
writes the official files under ``harness/data/synthetic/{dev,test}/``. Every id and offset is
computed here, so they are correct by construction.

    python scripts/build_synthetic.py            # rebuild the package data
    python scripts/build_synthetic.py --check    # check the sources only
    python scripts/build_synthetic.py --out DIR  # build elsewhere (the tests compare with the shipped files)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.data.loader import write_split  # noqa: E402
from harness.data.model import (  # noqa: E402
    RELEVANCE_LABELS,
    AnswerSentence,
    Case,
    CaseKey,
    MappingEntry,
    NoteSentence,
    Phrase,
    SourceFiles,
    Split,
)

SOURCES = ROOT / "data-src" / "synthetic" / "cases"
PACKAGE_DATA = ROOT / "harness" / "data" / "synthetic"
QUESTION_TYPES = ("why", "what", "when", "medication", "procedure", "prognosis")
DEV_LAST_CASE = 20
MAX_ANSWER_WORDS = 75


def cite(text: str, citations: list[str]) -> str:
    """Put ``[a, b]`` before the sentence's final punctuation (the clinician-answer style)."""
    if not citations:
        return text
    marker = f" [{', '.join(citations)}]"
    match = re.search(r"[.!?]+$", text)
    return text[: match.start()] + marker + text[match.start() :] if match else text + marker


def check_source(src: dict, name: str) -> list[str]:
    """Every rule of FORMAT.md; returns the problems found (empty when the source is good)."""
    problems: list[str] = []
    need = [
        "case_id",
        "clinical_specialty",
        "question_type",
        "document_id",
        "patient_narrative",
        "question_phrases",
        "clinician_question",
        "note_paragraphs",
        "answer_sentences",
    ]
    missing = [k for k in need if k not in src]
    if missing:
        return [f"{name}: missing {', '.join(missing)}"]
    if src["question_type"] not in QUESTION_TYPES:
        problems.append(f"{name}: question_type {src['question_type']!r} not in {QUESTION_TYPES}")
    for phrase in src["question_phrases"]:
        if phrase not in src["patient_narrative"]:
            problems.append(f"{name}: question phrase not in the narrative: {phrase!r}")
    sentences = [s for para in src["note_paragraphs"] for s in para]
    if not 8 <= len(sentences) <= 30:
        problems.append(f"{name}: {len(sentences)} note sentences (need 8-30)")
    if not 2 <= len(src["note_paragraphs"]) <= 6:
        problems.append(f"{name}: {len(src['note_paragraphs'])} paragraphs (need 2-6)")
    labels = [s["relevance"] for s in sentences]
    for i, s in enumerate(sentences, 1):
        if s["relevance"] not in RELEVANCE_LABELS:
            problems.append(f"{name}: sentence {i} has relevance {s['relevance']!r}")
        if "\n" in s["text"] or not s["text"].strip() or s["text"] != s["text"].strip():
            problems.append(f"{name}: sentence {i} is empty, padded or holds a newline")
    if labels.count("essential") < 1 or labels.count("not-relevant") < 2:
        problems.append(f"{name}: needs >=1 essential and >=2 not-relevant sentences")
    cited: set[int] = set()
    for j, answer in enumerate(src["answer_sentences"], 1):
        for c in answer["citations"]:
            if not isinstance(c, int) or not 1 <= c <= len(sentences):
                problems.append(f"{name}: answer sentence {j} cites {c!r}, not a sentence number")
            elif labels[c - 1] == "not-relevant":
                problems.append(f"{name}: answer sentence {j} cites not-relevant sentence {c}")
            else:
                cited.add(c)
    uncited = [i for i, lab in enumerate(labels, 1) if lab == "essential" and i not in cited]
    if uncited:
        problems.append(f"{name}: essential sentence(s) {uncited} never cited")
    words = sum(len(a["text"].split()) for a in src["answer_sentences"])
    if words > MAX_ANSWER_WORDS:
        problems.append(f"{name}: answer has {words} words (max {MAX_ANSWER_WORDS})")
    return problems


def build_case(src: dict) -> tuple[Case, CaseKey, MappingEntry]:
    """One source → the case (XML side), its key and its mapping entry."""
    case_id = str(src["case_id"])
    narrative = src["patient_narrative"]
    phrases = tuple(Phrase(str(i), narrative.index(p), p) for i, p in enumerate(src["question_phrases"]))
    paragraphs: list[str] = []
    sentences: list[NoteSentence] = []
    relevance: list[tuple[str, str]] = []
    for pid, para in enumerate(src["note_paragraphs"]):
        offset = 0
        for s in para:
            sid = str(len(sentences) + 1)
            sentences.append(NoteSentence(sid, str(pid), offset, s["text"]))
            relevance.append((sid, s["relevance"]))
            offset += len(s["text"]) + 1
        paragraphs.append(" ".join(s["text"] for s in para))
    answers = tuple(
        AnswerSentence(str(j), a["text"], tuple(str(c) for c in a["citations"]))
        for j, a in enumerate(src["answer_sentences"], 1)
    )
    case = Case(
        case_id=case_id,
        patient_narrative=narrative,
        phrases=phrases,
        clinician_question=src["clinician_question"],
        note_excerpt="\n\n".join(paragraphs),
        sentences=tuple(sentences),
        clinical_specialty=src["clinical_specialty"],
        answer_sentences=tuple(AnswerSentence(a.id, a.text) for a in answers),
    )
    key = CaseKey(
        case_id=case_id,
        relevance=tuple(relevance),  # type: ignore[arg-type]
        clinician_answer=" ".join(cite(a.text, list(a.citations)) for a in answers),
        clinician_answer_without_citations=" ".join(a.text for a in answers),
        clinician_answer_sentences=answers,
    )
    return case, key, MappingEntry(case_id, src["document_id"], "synthetic")


def load_sources(folder: Path = SOURCES) -> list[dict]:
    sources = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("case_*.json"))]
    return sorted(sources, key=lambda s: int(s["case_id"]))


def build(out: Path, sources: list[dict]) -> list[Path]:
    """Write ``dev`` (cases 1-20) and ``test`` (21 and up) under ``out``."""
    built = [build_case(s) for s in sources]
    written = []
    for name, keep in (("dev", lambda n: n <= DEV_LAST_CASE), ("test", lambda n: n > DEV_LAST_CASE)):
        chosen = [b for b in built if keep(int(b[0].case_id))]
        split = Split(
            name=name,
            cases=tuple(b[0] for b in chosen),
            keys={b[1].case_id: b[1] for b in chosen},
            mapping=tuple(b[2] for b in chosen),
            source=SourceFiles(None, True, "2026"),
        )
        written.append(write_split(split, out / name))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="check the sources, write nothing")
    parser.add_argument("--out", type=Path, default=PACKAGE_DATA, help="output folder (default: the package data)")
    args = parser.parse_args(argv)
    sources = load_sources()
    problems = [p for s in sources for p in check_source(s, f"case {s.get('case_id', '?')}")]
    ids = [int(s["case_id"]) for s in sources]
    if len(set(ids)) != len(ids):
        problems.append("duplicate case ids among the sources")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    if args.check:
        print(f"{len(sources)} case sources ok", file=sys.stderr)
        return 0
    for folder in build(args.out, sources):
        print(f"wrote {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
