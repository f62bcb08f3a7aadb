"""The FHIR track's data folder, its loader, and its view as harness splits.

Layout (``archehr fhir data build`` writes it; users may write their own)::

    DATA/
      fhir-dataset.json           manifest: how the folder was made (generator, seed, versions, counts)
      bundles/<record_id>.json    one FHIR R4 Bundle (or .ndjson) per patient; Synthea output works as is
      <split>/questions.json      [{"question_id", "record_id", "question", "clinician_question"?,
                                    "category"?, "relevant_ids"?, "answer"?, "facts"?}]
      <split>/archehr-qa.xml      the harness view of the split (written by ``fhir data build``), so that
      <split>/archehr-qa_key.json   ``archehr train/run --data DATA --split <split>`` work unchanged

One question is one harness case: the patient's wording is the narrative, the clinical wording the
clinician question, and each record item one numbered "note sentence" whose id is the resource id
(``Observation/…``), one paragraph per item. Relevant ids are labelled ``essential``, the others
``not-relevant``; the reference answer is the clinician answer. The ``fhir`` commands always read
``bundles/`` and ``questions.json``; the view is derived, and rebuilt by ``fhir data build``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fhirqa.bundle import CLINICAL_TYPES, load_records
from fhirqa.model import Fact, FhirDataset, FhirQuestion, PatientRecord
from harness import __version__
from harness.atomic import atomic_write_text
from harness.data import Case, CaseKey, NoteSentence, Split, write_split
from harness.data.json_io import dump_json, read_json
from harness.data.model import SourceFiles
from harness.errors import InputError, Problem

logger = logging.getLogger(__name__)

MANIFEST_FILE = "fhir-dataset.json"
BUNDLES_DIR = "bundles"
QUESTIONS_FILE = "questions.json"
DATASET_SCHEMA_VERSION = 1


# ----------------------------------------------------------------------------- questions files


def read_questions(path: str | Path) -> list[FhirQuestion]:
    """Read a questions file (a JSON array); every problem is reported with the question id and field."""
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, list):
        raise InputError.one("a questions file must be a JSON array", file=path)
    out: list[FhirQuestion] = []
    problems: list[Problem] = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            problems.append(Problem("not an object", str(path), None, f"[{i}]"))
            continue
        qid = entry.get("question_id")
        where = qid if isinstance(qid, str) else None
        bad = [
            name
            for name in ("question_id", "record_id", "question")
            if not isinstance(entry.get(name), str) or not entry[name].strip()
        ]
        bad += [name for name in ("clinician_question", "category", "answer") if not _optional_str(entry.get(name))]
        ids = entry.get("relevant_ids")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(x, str) for x in ids)):
            bad.append("relevant_ids")
        facts = entry.get("facts") or []
        if not (isinstance(facts, list) and all(_is_fact(f) for f in facts)):
            bad.append("facts")
        if bad:
            problems += [Problem("missing or of the wrong type", str(path), where, f"[{i}].{b}") for b in bad]
            continue
        out.append(
            FhirQuestion(
                question_id=entry["question_id"],
                record_id=entry["record_id"],
                question=entry["question"].strip(),
                clinician_question=entry.get("clinician_question"),
                category=entry.get("category"),
                relevant_ids=None if ids is None else tuple(dict.fromkeys(ids)),
                answer=entry.get("answer"),
                facts=tuple(Fact(f["id"], f["text"]) for f in facts),
            )
        )
    if problems:
        raise InputError(problems)
    return out


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_fact(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str) and isinstance(value.get("text"), str)


def write_questions(path: str | Path, questions: Sequence[FhirQuestion]) -> Path:
    return atomic_write_text(path, dump_json([q.to_json() for q in questions]))


def check_questions(
    questions: Iterable[FhirQuestion], records: Mapping[str, PatientRecord], file: str | None = None
) -> list[Problem]:
    """Problems that make questions unusable: unknown record, relevant ids or fact ids not in the record."""
    problems = []
    for q in questions:
        record = records.get(q.record_id)
        if record is None:
            problems.append(Problem(f"no bundle for record {q.record_id}", file, q.question_id, "record_id"))
            continue
        ids = set(record.item_ids())
        for rid in q.relevant_ids or ():
            if rid not in ids:
                problems.append(
                    Problem(f"{rid} is not a resource of record {q.record_id}", file, q.question_id, "relevant_ids")
                )
        for fact in q.facts:
            if fact.item_id not in ids:
                problems.append(Problem(f"fact cites {fact.item_id}, not in the record", file, q.question_id, "facts"))
    return problems


# ----------------------------------------------------------------------------- the folder


def load_fhir_dataset(root: str | Path, *, types: Iterable[str] = CLINICAL_TYPES) -> FhirDataset:
    """Load ``root/bundles`` and every ``root/<split>/questions.json``; all problems are reported together."""
    root = Path(root).expanduser()
    if not (root / BUNDLES_DIR).is_dir():
        raise InputError.one(f"no {BUNDLES_DIR}/ folder here (is this a FHIR track data folder?)", file=root)
    records = load_records(root / BUNDLES_DIR, types=types)
    splits: dict[str, tuple[FhirQuestion, ...]] = {}
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in sorted(root.glob(f"*/{QUESTIONS_FILE}")):
        questions = read_questions(path)
        problems += check_questions(questions, records, str(path))
        for q in questions:
            if q.question_id in seen:
                problems.append(
                    Problem(
                        f"question id also used in split {seen[q.question_id]}", str(path), q.question_id, "question_id"
                    )
                )
            seen[q.question_id] = path.parent.name
        splits[path.parent.name] = tuple(questions)
    if problems:
        raise InputError(problems)
    if not splits:
        raise InputError.one(f"no <split>/{QUESTIONS_FILE} here", file=root)
    manifest_path = root / MANIFEST_FILE
    manifest = read_json(manifest_path) if manifest_path.is_file() else {}
    return FhirDataset(records, splits, str(root), manifest if isinstance(manifest, dict) else {})


def write_dataset(
    out: str | Path,
    bundles: Mapping[str, str],
    splits: Mapping[str, Sequence[FhirQuestion]],
    manifest: Mapping[str, Any],
    *,
    types: Iterable[str] = CLINICAL_TYPES,
) -> FhirDataset:
    """Write bundles (file text by file name), question splits, the manifest and the harness view; returns
    the dataset as loaded back from disk."""
    out = Path(out)
    for name, text in bundles.items():
        atomic_write_text(out / BUNDLES_DIR / Path(name).name, text)
    for name, questions in splits.items():
        write_questions(out / name / QUESTIONS_FILE, questions)
    full = {
        "schema_version": DATASET_SCHEMA_VERSION,
        "harness_version": __version__,
        **manifest,
        "splits": {name: len(qs) for name, qs in splits.items()},
        "records": len(bundles),
    }
    atomic_write_text(out / MANIFEST_FILE, dump_json(full))
    dataset = load_fhir_dataset(out, types=types)
    write_view(dataset)
    return dataset


def write_view(dataset: FhirDataset) -> None:
    """Write each split's harness view (``archehr-qa.xml`` and, when annotated, the key) next to its questions."""
    assert dataset.root is not None
    for name in dataset.splits:
        split = to_split(dataset, name)
        write_split(split, Path(dataset.root) / name)


