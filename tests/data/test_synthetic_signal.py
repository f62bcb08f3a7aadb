"""The synthetic dataset separates good systems from weak ones (it would be useless for comparison otherwise)."""

from __future__ import annotations

import pytest

from harness.data import Subtask, inputs_for, load_dataset
from harness.systems import build_system
from harness.tasks import get_task
from metrics.scoring import ScoringOptions, score_submission

LEXICAL = ScoringOptions(lexical_only=True)


@pytest.fixture(scope="module")
def split():
    return load_dataset("synthetic").split("test")


def _score(split, subtask: int, predictions: dict) -> dict:
    entries = [{"case_id": cid, "prediction": predictions[cid]} for cid in split.case_ids()]
    return score_submission(entries, split, get_task(f"2026/{subtask}"), options=LEXICAL).to_json()["scores"]


def _baseline(split, subtask: Subtask) -> dict:
    system = build_system("baseline")
    return {p.case_id: p.prediction for p in system.predict(inputs_for(split, subtask), subtask)}


def test_evidence_identification_gold_beats_lexical_beats_positional(split) -> None:
    gold = {c: split.keys[c].ids_with("essential") for c in split.case_ids()}
    positional = {c.case_id: [s.id for s in c.sentences[:4]] for c in split.cases}
    everything = {c.case_id: c.sentence_ids() for c in split.cases}
    runs = {"gold": gold, "lexical": _baseline(split, Subtask(2)), "positional": positional, "all": everything}
    f1 = {name: _score(split, 2, preds)["strict_micro_f1"] for name, preds in runs.items()}
    assert f1["gold"] == pytest.approx(100.0)
    assert f1["lexical"] >= f1["positional"] + 10, f1
    assert f1["lexical"] > f1["all"], f1


def test_evidence_alignment_lexical_beats_positional(split) -> None:
    cases = inputs_for(split, Subtask.EVIDENCE_ALIGNMENT)
    positional = {
        c.case_id: [{"answer_id": a.id, "evidence_id": [c.sentences[i].id]} for i, a in enumerate(c.answer_sentences)]
        for c in cases
    }
    lexical = _score(split, 4, _baseline(split, Subtask(4)))["micro_f1"]
    weak = _score(split, 4, positional)["micro_f1"]
    assert lexical >= weak + 20, (lexical, weak)


def test_answer_generation_grounded_beats_generic(split) -> None:
    generic = {c: "Please ask your doctor about your hospital stay and your medicines." for c in split.case_ids()}
    grounded = _score(split, 3, _baseline(split, Subtask(3)))
    weak = _score(split, 3, generic)
    assert grounded["rougeLsum"] >= weak["rougeLsum"] + 5, (grounded["rougeLsum"], weak["rougeLsum"])
    assert grounded["bleu"] > weak["bleu"]
