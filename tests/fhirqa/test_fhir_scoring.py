"""FHIR track scoring on hand-worked examples: P/R/F1 over resource ids, METEOR answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhirqa.bundle import load_record
from fhirqa.dataset import to_split
from fhirqa.model import FhirDataset, FhirQuestion, FhirTask
from fhirqa.scoring import score_fhir
from harness.errors import InputError
from leaderboard.ingest import entry_from_report

FIXTURES = Path(__file__).parent / "fixtures"
A1C_NEW, A1C_OLD = "Observation/obs-a1c-new", "Observation/obs-a1c-old"
METFORMIN, DIABETES = "MedicationRequest/medreq-0001", "Condition/cond-0001"


@pytest.fixture(scope="module")
def split():  # type: ignore[no-untyped-def]
    record = load_record(FIXTURES / "synthea_mini.json")
    questions = (
        FhirQuestion("a", record.record_id, "Last A1c?", relevant_ids=(A1C_NEW,), answer="Your A1c was 7.1 %."),
        FhirQuestion("b", record.record_id, "Diabetes drug?", relevant_ids=(METFORMIN, DIABETES), answer="Metformin."),
        FhirQuestion("c", record.record_id, "Asthma?", relevant_ids=(), answer="No. Your record does not list asthma."),
    )
    return to_split(FhirDataset({record.record_id: record}, {"test": questions}), "test")


def test_relevance_precision_recall_f1_by_hand(split) -> None:  # type: ignore[no-untyped-def]
    entries = [
        {"case_id": "a", "prediction": [A1C_NEW, A1C_OLD]},  # tp 1, predicted 2, gold 1: P .5  R 1   F1 2/3
        {"case_id": "b", "prediction": [METFORMIN]},  # tp 1, predicted 1, gold 2: P 1   R .5  F1 2/3
        {"case_id": "c", "prediction": []},  # both empty: P = R = F1 = 1
    ]
    report = score_fhir(entries, split, FhirTask.RELEVANCE)
    s = report.scores
    assert s["strict_micro_precision"] == pytest.approx(200 / 3)  # pooled tp 2 / predicted 3
    assert s["strict_micro_recall"] == pytest.approx(200 / 3)  # pooled tp 2 / gold 3
    assert s["overall_score"] == s["strict_micro_f1"] == pytest.approx(200 / 3)
    assert s["strict_macro_precision"] == pytest.approx((50 + 100 + 100) / 3)
    assert s["strict_macro_recall"] == pytest.approx((100 + 50 + 100) / 3)
    assert s["strict_macro_f1"] == pytest.approx((200 / 3 + 200 / 3 + 100) / 3)
    assert not any(k.startswith("lenient_") for k in s)
    assert report.per_case["strict_micro_f1"]["a"] == [1, 2, 1]
    assert (report.year, report.subtask) == ("fhir", 1)
    assert all(report.signatures[k] for k in s) and report.signatures["scorer"].startswith(
        "archehr-score|task:fhir-task1"
    )
    entry = entry_from_report(report.to_json(), system="hand")
    assert (entry.year, entry.subtask, entry.metrics["overall_score"].value) == ("fhir", 1, s["overall_score"])


def test_relevance_refuses_ids_not_in_the_record(split) -> None:  # type: ignore[no-untyped-def]
    entries = [
        {"case_id": "a", "prediction": ["Observation/made-up"]},
        {"case_id": "b", "prediction": []},
        {"case_id": "c", "prediction": []},
    ]
    with pytest.raises(InputError, match="made-up"):
        score_fhir(entries, split, FhirTask.RELEVANCE)


def test_answer_scores_carry_the_meteor_signature(split) -> None:  # type: ignore[no-untyped-def]
    entries = [
        {"case_id": "a", "prediction": "Your A1c was 7.1 %."},
        {"case_id": "b", "prediction": "Metformin."},
        {"case_id": "c", "prediction": "I do not know."},
    ]
    report = score_fhir(entries, split, FhirTask.ANSWER, wordnet="none")
    assert (report.year, report.subtask, report.overall_key) == ("fhir", 2, "overall_score")
    assert report.per_case["meteor"]["a"] == pytest.approx(100 * (1 - 0.5 / 6**3))  # 6 tokens, 1 chunk
    assert report.scores["overall_score"] == report.scores["meteor"]
    assert report.signatures["meteor"].startswith("meteor-exact-stem|")
    with pytest.raises(InputError, match="empty"):
        score_fhir([{**entries[0], "prediction": " "}, *entries[1:]], split, FhirTask.ANSWER, wordnet="none")
