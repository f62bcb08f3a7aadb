"""FHIR track data: seeded synthetic build, labels correct by construction, Synthea-style loading, harness view."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fhirqa.build import BuildOptions, build_from_bundles, build_synthetic
from fhirqa.bundle import load_record, record_id_for
from fhirqa.dataset import load_fhir_dataset, read_questions, to_split
from fhirqa.model import FhirTask
from harness.data import Subtask, load_dataset
from harness.data.checks import check_split
from harness.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = BuildOptions(seed=7, patients=5, questions_per_patient=6)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("carebundle")
    out = tmp_path_factory.mktemp("fhir") / "data"
    build_synthetic(out, SMALL)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_is_deterministic_under_the_seed(built: Path, tmp_path: Path) -> None:
    build_synthetic(tmp_path / "again", SMALL)
    assert _files(tmp_path / "again") == _files(built)
    build_synthetic(tmp_path / "other", BuildOptions(seed=8, patients=5, questions_per_patient=6))
    assert _files(tmp_path / "other")["train/questions.json"] != _files(built)["train/questions.json"]


def test_splits_partition_the_patients(built: Path) -> None:
    dataset = load_fhir_dataset(built)
    assert set(dataset.splits) == {"train", "dev", "test"}
    owners = {name: {q.record_id for q in qs} for name, qs in dataset.splits.items()}
    assert sum(len(r) for r in owners.values()) == len(dataset.records) == 5
    assert not (owners["train"] & owners["test"]) and not (owners["dev"] & owners["test"])
    assert dataset.manifest["seed"] == 7 and dataset.manifest["carebundle_version"] == "0.5.0"


def test_labels_are_correct_by_construction(built: Path) -> None:
    dataset = load_fhir_dataset(built)
    questions = [q for qs in dataset.splits.values() for q in qs]
    assert len({q.category for q in questions}) >= 5
    for q in questions:
        record = dataset.records[q.record_id]
        assert q.annotated
        assert set(q.relevant_ids or ()) <= set(record.item_ids())
        # every relevant resource states a fact of the answer, and every fact is in the answer and its resource
        assert {f.item_id for f in q.facts} == set(q.relevant_ids or ())
        for fact in q.facts:
            assert fact.text in q.answer
            assert fact.text in record.item(fact.item_id).text
        raw = {(i.id): json.dumps(i.resource) for i in record.items}
        for fact in q.facts:
            number = fact.text.split()[0]
            if number.replace(".", "").isdigit():
                assert number in raw[fact.item_id]  # the value is the resource's own, not a rendering artefact


def test_harness_view_matches_the_sources(built: Path) -> None:
    dataset = load_fhir_dataset(built)
    view = load_dataset(built)
    for name in dataset.splits:
        split = to_split(dataset, name)
        assert view.split(name).cases == split.cases
        assert view.split(name).keys == split.keys
        assert check_split(view.split(name)).ok
    case = to_split(dataset, "test").cases[0]
    question = dataset.split("test")[0]
    assert case.case_id == question.question_id and case.patient_narrative == question.question
    assert [s.id for s in case.sentences or ()] == dataset.records[question.record_id].item_ids()
    assert FhirTask.RELEVANCE.subtask == Subtask.EVIDENCE_IDENTIFICATION


def test_synthea_style_bundle_loads() -> None:
    record = load_record(FIXTURES / "synthea_mini.json")
    assert record.record_id == record_id_for("synthea_mini.json") == "synthea_mini"
    ids = record.item_ids()
    assert "Claim/claim-0001" not in ids and "Patient/pat-0001" not in ids  # billing and people are left out
    assert "Observation/obs-a1c-new" in ids  # no resource id: taken from the fullUrl
    med = record.item("MedicationRequest/medreq-0001")
    assert "24 HR Metformin hydrochloride 500 MG" in med.text  # medicationReference resolved in the bundle
    bp = record.item("Observation/obs-bp")
    assert bp.text.endswith("Systolic Blood Pressure 132 mm[Hg]; Diastolic Blood Pressure 84 mm[Hg]")
    assert record.item("Condition/cond-0002").text.startswith("Condition (resolved, onset 2022-01-15)")


def test_generated_questions_on_synthea_pick_the_latest_and_active(tmp_path: Path) -> None:
    bundles = tmp_path / "bundles_in"
    bundles.mkdir()
    shutil.copy(FIXTURES / "synthea_mini.json", bundles)
    dataset = build_from_bundles(
        tmp_path / "data", bundles, BuildOptions(seed=1, questions_per_patient=20, fractions=(("test", 1.0),))
    )
    by_category = {q.category: q for q in dataset.split("test")}
    assert by_category["lab"].relevant_ids == ("Observation/obs-a1c-new",)
    assert "7.1 %" in (by_category["lab"].answer or "")
    assert by_category["medications"].relevant_ids == ("MedicationRequest/medreq-0001",)  # the stopped one is not
    assert by_category["conditions"].relevant_ids == ("Condition/cond-0001",)  # the resolved one is not
    assert by_category["condition_absent"].relevant_ids == ()
    assert by_category["last_visit"].relevant_ids == ("Encounter/enc-0002",)


def test_user_questions_file_and_splits(tmp_path: Path) -> None:
    bundles = tmp_path / "in"
    bundles.mkdir()
    shutil.copy(FIXTURES / "synthea_mini.json", bundles)
    dataset = build_from_bundles(tmp_path / "data", bundles, questions_file=FIXTURES / "synthea_questions.json")
    assert [q.question_id for q in dataset.split("test")] == ["ana-1", "ana-3"]
    assert [q.question_id for q in dataset.split("dev")] == ["ana-2"]
    assert to_split(dataset, "dev").keys is not None
    assert to_split(dataset, "test").keys is None  # ana-3 has no gold: runnable, not scorable
    assert to_split(dataset, "test", ["ana-1"]).keys is not None


def test_bad_questions_name_the_question_and_field(tmp_path: Path) -> None:
    bundles = tmp_path / "data" / "bundles"
    bundles.mkdir(parents=True)
    shutil.copy(FIXTURES / "synthea_mini.json", bundles)
    (tmp_path / "data" / "test").mkdir()
    bad = [
        {"question_id": "x1", "record_id": "synthea_mini", "question": "?", "relevant_ids": ["Observation/nope"]},
        {"question_id": "x2", "record_id": "nobody", "question": "?"},
        {"question_id": "x3", "record_id": "synthea_mini"},
    ]
    (tmp_path / "data" / "test" / "questions.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_fhir_dataset(tmp_path / "data")
    text = str(info.value)
    assert "x3" in text and "question" in text
    with pytest.raises(InputError):
        read_questions(tmp_path / "data" / "test" / "questions.json")
    bad.pop()
    (tmp_path / "data" / "test" / "questions.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_fhir_dataset(tmp_path / "data")
    problems = {(p.case_id, p.field) for p in info.value.problems}
    assert problems == {("x1", "relevant_ids"), ("x2", "record_id")}
