"""Consistency checks of a loaded split: offsets, labels, citations (``archehr data validate``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.data.model import Case, CaseKey, Split, id_ranges
from harness.errors import Problem


@dataclass
class CheckReport:
    """Errors make a split unusable for scoring; warnings are legal but suspicious."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_split(split: Split) -> CheckReport:
    """Check every case of ``split`` and its key; all problems are collected, none is raised."""
    report = CheckReport()
    folder = split.source.folder or split.name
    xml_file = f"{folder}/archehr-qa.xml"
    key_file = f"{folder}/archehr-qa_key.json"
    for case in split.cases:
        _check_sentence_offsets(case, xml_file, report)
        key = (split.keys or {}).get(case.case_id)
        if key is not None and case.sentences is not None:
            _check_key(case, key, key_file, report)
    _check_key_has_alignment(split, key_file, report)
    return report


def _check_key_has_alignment(split: Split, file: str, report: CheckReport) -> None:
    """A 2026 key without ``clinician_answer_sentences`` is legal, but subtask 4 cannot be scored with it."""
    if split.keys is None or split.source.key_style != "2026":
        return
    lacking = [k.case_id for k in split.keys.values() if k.clinician_answer_sentences is None]
    if lacking:
        report.warnings.append(
            Problem(
                f"{len(lacking)} of {len(split.keys)} cases have no clinician_answer_sentences"
                f" (cases {id_ranges(lacking)}): subtask 4 cannot be scored with this key",
                file,
                None,
                "clinician_answer_sentences",
            )
        )


def _check_sentence_offsets(case: Case, file: str, report: CheckReport) -> None:
    if case.sentences is None or case.note_excerpt is None:
        return
    paragraphs = case.paragraphs()
    for s in case.sentences:
        where = f"note_excerpt_sentences/sentence[{s.id}]"
        if not s.paragraph_id.isdigit() or int(s.paragraph_id) >= len(paragraphs):
            report.errors.append(
                Problem(
                    f"paragraph_id {s.paragraph_id} not among the {len(paragraphs)} paragraphs",
                    file,
                    case.case_id,
                    where,
                )
            )
            continue
        para = paragraphs[int(s.paragraph_id)]
        found = para[s.start_char_index : s.start_char_index + len(s.text)]
        if found != s.text:
            report.errors.append(
                Problem(
                    f"start_char_index {s.start_char_index} in paragraph {s.paragraph_id} points at {found[:40]!r},"
                    f" not the sentence {s.text[:40]!r}",
                    file,
                    case.case_id,
                    where,
                )
            )


def _check_key(case: Case, key: CaseKey, file: str, report: CheckReport) -> None:
    sentence_ids = case.sentence_ids()
    labelled = key.labels()
    for sid in sentence_ids:
        if sid not in labelled:
            report.errors.append(Problem(f"sentence {sid} has no relevance label", file, case.case_id, "answers"))
    for sid in labelled:
        if sid not in sentence_ids:
            report.errors.append(
                Problem(f"labelled sentence {sid} is not in the case XML", file, case.case_id, "answers")
            )
    for answer in key.clinician_answer_sentences or ():
        where = f"clinician_answer_sentences[{answer.id}].citations"
        for cited in answer.citations:
            if cited not in sentence_ids:
                report.errors.append(
                    Problem(f"cites sentence {cited}, which the case does not have", file, case.case_id, where)
                )
            elif labelled.get(cited) == "not-relevant":
                report.warnings.append(
                    Problem(f"cites sentence {cited}, labelled not-relevant", file, case.case_id, where)
                )