# ----------------------------------------------------------------------------- the harness view


def to_case(question: FhirQuestion, record: PatientRecord) -> Case:
    sentences = tuple(NoteSentence(item.id, str(n), 0, item.text) for n, item in enumerate(record.items))
    return Case(
        case_id=question.question_id,
        patient_narrative=question.question,
        clinician_question=question.clinician_question or question.question,
        note_excerpt="\n\n".join(item.text for item in record.items),
        sentences=sentences,
    )


def to_key(question: FhirQuestion, record: PatientRecord) -> CaseKey:
    relevant = set(question.relevant_ids or ())
    labels = tuple((i, "essential" if i in relevant else "not-relevant") for i in record.item_ids())
    return CaseKey(
        case_id=question.question_id,
        relevance=labels,  # type: ignore[arg-type]
        clinician_answer=question.answer,
        clinician_answer_without_citations=question.answer,
    )


def to_split(dataset: FhirDataset, name: str, question_ids: Sequence[str] | None = None) -> Split:
    """Split ``name`` as a harness split (with a key when every chosen question is annotated)."""
    questions = dataset.split(name)
    if question_ids is not None:
        wanted = set(question_ids)
        unknown = wanted - {q.question_id for q in questions}
        if unknown:
            raise InputError.one(f"split {name} has no question(s) {', '.join(sorted(unknown))}")
        questions = tuple(q for q in questions if q.question_id in wanted)
    cases = tuple(to_case(q, dataset.records[q.record_id]) for q in questions)
    keys = None
    if questions and all(q.annotated for q in questions):
        keys = {q.question_id: to_key(q, dataset.records[q.record_id]) for q in questions}
    folder = str(Path(dataset.root) / name) if dataset.root else None
    return Split(name, cases, keys, None, SourceFiles(folder, True, "2026" if keys else None))
