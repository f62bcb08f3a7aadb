"""Aligner lexical components, queries, raw-score round trips and configuration (no cross-encoder)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from harness.data import AnswerSentence, Case, NoteSentence, Subtask, inputs_for, load_dataset
from harness.systems import Prediction
from systems.qunlp.aligner.ablation import ablate
from systems.qunlp.aligner.config import AlignerConfig, AlignerConfigError, read_yaml, resolve_config
from systems.qunlp.aligner.ensemble import build_table
from systems.qunlp.aligner.lexical import bm25_scores, tfidf_scores
from systems.qunlp.aligner.queries import EVIDENCE_QUERY_ID, case_queries, gold_links, links_to_prediction
from systems.qunlp.aligner.raw_scores import RawScores, raw_scores_from_predictions, raw_scores_from_run
from systems.qunlp.aligner.scoring import score_cases
from systems.qunlp.aligner.training import case_pairs, tune_all

CONFIGS = Path(__file__).resolve().parents[3] / "systems" / "qunlp" / "configs"
NOTE = [
    "The patient received amiodarone for atrial fibrillation.",
    "Metoprolol was stopped.",
    "Café au lait spots noted.",
]


@pytest.mark.parametrize("backend", ["rank_bm25", "bm25s"])
def test_bm25_ranks_the_matching_sentence_first(backend: str) -> None:
    scores = bm25_scores(["why amiodarone", "metoprolol stopped"], NOTE, backend=backend)
    assert scores.shape == (2, 3)
    assert scores[0].argmax() == 0 and scores[1].argmax() == 1


def test_tfidf_cosine_is_bounded_and_matches() -> None:
    scores = tfidf_scores(["amiodarone atrial fibrillation"], NOTE)
    assert scores[0].argmax() == 0 and 0 < scores[0, 0] <= 1 + 1e-9


@pytest.mark.parametrize("backend", ["rank_bm25", "bm25s"])
def test_lexical_components_survive_empty_and_unicode_text(backend: str) -> None:
    # tokens are ASCII words: CJK text and punctuation have none and score 0, without errors
    assert not bm25_scores(["", "心房颤动"], ["心房颤动。", "…"], backend=backend).any()
    assert not tfidf_scores(["心房颤动"], ["心房颤动。", "…"]).any()
    assert bm25_scores([], NOTE, backend=backend).shape == (0, 3)
    assert tfidf_scores(["café"], []).shape == (1, 0)
    one = bm25_scores(["amiodarone"], NOTE[:1], backend=backend)
    assert one.shape == (1, 1)


def _case(answers: tuple[AnswerSentence, ...] = (), sentences: tuple[str, ...] = tuple(NOTE)) -> Case:
    return Case(
        case_id="7",
        patient_narrative="Why was my father given amiodarone?",
        clinician_question="Why was amiodarone started?",
        sentences=tuple(NoteSentence(str(i + 1), "0", 0, t) for i, t in enumerate(sentences)),
        answer_sentences=answers,
    )


def test_queries_and_prediction_shapes() -> None:
    case = _case((AnswerSentence("1", "Amiodarone treated the fast rhythm."), AnswerSentence("2", "")))
    q4 = case_queries(case, Subtask.EVIDENCE_ALIGNMENT)
    assert [qid for qid, _ in q4.queries] == ["1", "2"]
    assert links_to_prediction(q4, {"1": ["3", "1"]}, Subtask.EVIDENCE_ALIGNMENT) == [
        {"answer_id": "1", "evidence_id": ["1", "3"]},
        {"answer_id": "2", "evidence_id": []},
    ]
    q2 = case_queries(case, Subtask.EVIDENCE_IDENTIFICATION)
    assert q2.queries == ((EVIDENCE_QUERY_ID, "Why was amiodarone started? Why was my father given amiodarone?"),)
    assert links_to_prediction(q2, {EVIDENCE_QUERY_ID: ["2", "1"]}, Subtask.EVIDENCE_IDENTIFICATION) == ["1", "2"]
    with pytest.raises(ValueError):
        case_queries(case, Subtask.ANSWER_GENERATION)


def test_lexical_raw_scores_for_empty_answers_and_one_sentence() -> None:
    config = AlignerConfig()
    one = replace(_case((AnswerSentence("1", "amiodarone"),), sentences=("Amiodarone was started.",)), case_id="8")
    raw = score_cases([_case(), one], Subtask.EVIDENCE_ALIGNMENT, config, None)
    assert raw.components["bm25"]["7"] == {} and raw.components["tfidf"]["7"] == {}
    assert list(raw.components["bm25"]["8"]["1"]) == ["1"]
    assert build_table(raw).size == 1


def test_raw_scores_round_trip_through_json_and_run_files(tmp_path: Path) -> None:
    raw = RawScores(
        4,
        {
            "bm25": {"1": {"a": {"1": 1.5, "2": 0.0}}, "2": {}},
            "cross_encoder": {"1": {"a": {"1": -0.25}}, "2": {}},
        },
    )
    loaded = RawScores.load(raw.save(tmp_path / "raw.json"))
    assert loaded == raw
    preds = [Prediction(c, [], {"raw_scores": raw.case_part(c)}) for c in ("1", "2")]
    assert raw_scores_from_predictions(preds, 4) == raw
    run = tmp_path / "predictions.jsonl"
    lines = [{"type": "header", "subtask": 4}] + [
        {"type": "prediction", "case_id": p.case_id, "prediction": [], "meta": dict(p.meta)} for p in preds
    ]
    run.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    assert raw_scores_from_run(run) == raw
    with pytest.raises(ValueError):
        RawScores.from_json({"schema_version": 99, "subtask": 4, "components": {}})


def test_lexical_tuning_on_synthetic_dev_is_reproducible_from_saved_scores(tmp_path: Path) -> None:
    split = load_dataset("synthetic").split("dev")
    cases = inputs_for(split, Subtask.EVIDENCE_ALIGNMENT)
    config = AlignerConfig()
    gold = gold_links(split.keys or {}, split.case_ids(), Subtask.EVIDENCE_ALIGNMENT)
    raw = score_cases(cases, Subtask.EVIDENCE_ALIGNMENT, config, None)
    first = tune_all(raw, gold, config, Subtask.EVIDENCE_ALIGNMENT)
    again = tune_all(RawScores.load(raw.save(tmp_path / "dev.json")), gold, config, Subtask.EVIDENCE_ALIGNMENT)
    assert {k: v.to_json() for k, v in first.items()} == {k: v.to_json() for k, v in again.items()}
    assert set(first) == {"ensemble", "bm25", "tfidf"}
    assert first["bm25"].cv.f1 > 40  # lexical overlap is informative on the synthetic data


def test_training_pairs_hold_positives_and_sampled_negatives() -> None:
    split = load_dataset("synthetic").split("dev")
    case = inputs_for(split, Subtask.EVIDENCE_ALIGNMENT)[0]
    gold = gold_links(split.keys or {}, [case.case_id], Subtask.EVIDENCE_ALIGNMENT)[case.case_id]
    config = AlignerConfig()
    pairs = case_pairs(case, Subtask.EVIDENCE_ALIGNMENT, gold, config)
    positives = sum(1 for _, y in pairs if y)
    assert positives == len(gold)
    n_queries = len(case.answer_sentences or ())
    assert len(pairs) - positives <= config.subtask4.train_negatives_per_positive * max(positives, n_queries)
    assert pairs == case_pairs(case, Subtask.EVIDENCE_ALIGNMENT, gold, config)  # seeded


def test_config_yaml_mirrors_the_defaults_and_overrides_are_checked() -> None:
    assert resolve_config({"config": str(CONFIGS / "aligner.yaml")}) == AlignerConfig()
    assert read_yaml(CONFIGS / "aligner.yaml")  # not empty
    paper = resolve_config({"config": str(CONFIGS / "aligner-paper.yaml")})
    assert paper.cross_fit_folds >= 2
    config = resolve_config({"subtask4.ce_top_n": 9, "threshold_grid": [0.5]})
    assert config.subtask4.ce_top_n == 9 and config.threshold_grid == (0.5,)
    assert resolve_config({"subtask2": {"train": False}}).subtask2.train is False
    with pytest.raises(AlignerConfigError, match="unknown"):
        resolve_config({"learning_rat": 1})
    with pytest.raises(AlignerConfigError, match="bm25_backend"):
        resolve_config({"bm25_backend": "lucene"})
    assert np.isclose(resolve_config({"learning_rate": "1e-4"}).learning_rate, 1e-4)


@pytest.mark.parametrize("subtask", [Subtask.EVIDENCE_ALIGNMENT, Subtask.EVIDENCE_IDENTIFICATION])
def test_lexical_ensemble_tuned_on_dev_beats_the_weakest_component_on_test(subtask: Subtask) -> None:
    """The tuning machinery without the cross-encoder (the full check is the slow demo-model test)."""
    synthetic = load_dataset("synthetic")
    config = AlignerConfig()
    scored = {}
    for name in ("dev", "test"):
        split = synthetic.split(name)
        raw = score_cases(inputs_for(split, subtask), subtask, config, None)
        scored[name] = (raw, gold_links(split.keys or {}, split.case_ids(), subtask))
    tuned = tune_all(*scored["dev"], config, subtask)
    rows = ablate(
        *scored["test"], {name: result.params for name, result in tuned.items()}, scope=config.normalise_scope
    )
    f1 = {row.name: row.scores.f1 for row in rows}
    assert f1["ensemble"] > min(f1["bm25"], f1["tfidf"]), f1
