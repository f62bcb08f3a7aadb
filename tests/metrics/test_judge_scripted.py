"""The judge's bookkeeping against a real HTTP server answering from a script (llmkit.testing.ScriptedServer):
`archehr score --judge`, the cache and its resume, parse retries, invalid verdicts, blind vs non-blind prompts,
pairwise position swapping and the bias command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archehr.cli import cli
from harness.data.loader import load_dataset
from harness.tasks import get_task
from llmkit.testing import ScriptedServer
from metrics.judge import Author, Judge, JudgeConfig, answer_texts, judge_items
from metrics.judge.core import CACHE_FILE
from metrics.report import ScoreReport

CASES = ["21", "22"]
GOOD = '{"grounded": 4, "answers": 5, "consistent": 3, "patient": 4, "rationale": "fine"}'
LOW = '```json\n{"grounded": 2, "answers": 2, "consistent": 1, "patient": 3, "rationale": "weak"}\n```'


def _user(body: dict[str, Any]) -> str:
    return body["messages"][-1]["content"]


def _submission(tmp_path: Path, name: str = "sub", suffix: str = "") -> Path:
    split = load_dataset("synthetic").split("test")
    entries = [
        {"case_id": c, "prediction": (split.keys or {})[c].clinician_answer_without_citations + suffix} for c in CASES
    ]
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "submission.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def _config(tmp_path: Path, url: str, **extra: Any) -> Path:
    path = tmp_path / "judge.yaml"
    data = {"base_url": url, "model": "scripted", "concurrency": 1, "max_retries": 0, **extra}
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


def _score(submission: Path, config: Path, out: Path, *extra: str) -> Any:
    args = ["score", str(submission), "--data", "synthetic", "--split", "test", "--task", "2026/3"]
    args += ["--case-ids", ",".join(CASES), "--lexical-only", "--judge", str(config), "--out", str(out)]
    return CliRunner().invoke(cli, [*args, *(extra or ("--format", "json"))])


def test_score_judge_columns_retries_invalid_and_cache_resume(tmp_path: Path) -> None:
    # case 21: garbage, then a valid verdict (one parse retry); case 22: out of scale three times (invalid)
    submission = _submission(tmp_path)
    answers = {}
    split = load_dataset("synthetic").split("test")
    for item in judge_items(get_task("2026/3"), split, {c: "x" for c in CASES}):
        answers[item.case_id] = item.note.splitlines()[0]

    def by_case(body: dict[str, Any]) -> str:
        text = _user(body)
        case = next(c for c, line in answers.items() if line in text)
        if case == "21":
            return "no json here" if body.get("temperature") == 0 else GOOD
        return '{"grounded": 9, "answers": 1, "consistent": 1, "patient": 1}'

    with ScriptedServer(by_case) as server:
        config = _config(tmp_path, server.base_url, parse_retries=2)
        out = tmp_path / "report.json"
        result = _score(submission, config, out)
        assert result.exit_code == 0, result.output
        sent = len(server.bodies)
    assert sent == 2 + 2 + 1  # both cases; both again (first retry); 22 once more (second retry)
    report = ScoreReport.read(out)
    section = report.judge
    assert section is not None and section["not_official"] is True
    assert set(report.scores).isdisjoint(section["scores"])  # never among the official keys
    assert section["per_case"]["judge_grounded"] == {"21": 75.0, "22": None}
    assert section["scores"]["judge_grounded"] == 75.0  # the mean over the valid case only
    assert section["scores"]["judge_mean"] == pytest.approx((75 + 100 + 50 + 75) / 4)
    assert section["invalid"] == ["22"] and section["n_valid"] == 1
    assert section["verdicts"]["22"]["invalid"] is True
    assert "outside 1..5" in section["verdicts"]["22"]["errors"][0]
    assert section["verdicts"]["21"]["retried"] == ["attempt 1: no JSON object in the output"]
    assert (
        section["verdicts"]["21"]["rationales"] == ["fine"] and section["verdicts"]["21"]["samples"][0]["answers"] == 5
    )
    assert section["display"]["judge_mean"].endswith("(LLM judge, not official)")
    assert "|protocol:blind|" in section["signature"] and "rubric:archehr-answer-v1@sha256:" in section["signature"]
    assert set(section["agreement"]["judge_mean"]) >= {"bleu", "rougeLsum"}
    cache = tmp_path / CACHE_FILE
    assert len(cache.read_text(encoding="utf-8").splitlines()) == sent

    # resume: the same command asks nothing new (a server that only fails proves it)
    with ScriptedServer([]) as dead:
        config = _config(tmp_path, dead.base_url, parse_retries=2)
        again = tmp_path / "again.json"
        result = _score(submission, config, again)
        assert result.exit_code == 0, result.output
        assert dead.bodies == []
        text = _score(submission, config, again, "--format", "text")
        assert text.exit_code == 0 and dead.bodies == []
    assert json.loads(again.read_text())["judge"] == json.loads(out.read_text())["judge"]
    assert "LLM judge (not official) · protocol blind" in text.stdout
    assert "Judge mean (LLM judge, not official)" in text.stdout and "invalid: 22" in text.stdout


def test_unreachable_judge_fails_cleanly(tmp_path: Path) -> None:
    with ScriptedServer([]) as failing:  # every request: HTTP 500
        out = tmp_path / "report.json"
        result = _score(_submission(tmp_path), _config(tmp_path, failing.base_url), out)
    assert result.exit_code == 1
    assert "giving up after 1 attempts" in result.stderr and "Traceback" not in result.output
    assert not out.exists()


def test_blind_and_non_blind_prompts(tmp_path: Path) -> None:
    split = load_dataset("synthetic").split("test")
    task = get_task("2026/3")
    items = judge_items(task, split, answer_texts(task, json.loads(_submission(tmp_path).read_text()), CASES, "s"))
    with ScriptedServer(lambda body: GOOD) as server:
        config = JudgeConfig(
            base_url=server.base_url, model="m", judge_system_name="me", concurrency=1, cache=str(tmp_path)
        )
        judge = Judge.open(config, tmp_path)
        blind = judge.pointwise(items)
        other = judge.pointwise(items, Author("other-system"))
        itself = judge.pointwise(items, Author("me", is_judge=True))
        judge.close()
        prompts = [_user(b) for b in server.bodies]
    assert len(prompts) == 6
    assert all("written by the system" not in p and "other-system" not in p and "you, me" not in p for p in prompts[:2])
    assert all("(written by the system other-system)" in p for p in prompts[2:4])
    assert all("(you, me, wrote this answer)" in p for p in prompts[4:])
    assert all(items[0].reference in prompts[0] for p in prompts[:1])  # the reference is shown
    assert blind.protocol == "blind" and other.protocol == "non-blind" and itself.author == Author("me", True)
    assert "|protocol:non-blind|" in itself.signature


def test_pairwise_judges_both_orders(tmp_path: Path) -> None:
    split = load_dataset("synthetic").split("test")
    task = get_task("2026/3")
    a = judge_items(task, split, {c: f"ANSWER-A {c}" for c in CASES})
    b = judge_items(task, split, {c: f"ANSWER-B {c}" for c in CASES})

    def prefer_first(body: dict[str, Any]) -> str:  # a position-biased judge: always the first answer
        return '{"better": "1", "rationale": "first"}'

    with ScriptedServer(prefer_first) as server:
        judge = Judge.open(JudgeConfig(base_url=server.base_url, model="m", concurrency=1), tmp_path)
        result = judge.pairwise(a, b)
        judge.close()
        prompts = [_user(body) for body in server.bodies]
    assert len(prompts) == 4
    assert prompts[0].index("ANSWER-A 21") < prompts[0].index("ANSWER-B 21")
    assert prompts[1].index("ANSWER-B 21") < prompts[1].index("ANSWER-A 21")
    # the swap cancels the position bias: one win and one loss per case
    assert result["per_case"]["21"] == {"a_first": 1.0, "b_first": 0.0, "preference_a": 0.5, "consistent": False}
    assert result["preference_a"] == 0.5 and result["position_consistent"] == 0


def test_bias_command_prints_the_difference_with_its_interval(tmp_path: Path) -> None:
    def flattering(body: dict[str, Any]) -> str:  # inflates answers it is told it wrote
        return '{"grounded": 5, "answers": 5, "consistent": 5, "patient": 5}' if "(you, " in _user(body) else GOOD

    mine = _submission(tmp_path, "me")
    theirs = _submission(tmp_path, "other", suffix=" Ask your doctor.")
    with ScriptedServer(flattering) as server:
        config = _config(tmp_path, server.base_url, judge_system_name="me")
        args = ["judge", "bias", f"me={mine}", str(theirs), "--data", "synthetic", "--split", "test"]
        args += ["--task", "2026/3", "--case-ids", "21,22", "--judge", str(config), "--resamples", "200"]
        out = tmp_path / "bias.json"
        result = CliRunner().invoke(cli, [*args, "--out", str(out), "--format", "json"])
        assert result.exit_code == 0, result.output
        text = CliRunner().invoke(cli, [*args, "--format", "text"])
        assert text.exit_code == 0, text.output
    data = json.loads(result.stdout)
    assert data == json.loads(out.read_text())
    good_mean = (75 + 100 + 50 + 75) / 4
    me = data["systems"]["me"]
    assert me["is_judge"] and me["blind"] == good_mean and me["non_blind"] == 100.0
    assert me["non_blind_minus_blind"]["delta"] == pytest.approx(100 - good_mean)
    assert data["systems"]["other"]["non_blind_minus_blind"]["delta"] == 0.0
    assert data["self_minus_other"]["delta"] == pytest.approx(100 - good_mean)
    assert (
        data["self_minus_other"]["ci_low"] <= data["self_minus_other"]["delta"] <= data["self_minus_other"]["ci_high"]
    )
    assert "self minus others: +25.00 [+25.00, +25.00]" in text.stdout


def test_judge_refuses_tasks_without_answers(tmp_path: Path) -> None:
    config = _config(tmp_path, "http://127.0.0.1:9/v1")
    args = ["score", str(_submission(tmp_path)), "--data", "synthetic", "--split", "test", "--task", "2026/2"]
    result = CliRunner().invoke(cli, [*args, "--judge", str(config)])
    assert result.exit_code == 2
    assert "--judge applies to answer tasks" in result.output


def test_non_blind_score_needs_an_author(tmp_path: Path) -> None:
    config = _config(tmp_path, "http://127.0.0.1:9/v1", protocol="non-blind")
    result = _score(_submission(tmp_path), config, tmp_path / "r.json")
    assert result.exit_code == 1
    assert "protocol non-blind needs author" in result.stderr
    assert not (tmp_path / "r.json").exists()


def test_agree_command(tmp_path: Path) -> None:
    split = load_dataset("synthetic").split("test")
    first_lines = {
        i.case_id: i.note.splitlines()[0] for i in judge_items(get_task("2026/3"), split, {c: "" for c in CASES})
    }

    def by_case(body: dict[str, Any]) -> str:  # case 21 grounded 4 (mean 75), case 22 low (mean 25)
        return GOOD if first_lines["21"] in _user(body) else LOW

    with ScriptedServer(by_case) as server:
        out = tmp_path / "report.json"
        assert _score(_submission(tmp_path), _config(tmp_path, server.base_url), out).exit_code == 0
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("case_id,score\n21,4\n22,2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["judge", "agree", str(out), "--reference", str(ratings), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # judge means 75 and 25 are 4 and 2 on the 1..5 scale: the same as the ratings
    assert data["reference"]["spearman"] == pytest.approx(1.0)
    assert data["reference"]["kappa"] == pytest.approx(1.0) and data["reference"]["n"] == 2
    assert data["official"]["bleu"]["n"] == 2
    plain = tmp_path / "plain.json"
    args = ["score", str(_submission(tmp_path)), "--data", "synthetic", "--split", "test", "--task", "2026/3"]
    assert CliRunner().invoke(cli, [*args, "--case-ids", "21,22", "--lexical-only", "--out", str(plain)]).exit_code == 0
    refused = CliRunner().invoke(cli, ["judge", "agree", str(plain)])
    assert refused.exit_code == 2 and "no judge section" in refused.output


def test_pairwise_command(tmp_path: Path) -> None:
    a, b = _submission(tmp_path, "a"), _submission(tmp_path, "b", suffix=" Zebra.")

    def prefer_short(body: dict[str, Any]) -> str:  # the answer without the suffix wins, in either position
        text = _user(body)
        first = text.index("Answer 1")
        second = text.index("Answer 2")
        return '{"better": "2"}' if "Zebra." in text[first:second] else '{"better": "1"}'

    with ScriptedServer(prefer_short) as server:
        args = ["judge", "pairwise", f"a={a}", f"b={b}", "--data", "synthetic", "--split", "test", "--task", "2026/3"]
        args += ["--case-ids", "21,22", "--judge", str(_config(tmp_path, server.base_url)), "--resamples", "100"]
        result = CliRunner().invoke(cli, [*args, "--format", "json"])
        assert result.exit_code == 0, result.output
        text = CliRunner().invoke(cli, [*args, "--format", "text"])
        assert len(server.bodies) == 4  # 2 cases x 2 orders; the text run is answered from the cache
    data = json.loads(result.stdout)
    assert data["preference_a"] == 1.0 and data["position_consistent"] == 2
    assert data["preference_a_percent"]["value"] == 100.0
    assert "preference for a: 100.00 [100.00, 100.00]" in text.stdout


def test_the_data_use_guard_refuses_a_third_party_judge(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = _score(_submission(tmp_path), _config(tmp_path, "https://api.openai.com/v1"), out)
    assert result.exit_code == 1
    assert "neither loopback nor a private network" in result.stderr
    assert not out.exists() and not (tmp_path / CACHE_FILE).exists()


def test_a_judged_report_enters_the_leaderboard_without_its_judge_columns(tmp_path: Path) -> None:
    with ScriptedServer(lambda body: GOOD) as server:
        out = tmp_path / "report.json"
        # not the reference itself: its BLEU is 100.00000000000004, which the leaderboard refuses (reported)
        assert _score(_submission(tmp_path, suffix=" Zebra."), _config(tmp_path, server.base_url), out).exit_code == 0
    db = tmp_path / "board.sqlite"
    added = CliRunner().invoke(cli, ["leaderboard", "add", str(out), "--system", "s", "--db", str(db)])
    assert added.exit_code == 0, added.output
    shown = CliRunner().invoke(cli, ["leaderboard", "show", "--db", str(db), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert "judge_" not in shown.stdout and "bleu" in shown.stdout


def test_eval_judges_the_answers_it_wrote(tmp_path: Path) -> None:
    """``archehr eval --judge``: run, score and judge in one command; the judge section lands in score.json."""
    with ScriptedServer(lambda body: GOOD) as server:
        args = ["eval", "baseline", "--data", "synthetic", "--split", "test", "--task", "2026/3"]
        args += ["--case-ids", ",".join(CASES), "--lexical-only", "--out", str(tmp_path / "run")]
        result = CliRunner().invoke(
            cli, [*args, "--judge", str(_config(tmp_path, server.base_url)), "--format", "json"]
        )
        sent = len(server.bodies)
    assert result.exit_code == 0, result.output
    assert sent == len(CASES)  # one verdict per answer
    report = json.loads((tmp_path / "run" / "score.json").read_text(encoding="utf-8"))
    assert report["judge"]["n_valid"] == len(CASES)
    assert not any(key.startswith("judge_") for key in report["scores"])  # never among the official keys
