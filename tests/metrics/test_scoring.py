"""score_submission on the synthetic test split: every subtask, the partial rules, reuse, refusals."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from harness.data import load_dataset
from harness.data.model import Split
from harness.errors import InputError
from harness.tasks import get_task
from metrics import registry
from metrics.base import MetricUnavailable, SingleOutput
from metrics.evidence import EvidenceCase, score_2026_subtask2
from metrics.lexical import BleuMetric, RougeMetric
from metrics.sari import SariMetric
from metrics.scoring import ScoringOptions, SubmissionScorer, score_submission
from submissions.format2025 import parse_answer_2025

LEXICAL = ScoringOptions(lexical_only=True)


@pytest.fixture(scope="module")
def split() -> Split:
    return load_dataset("synthetic").split("test")


def answers(split: Split) -> list[dict]:
    keys = split.keys or {}
    return [
        {"case_id": c.case_id, "prediction": keys[c.case_id].clinician_answer_sentences[0].text} for c in split.cases
    ]


# --------------------------------------------------------------------------- subtask 3


def test_subtask3_values_are_the_metrics_per_case_means(split):
    entries = answers(split)
    report = score_submission(entries, split, get_task("2026/3"), options=LEXICAL)
    ids = [c.case_id for c in split.cases]
    assert report.case_ids == tuple(ids) and report.validated
    refs = [split.keys[c].clinician_answer_without_citations.strip() for c in ids]
    preds = [e["prediction"] for e in entries]
    srcs = [split.case(c).patient_narrative for c in ids]
    bleu = BleuMetric().score(BleuMetric().prepare(refs), preds)
    rouge = RougeMetric().score_outputs(RougeMetric().prepare(refs), preds)
    sari = SariMetric().score(SariMetric().prepare(refs), preds, srcs)
    assert [report.per_case["bleu"][c] for c in ids] == bleu
    assert [report.per_case["sari"][c] for c in ids] == sari
    assert [report.per_case["rougeLsum"][c] for c in ids] == rouge["rougeLsum"]
    assert report.scores["bleu"] == float(np.mean(bleu))
    assert report.scores["rouge2"] == float(np.mean(rouge["rouge2"]))
    assert report.aggregations["bleu"] == "mean" and report.aggregations["overall_score"] == "combined"


def test_lexical_only_is_partial_and_says_so(split):
    report = score_submission(answers(split), split, get_task("2026/3"), options=LEXICAL)
    assert report.lexical_only and report.partial
    assert report.scores["overall_score"] is None and report.overall_score is None
    assert report.missing == ("bertscore", "alignscore", "medcon")
    assert set(report.unavailable) == {"bertscore", "alignscore", "medcon"}
    assert all("--lexical-only" in u.reason for u in report.unavailable.values())
    expected = np.mean([report.scores[k] for k in ("bleu", "rougeLsum", "sari")])
    assert report.partial_scores["overall_score"] == pytest.approx(expected)
    assert "lexical-only" in report.signatures["scorer"]
    assert report.comparable  # every number it does report is the official one


def test_lexical_only_is_not_claimed_where_no_neural_metric_was_skipped(split):
    keys = split.keys
    perfect = [{"case_id": c.case_id, "prediction": keys[c.case_id].ids_with("essential")} for c in split.cases]
    report = score_submission(perfect, split, get_task("2026/2"), options=LEXICAL)
    assert not report.lexical_only and not report.partial and report.unavailable == {}


def test_truncation_to_75_words(split):
    entries = answers(split)
    long = " ".join(f"word{i}" for i in range(90))
    entries[0] = {"case_id": entries[0]["case_id"], "prediction": long}
    report = score_submission(entries, split, get_task("2026/3"), options=LEXICAL)
    assert report.truncated == (entries[0]["case_id"],)
    cut, _ = get_task("2026/3").truncate(long)
    ref = split.keys[entries[0]["case_id"]].clinician_answer_without_citations.strip()
    metric = BleuMetric()
    assert report.per_case["bleu"][entries[0]["case_id"]] == metric.score(metric.prepare([ref]), [cut])[0]
    assert any("75" in w for w in report.warnings)  # the validator's warning travels with the report


def test_aggregation_follows_submission_order(split):
    entries = answers(split)
    forward = score_submission(entries, split, get_task("2026/3"), options=LEXICAL)
    backward = score_submission(entries[::-1], split, get_task("2026/3"), options=LEXICAL)
    assert backward.case_ids == forward.case_ids[::-1]
    for key, value in forward.scores.items():
        assert backward.scores[key] == pytest.approx(value, abs=1e-9)


# --------------------------------------------------------------------------- subtasks 1, 2, 4 and 2025


def test_subtask1_gold_question_scores_rouge_100(split):
    entries = [{"case_id": c.case_id, "prediction": c.clinician_question} for c in split.cases]
    report = score_submission(entries, split, get_task("2026/1"), options=LEXICAL)
    expected_full = [c.clinician_question for c in split.cases if len(c.clinician_question.split()) <= 15]
    for case in split.cases:
        if case.clinician_question in expected_full:
            assert report.per_case["rougeLsum"][case.case_id] == pytest.approx(100.0)
    assert set(report.truncated) == {c.case_id for c in split.cases if len(c.clinician_question.split()) > 15}
    assert report.missing == ("alignscore", "medcon", "bertscore")
    assert "bleu" not in report.scores and "sari" not in report.scores


def test_subtask2_perfect_and_gold_minus_one(split):
    keys = split.keys
    perfect = [{"case_id": c.case_id, "prediction": keys[c.case_id].ids_with("essential")} for c in split.cases]
    report = score_submission(perfect, split, get_task("2026/2"))
    assert report.overall_score == 100.0 and not report.partial and report.unavailable == {}
    assert report.scores["strict_micro_precision"] == report.scores["lenient_macro_f1"] == 100.0
    minus_one = [{"case_id": c.case_id, "prediction": keys[c.case_id].ids_with("essential")[1:]} for c in split.cases]
    report = score_submission(minus_one, split, get_task("2026/2"))
    expected = score_2026_subtask2(
        [
            EvidenceCase(
                c.case_id,
                frozenset(keys[c.case_id].ids_with("essential")[1:]),
                frozenset(keys[c.case_id].ids_with("essential")),
                frozenset(keys[c.case_id].ids_with("supplementary")),
            )
            for c in split.cases
        ]
    )
    assert {k: report.scores[k] for k in expected.scores} == expected.scores
    assert report.overall_score == expected.scores["strict_micro_f1"]
    assert (
        report.aggregations["strict_micro_f1"] == "micro_f1" and report.aggregations["strict_micro_recall"] == "micro"
    )
    first = split.cases[0].case_id
    tp = len(keys[first].ids_with("essential")) - 1
    assert report.per_case["strict_micro_f1"][first] == [tp, tp, tp + 1]
    assert report.signatures["strict_micro_f1"].startswith("evidence-2026-subtask2|")


def test_subtask4_gold_links_and_empty_predictions(split):
    keys = split.keys
    gold = [
        {
            "case_id": c.case_id,
            "prediction": [
                {"answer_id": a.id, "evidence_id": list(a.citations)}
                for a in keys[c.case_id].clinician_answer_sentences
            ],
        }
        for c in split.cases
    ]
    report = score_submission(gold, split, get_task("2026/4"))
    assert report.overall_score == report.scores["micro_f1"] == 100.0
    empty = [{"case_id": c.case_id, "prediction": []} for c in split.cases]
    report = score_submission(empty, split, get_task("2026/4"))
    assert report.overall_score == 0.0 and report.scores["macro_precision"] == 0.0


def test_2025_citations_and_reference_texts(split):
    keys = split.keys
    entries = []
    for case in split.cases:
        essential = keys[case.case_id].ids_with("essential")
        text = {s.id: s.text for s in case.sentences}
        entries.append({"case_id": case.case_id, "answer": "\n".join(f"{text[i]} |{i}|" for i in essential)})
    report = score_submission(entries, split, get_task("2025"), options=LEXICAL)
    assert report.scores["strict_micro_precision"] == report.scores["strict_micro_recall"] == 100.0
    assert report.scores["overall_factuality"] == 100.0
    assert report.scores["overall_relevance"] is None and report.overall_score is None
    assert report.partial_scores["overall_score"] == pytest.approx(
        (report.partial_scores["overall_relevance"] + 100.0) / 2
    )
    # the references: narrative, question, essential sentences in ascending numeric id order
    case = split.cases[0]
    ids = sorted(keys[case.case_id].ids_with("essential"), key=int)
    lines = "\n".join(s.text for i in ids for s in case.sentences if s.id == i)
    reference = f"{case.patient_narrative}\n\n{case.clinician_question}\n\n{lines}"
    prediction = parse_answer_2025(entries[0]["answer"]).answer_text
    metric = BleuMetric()
    assert report.per_case["bleu"][case.case_id] == metric.score(metric.prepare([reference]), [prediction])[0]
    sari = SariMetric()
    source = f"{case.patient_narrative}\n\n{case.clinician_question}"
    assert report.per_case["sari"][case.case_id] == sari.score(sari.prepare([lines]), [prediction], [source])[0]


# --------------------------------------------------------------------------- refusals and subsets


def test_validation_failure_lists_every_problem(split):
    entries = answers(split)[1:]  # the first case is missing
    entries.append({"case_id": "9999", "prediction": "x"})
    with pytest.raises(InputError) as caught:
        score_submission(entries, split, get_task("2026/3"), options=LEXICAL)
    text = str(caught.value)
    assert split.cases[0].case_id in text and "9999" in text


def test_empty_prediction_is_refused(split):
    entries = answers(split)
    entries[0] = {"case_id": entries[0]["case_id"], "prediction": "   "}
    with pytest.raises(InputError):
        score_submission(entries, split, get_task("2026/3"), options=LEXICAL)


def test_case_id_subset_ignores_other_entries(split):
    ids = [c.case_id for c in split.cases][:3]
    report = score_submission(answers(split), split, get_task("2026/3"), case_ids=ids, options=LEXICAL)
    assert report.case_ids == tuple(ids) and set(report.per_case["bleu"]) == set(ids)
    with pytest.raises(InputError, match="no case"):
        SubmissionScorer(split, get_task("2026/3"), case_ids=["424242"])


def test_missing_gold_is_refused(split):
    keys = {k: replace(v, clinician_answer_without_citations=None) for k, v in split.keys.items()}
    with pytest.raises(InputError, match="clinician_answer_without_citations"):
        SubmissionScorer(replace(split, keys=keys), get_task("2026/3"))


def test_key_hash_tracks_the_gold(split):
    a = SubmissionScorer(split, get_task("2026/3"), options=LEXICAL).key_hash
    assert a == SubmissionScorer(split, get_task("2026/3"), options=LEXICAL).key_hash
    assert a.startswith("sha256:") and len(a) == 7 + 64
    first = split.cases[0].case_id
    keys = dict(split.keys)
    keys[first] = replace(keys[first], clinician_answer_without_citations="A different answer.")
    assert SubmissionScorer(replace(split, keys=keys), get_task("2026/3")).key_hash != a
    assert SubmissionScorer(split, get_task("2026/2")).key_hash != a


# --------------------------------------------------------------------------- neural families, faked


class FakeMetric(SingleOutput):
    """A neural stand-in for tests: constant per-case values, counts its preparations."""

    def __init__(
        self, name: str, value: float = 50.0, *, fail_in: str | None = None, output: str | None = None
    ) -> None:
        self.name = name
        self.output_key = output or name
        self.value = value
        self.fail_in = fail_in
        self.prepared = 0

    def signature(self) -> str:
        return f"{self.name}|fake"

    def prepare(self, references):
        if self.fail_in == "prepare":
            raise MetricUnavailable(self.name, "checkpoint missing", "pass --alignscore-ckpt PATH")
        self.prepared += 1
        return list(references)

    def score(self, prepared, predictions, sources=None):
        return [self.value] * len(predictions)


def install(monkeypatch, **metrics):
    for family, (metric, comparable) in metrics.items():
        spec = dataclasses.replace(
            registry.get_metric_spec(family), factory=lambda options, m=metric, c=comparable: registry.Built(m, c)
        )
        monkeypatch.setitem(registry._REGISTRY, family, spec)


def test_full_overall_with_all_families(monkeypatch, split):
    install(
        monkeypatch,
        bertscore=(FakeMetric("bertscore", 40.0), True),
        alignscore=(FakeMetric("alignscore", 30.0), True),
        medcon=(FakeMetric("medcon", 20.0), True),
    )
    report = score_submission(answers(split), split, get_task("2026/3"))
    s = report.scores
    expected = np.mean([s["bleu"], s["rougeLsum"], s["sari"], 40.0, 30.0, 20.0])
    assert report.overall_score == pytest.approx(expected) and not report.partial and report.comparable
    assert report.signatures["bertscore"] == "bertscore|fake"


def test_metric_unavailable_in_prepare_makes_the_overall_partial(monkeypatch, split):
    install(
        monkeypatch,
        bertscore=(FakeMetric("bertscore"), True),
        alignscore=(FakeMetric("alignscore", fail_in="prepare"), True),
        medcon=(FakeMetric("medcon"), True),
    )
    report = score_submission(answers(split), split, get_task("2026/3"))
    assert report.partial and report.missing == ("alignscore",)
    assert report.unavailable["alignscore"].reason == "checkpoint missing"
    assert report.scores["alignscore"] is None and report.overall_score is None
    assert "overall_score" in report.partial_scores


def test_stand_in_components_are_flagged_not_comparable(monkeypatch, split):
    install(
        monkeypatch,
        bertscore=(FakeMetric("bertscore-minilm", output="bertscore"), False),
        alignscore=(FakeMetric("alignscore"), True),
        medcon=(FakeMetric("medcon"), True),
    )
    report = score_submission(answers(split), split, get_task("2026/3"))
    assert report.overall_score is not None and not report.partial
    assert not report.comparable and report.not_comparable == ("bertscore", "overall_score")


def test_component_signatures_change_the_overall_signature(monkeypatch, split):
    install(
        monkeypatch, bertscore=(FakeMetric("bertscore"), True), alignscore=(FakeMetric("a", output="alignscore"), True)
    )
    install(monkeypatch, medcon=(FakeMetric("medcon"), True))
    official = score_submission(answers(split), split, get_task("2026/3")).signatures["overall_score"]
    install(monkeypatch, medcon=(FakeMetric("medcon-hpo", output="medcon"), False))
    other = score_submission(answers(split), split, get_task("2026/3")).signatures["overall_score"]
    assert official != other and official.startswith("overall_score|mean:bleu,rougeLsum,sari")


def test_scorer_prepares_once_and_scores_many(monkeypatch, split):
    fake = FakeMetric("bertscore")
    install(monkeypatch, bertscore=(fake, True))
    scorer = SubmissionScorer(split, get_task("2026/3"))
    first = scorer.score(answers(split))
    second = scorer.score(answers(split))
    assert fake.prepared == 1 and first == second


def test_non_finite_metric_values_are_refused(monkeypatch, split):
    install(monkeypatch, bertscore=(FakeMetric("bertscore", float("nan")), True))
    with pytest.raises(RuntimeError, match="non-finite"):
        score_submission(answers(split), split, get_task("2026/3"))


def test_validation_can_be_turned_off_and_is_then_flagged(split):
    report = score_submission(answers(split), split, get_task("2026/3"), options=replace(LEXICAL, validate=False))
    assert not report.validated and any("not validated" in w for w in report.warnings)


def test_speed_benchmark_runs_and_finds_identical_values():
    """The benchmark's machinery on a few cases (its timings are not asserted: it is not a timed test)."""
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "score_speed.py"
    done = subprocess.run(
        [sys.executable, str(script), "--cases", "40", "--repeat", "1"], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout)
    assert figures["values_identical"] and figures["cases"] == 40
    assert "faster" in done.stderr
