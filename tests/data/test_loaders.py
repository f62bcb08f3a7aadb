"""Loaders and writers of the official files: rules of ARCHEHR_SPEC §1, round trips, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.data import Subtask, inputs_for, load_dataset, load_split, write_split
from harness.data.json_io import load_key
from harness.data.model import Case, Phrase, parse_id_ranges, sort_ids
from harness.data.xml_io import cases_to_xml, load_cases_xml
from harness.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad"
PARTIAL = FIXTURES / "partial"


def _split_folder(tmp_path: Path, xml: Path, name: str = "dev") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(xml, folder / "archehr-qa.xml")
    return folder


def test_partial_2025_dev_file_loads_with_what_it_holds(tmp_path: Path) -> None:
    split = load_split(_split_folder(tmp_path, PARTIAL / "dev-2025-no-notes.xml"))
    (case,) = split.cases
    assert case.case_id == "1"
    assert case.patient_narrative.startswith("I was told")  # stripped
    assert case.phrases == (Phrase("0", 102, "Why did they need to give him a shot every day?"),)
    assert case.clinician_question == "Why was the patient treated with daily enoxaparin injections?"
    assert case.sentences is None and case.note_excerpt is None
    assert split.source.xml_declaration is False
    # subtask 1 needs the narrative only; subtask 2 says what is missing
    assert inputs_for(split, Subtask.QUESTION_INTERPRETATION)[0].case_id == "1"
    with pytest.raises(InputError) as err:
        inputs_for(split, Subtask.EVIDENCE_IDENTIFICATION)
    assert "case 1" in str(err.value) and "sentences" in str(err.value)


def test_partial_2026_narratives_only_round_trips(tmp_path: Path) -> None:
    source = PARTIAL / "test-2026-narratives-only.xml"
    cases, declaration = load_cases_xml(source)
    assert [c.case_id for c in cases] == ["121", "122"]
    assert all(isinstance(c.case_id, str) for c in cases)
    assert cases[1].patient_narrative == "My son had his appendix out & now has a fever of 38.5 °C. Should we worry?"
    assert declaration is True
    assert cases_to_xml(cases, xml_declaration=declaration) == source.read_text(encoding="utf-8")


def test_synthetic_dataset_round_trips_byte_for_byte(tmp_path: Path) -> None:
    dataset = load_dataset("synthetic")
    for name, split in dataset.splits.items():
        out = write_split(split, tmp_path / name)
        for file in ("archehr-qa.xml", "archehr-qa_key.json", "archehr-qa_mapping.json"):
            original = Path(split.source.folder) / file
            assert (out / file).read_bytes() == original.read_bytes(), f"{name}/{file} changed in a round trip"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("malformed.xml", "malformed XML"),
        ("external_entity.xml", "unsafe XML refused"),
        ("entity_bomb.xml", "unsafe XML refused"),
        ("duplicate_case.xml", "case 3, field id: duplicate case id"),
        ("bad_phrase_offset.xml", "case 7, field patient_question/phrase[0]"),
        ("missing_sentence_attr.xml", "case 9, field note_excerpt_sentences/sentence[1]: missing paragraph_id"),
        ("wrong_root.xml", "expected <annotations>"),
    ],
)
def test_bad_xml_is_refused_with_file_case_and_field(fixture: str, expected: str) -> None:
    with pytest.raises(InputError) as err:
        load_cases_xml(BAD / fixture)
    message = str(err.value)
    assert expected in message
    assert fixture in message


def test_non_utf8_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "archehr-qa.xml"
    path.write_bytes(b"<annotations><case id='1'><patient_narrative>caf\xe9</patient_narrative></case></annotations>")
    with pytest.raises(InputError, match="not UTF-8"):
        load_cases_xml(path)


def test_key_whose_case_ids_differ_from_the_xml_lists_both_sides() -> None:
    with pytest.raises(InputError) as err:
        load_split(BAD / "key_mismatch")
    problems = {(p.case_id, p.message) for p in err.value.problems}
    assert ("2", "case is in the XML but not in the key") in problems
    assert ("5", "case is in the key but not in the XML") in problems


def test_bad_key_values_report_every_case() -> None:
    with pytest.raises(InputError) as err:
        load_split(BAD / "bad_relevance")
    fields = {(p.case_id, p.field) for p in err.value.problems}
    assert ("1", "answers[0].relevance") in fields
    assert ("2", "answers[0].sentence_id") in fields  # an integer id


def test_citations_string_or_list_are_normalised(tmp_path: Path) -> None:
    key = [
        {
            "case_id": "1",
            "answers": [{"sentence_id": "1", "relevance": "essential"}, {"sentence_id": "5", "relevance": "essential"}],
            "clinician_answer": "A [1, 5].",
            "clinician_answer_without_citations": "A.",
            "clinician_answer_sentences": [
                {"id": "1", "text": "A.", "citations": "1,5"},
                {"id": "2", "text": "B.", "citations": ""},
                {"id": "3", "text": "C.", "citations": ["5"]},
            ],
        }
    ]
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key), encoding="utf-8")
    keys, style = load_key(path)
    assert style == "2026"
    assert [a.citations for a in keys["1"].clinician_answer_sentences] == [("1", "5"), (), ("5",)]
    assert keys["1"].links() == {("1", "1"), ("1", "5"), ("3", "5")}


def test_subtask4_inputs_fall_back_to_key_answer_sentences_without_citations() -> None:
    split = load_dataset("synthetic").split("dev")
    stripped = split.__class__(
        split.name, tuple(c.__class__(**{**c.__dict__, "answer_sentences": None}) for c in split.cases), split.keys
    )
    cases = inputs_for(stripped, Subtask.EVIDENCE_ALIGNMENT)
    assert all(a.citations == () for c in cases for a in c.answer_sentences)
    assert [a.text for a in cases[0].answer_sentences] == [
        a.text for a in split.keys[cases[0].case_id].clinician_answer_sentences
    ]


def test_unknown_elements_are_ignored_and_ids_stay_strings() -> None:
    cases, _ = load_cases_xml(PARTIAL / "dev-2025-no-notes.xml")
    assert isinstance(cases[0], Case)
    assert cases[0].case_id == "1"


def test_id_helpers() -> None:
    assert parse_id_ranges("1-3 5") == ["1", "2", "3", "5"]
    assert parse_id_ranges(["21-23", "30,31"]) == ["21", "22", "23", "30", "31"]
    with pytest.raises(ValueError):
        parse_id_ranges("9-3")
    assert sort_ids(["10", "2", "1"]) == ["1", "2", "10"]
