"""The judge's pure parts with hand-worked values: rubric, verdict parsing, agreement statistics, the report
section and the registry's guarantee that the judge never enters an official score."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from harness.tasks import all_tasks, get_task
from metrics.judge import JudgeConfigError, load_config, load_rubric, parse_preference, parse_verdict
from metrics.judge.agreement import cohen_kappa, ranks, read_ratings, spearman
from metrics.judge.core import (
    DEFAULT_RUBRIC,
    Author,
    Judge,
    VerdictError,
    judge_items,
    verdict_json,
)
from metrics.registry import check_task, get_metric_spec
from metrics.report import ScoreReport

RUBRIC = load_rubric()


def test_default_rubric_defines_the_registered_keys() -> None:
    spec = get_metric_spec("llm-judge")
    assert spec.kind == "judge" and spec.factory is None
    assert spec.output_keys == RUBRIC.output_keys
    assert spec.output_keys == ("judge_grounded", "judge_answers", "judge_consistent", "judge_patient", "judge_mean")
    assert all(o.display.endswith("(LLM judge, not official)") for o in spec.outputs)
    assert RUBRIC.display() == {o.key: o.display for o in spec.outputs}
    assert set(spec.judge_tasks) == {"2026/3", "2025", "fhir/2"}
    assert (RUBRIC.scale_min, RUBRIC.scale_max) == (1, 5) and len(RUBRIC.sha256) == 64


def test_no_task_scores_the_judge_officially() -> None:
    assert not any("llm-judge" in t.families for t in all_tasks())
    task = get_task("2026/3")
    with pytest.raises(ValueError, match="llm-judge: a judge family never enters an official score"):
        check_task(replace(task, families=(*task.families, "llm-judge")))


def test_scale_conversions() -> None:
    assert [RUBRIC.percent(v) for v in (1, 2, 3, 5)] == [0.0, 25.0, 50.0, 100.0]
    assert [RUBRIC.on_scale(p) for p in (0.0, 12.5, 37.4, 100.0)] == [1, 2, 2, 5]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("The answer is good.", "no JSON object"),
        ('{"grounded": 4, "answers": 5, "consistent": 3}', "patient: None is not an integer"),
        ('{"grounded": 4.5, "answers": 5, "consistent": 3, "patient": 1}', "grounded: 4.5 is not an integer"),
        ('{"grounded": true, "answers": 5, "consistent": 3, "patient": 1}', "grounded: True is not an integer"),
        ('{"grounded": 0, "answers": 5, "consistent": 3, "patient": 1}', "grounded: 0 is outside 1..5"),
    ],
)
def test_invalid_verdicts(text: str, why: str) -> None:
    with pytest.raises(VerdictError, match=why):
        parse_verdict(text, RUBRIC)


def test_valid_verdicts() -> None:
    text = 'Sure! {"note": 1} ```json\n{"grounded": "4", "answers": 5.0, "consistent": 3, "patient": 1, '
    text += '"rationale": " ok "}\n```'
    assert parse_verdict(text, RUBRIC) == ({"grounded": 4, "answers": 5, "consistent": 3, "patient": 1}, "ok")


@pytest.mark.parametrize(
    ("tail", "rationale"),
    [
        ('"rationale": "The note says the fever', "The note says the fever…"),
        ('"rationale": "cut inside an escape \\', "cut inside an escape…"),
        ('"rationale": "cut inside \\u00', "cut inside…"),
        ('"rationale": "an escaped backslash \\\\', "an escaped backslash \\…"),
        ('"rationale": "two escaped backslashes, then a cut \\\\\\\\\\', "two escaped backslashes, then a cut \\\\…"),
    ],
)
def test_an_output_cut_inside_its_rationale_keeps_its_scores(tail: str, rationale: str) -> None:
    text = '{"grounded": 2, "answers": 3, "consistent": 2, "patient": 4, ' + tail
    assert parse_verdict(text, RUBRIC) == ({"grounded": 2, "answers": 3, "consistent": 2, "patient": 4}, rationale)
    assert parse_preference('{"better": "2", "rationale": "Answer 2 cites') == (1, "Answer 2 cites…")


@pytest.mark.parametrize(
    "text",
    [
        '{"grounded": 2, "answers": 3, "rationale": "cut before two criteria',  # criteria missing: still invalid
        '{"grounded": 2, "answers": 3, "consistent": 2, "patient": 4, "rationale": "closed" and then broken',
        '{"grounded": 2, "answers": 3, "consistent": 2, "patient": 4, "rationale": 5',
    ],
)
def test_only_a_cut_rationale_is_recovered(text: str) -> None:
    with pytest.raises(VerdictError):
        parse_verdict(text, RUBRIC)


def test_worked_examples_are_graded_on_the_rubric() -> None:
    (example,) = RUBRIC.examples
    assert example.item.note.startswith("[1] ") and len(example.answers) == 2
    for answer in example.answers:  # what the judge is shown parses back to the example's own verdict
        shown = verdict_json(RUBRIC, answer.scores, answer.rationale)
        assert parse_verdict(shown, RUBRIC) == (dict(answer.scores), answer.rationale)
    assert len({sum(a.scores.values()) for a in example.answers}) == 2  # a good and a poor answer


def test_few_shot_prompts_show_each_example_before_the_case(tmp_path: Path) -> None:
    def _judge(**config: object) -> Judge:  # nothing is sent: prompts and signatures only
        judge = Judge.open(load_config(None, {"model": "m", **config}), tmp_path)
        judge.close()
        return judge

    from harness.data.loader import load_dataset

    split = load_dataset("synthetic").split("test")
    task = get_task("2026/3")
    answer = (split.keys or {})["21"].clinician_answer_without_citations
    (item,) = judge_items(task, split, {"21": answer})
    author = Author("baseline", is_judge=True)
    turns = _judge().pointwise_prompt(item, author)
    assert [r for r, _ in turns] == ["system", "user", "assistant", "user", "assistant", "user"]
    example = RUBRIC.examples[0]
    assert example.answers[0].text in turns[1][1] and example.answers[1].text in turns[3][1]
    assert "wrote this answer" not in turns[1][1] and "(you, baseline, wrote this answer)" in turns[5][1]
    assert turns[2][1] == verdict_json(RUBRIC, example.answers[0].scores, example.answers[0].rationale)
    plain = _judge(few_shot=False)
    assert [r for r, _ in plain.pointwise_prompt(item, None)] == ["system", "user"]
    assert "|few_shot:2|" in _judge().signature("blind") and "|few_shot:0|" in plain.signature("blind")
    shots = _judge()._pairwise_examples()  # both orders, so the examples favour neither position
    assert [r for r, _ in shots] == ["system", "user", "assistant", "user", "assistant"]
    assert [json.loads(shots[i][1])["better"] for i in (2, 4)] == ["1", "2"]
    assert shots[1][1].index(example.answers[0].text) < shots[1][1].index(example.answers[1].text)
    assert shots[3][1].index(example.answers[1].text) < shots[3][1].index(example.answers[0].text)


def test_bad_worked_example(tmp_path: Path) -> None:
    text = Path(DEFAULT_RUBRIC).read_text(encoding="utf-8").replace("          patient: 3\n", "          patient: 6\n")
    path = tmp_path / "rubric.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        JudgeConfigError, match=r"examples\[0\].answers\[1\].verdict.patient: 6 is not an integer in 1..5"
    ):
        load_rubric(path)


def test_preferences() -> None:
    assert parse_preference('{"better": "1"}') == (0, "")
    assert parse_preference('{"better": 2, "rationale": "r"}') == (1, "r")
    assert parse_preference('{"better": "Tie"}') == (None, "")
    with pytest.raises(VerdictError, match="is not 1, 2 or tie"):
        parse_preference('{"better": "3"}')


def test_spearman_hand_worked() -> None:
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)  # 1 - 6*2/(4*15)
    assert list(ranks([1, 2, 2, 3])) == [1.0, 2.5, 2.5, 4.0]
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / np.sqrt(4.5 * 5))
    assert spearman([3, 2, 1], [1, 2, 3]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) is None and spearman([1], [2]) is None


def test_spearman_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, 30), rng.integers(0, 5, 30)
    assert spearman(list(x), list(y)) == pytest.approx(stats.spearmanr(x, y).statistic)


def test_kappa_hand_worked() -> None:
    # p_o = 3/4, p_e = .5*.25 + .5*.75 = .5
    assert cohen_kappa([1, 1, 2, 2], [1, 2, 2, 2]) == pytest.approx(0.5)
    # three categories: p_o = 2/3, p_e = 1/3 → 0.5; quadratic: observed 1/3, expected 5/3 → 0.8
    assert cohen_kappa([1, 2, 3], [1, 3, 3]) == pytest.approx(0.5)
    assert cohen_kappa([1, 2, 3], [1, 3, 3], weights="quadratic") == pytest.approx(0.8)
    assert cohen_kappa([2, 2], [2, 2]) is None
    assert cohen_kappa([1, 2, 3, 4], [1, 2, 3, 4], weights="quadratic") == pytest.approx(1.0)


def test_ratings_file(tmp_path: Path) -> None:
    good = tmp_path / "ratings.csv"
    good.write_text("case_id,score\n21,4\n22,2.5\n", encoding="utf-8")
    assert read_ratings(good) == {"21": 4.0, "22": 2.5}
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,score\n21,4\n21,3\n", encoding="utf-8")
    with pytest.raises(Exception, match="case listed twice") as info:
        read_ratings(bad)
    assert "bad.csv" in str(info.value) and "21" in str(info.value)
    bad.write_text("case_id,score\n21,high\n", encoding="utf-8")
    with pytest.raises(Exception, match="'high' is not a number"):
        read_ratings(bad)


def test_config_problems_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "judge.yaml"
    path.write_text("protocol: sighted\nsamplez: 2\n", encoding="utf-8")
    with pytest.raises(JudgeConfigError) as info:
        load_config(str(path))
    assert "samplez" in str(info.value) and "protocol" in str(info.value) and "\n" not in str(info.value)
    path.write_text("samples: 0\n", encoding="utf-8")
    with pytest.raises(JudgeConfigError, match="samples=0"):
        load_config(str(path))


def test_bad_rubric(tmp_path: Path) -> None:
    path = tmp_path / "rubric.yaml"
    path.write_text("name: r\nscale: {min: 3, max: 3}\ncriteria: []\n", encoding="utf-8")
    with pytest.raises(JudgeConfigError, match=r"rubric .*rubric.yaml: scale: min 3 must be below max 3"):
        load_rubric(path)
    path.write_text(
        "name: r\nscale: {min: 0, max: 2}\ncriteria:\n- {key: a, name: A, question: Q, anchors: {0: bad, 2: good}}\n"
        "- {key: a, name: B, question: Q, anchors: {0: bad}}\n",
        encoding="utf-8",
    )
    with pytest.raises(JudgeConfigError, match=r"criteria\[1\].key: 'a' is listed twice"):
        load_rubric(path)


def _report(judge: dict | None = None) -> ScoreReport:
    return ScoreReport(
        task="2026/3",
        split="test",
        case_ids=("1",),
        key_hash="sha256:x",
        scores={"bleu": 1.0},
        overall_key="overall_score",
        signatures={},
        aggregations={"bleu": "mean"},
        per_case={"bleu": {"1": 1.0}},
        judge=judge,
    )


def test_report_judge_section_round_trip() -> None:
    plain = _report()
    assert "judge" not in plain.to_json()  # reports scored without a judge keep their bytes
    section = {"scores": {"judge_mean": 50.0, "judge_grounded": None}, "per_case": {}}
    with_judge = _report(section)
    data = json.loads(with_judge.dumps())
    assert data["judge"] == section
    assert ScoreReport.from_json(data) == with_judge
    with pytest.raises(ValueError, match=r"judge\.scores\.judge_mean"):
        _report({"scores": {"judge_mean": float("nan")}})
