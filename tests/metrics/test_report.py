"""ScoreReport: JSON round trip, atomic writing, refusal of NaN and of unknown schema versions."""

from __future__ import annotations

import json
import math

import pytest

from harness import __version__
from harness.errors import InputError
from metrics.report import SCHEMA_VERSION, ScoreReport, Unavailable


def make_report(**changes) -> ScoreReport:
    fields = {
        "task": "2026/3",
        "split": "test",
        "case_ids": ("21", "22"),
        "key_hash": "sha256:abc",
        "scores": {"bleu": 10.0, "sari": 50.0, "bertscore": None, "overall_score": None},
        "overall_key": "overall_score",
        "signatures": {"bleu": "bleu|x", "sari": "sari|y", "bertscore": "bertscore|unavailable", "scorer": "s"},
        "aggregations": {"bleu": "mean", "sari": "mean", "bertscore": "mean", "overall_score": "combined"},
        "per_case": {"bleu": {"21": 5.0, "22": 15.0}, "sari": {"21": 40.0, "22": 60.0}},
        "partial": True,
        "missing": ("bertscore",),
        "partial_scores": {"overall_score": 30.0},
        "unavailable": {"bertscore": Unavailable("no model", "pass --bertscore-model DIR")},
        "lexical_only": True,
    }
    fields.update(changes)
    return ScoreReport(**fields)


def test_round_trip_and_layout():
    report = make_report()
    data = report.to_json()
    assert data["schema_version"] == SCHEMA_VERSION and data["harness_version"] == __version__
    assert list(data)[:5] == ["schema_version", "harness_version", "task", "year", "subtask"]
    assert (data["year"], data["subtask"]) == ("2026", 3)
    assert data["unavailable"] == {"bertscore": {"reason": "no model", "fix": "pass --bertscore-model DIR"}}
    assert ScoreReport.from_json(json.loads(report.dumps())) == report
    assert report.overall_score is None


def test_write_read_and_determinism(tmp_path):
    report = make_report(per_case={"micro_f1": {"1": [1, 2, 3]}}, aggregations={"micro_f1": "micro_f1"})
    path = report.write(tmp_path / "out" / "score.json")
    assert path.read_text(encoding="utf-8") == report.dumps()
    assert ScoreReport.read(path) == report
    assert make_report().dumps() == make_report().dumps()
    assert "created" not in report.dumps()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_never_nan(bad):
    with pytest.raises(ValueError, match="NaN or infinity"):
        make_report(scores={"bleu": bad})
    with pytest.raises(ValueError):
        make_report(per_case={"bleu": {"21": bad}})
    with pytest.raises(ValueError):
        make_report(partial_scores={"overall_score": bad})


def test_unknown_schema_version_is_refused(tmp_path):
    data = make_report().to_json()
    data["schema_version"] = 99
    with pytest.raises(InputError, match="schema_version"):
        ScoreReport.from_json(data)
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError):
        ScoreReport.read(path)


def test_overall_score_property():
    report = make_report(scores={"overall_score": 32.87}, partial=False, missing=())
    assert report.overall_score == 32.87
