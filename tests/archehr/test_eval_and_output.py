"""``archehr eval`` end to end on the synthetic data, and results as text or JSON."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from archehr.cli import cli
from archehr.report_text import headline, score_table, short_signature
from metrics.report import ScoreReport

EVAL = ["eval", "baseline", "--data", "synthetic", "--split", "test", "--task", "2026/2"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_eval_writes_submission_zip_score_and_board_row(tmp_path: Path) -> None:
    out, db = tmp_path / "run", tmp_path / "board.sqlite"
    result = invoke(*EVAL, "--out", str(out), "--leaderboard", str(db))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # not a terminal: JSON
    assert summary["files"] == {
        "predictions": summary["files"]["predictions"],
        "submission": str(out / "submission.json"),
        "zip": str(out / "submission.zip"),
        "score": str(out / "score.json"),
    }
    with zipfile.ZipFile(out / "submission.zip") as zf:
        assert zf.namelist() == ["submission.json"]
        assert json.loads(zf.read("submission.json")) == json.loads((out / "submission.json").read_text())
    report = ScoreReport.read(out / "score.json")
    assert report.system is not None and report.system["name"] == "baseline"
    assert report.scores == summary["score"]["scores"]
    assert summary["headline"]["label"] == "official" and summary["headline"]["value"] == report.overall_score
    assert summary["leaderboard"]["added"] is True
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 1

    def shown(*args: str) -> list[str]:
        tables = json.loads(invoke("leaderboard", "show", "--db", str(db), *args).stdout)["tables"]
        return [row["system"] for table in tables for row in table["rows"]]

    assert shown("--task", "2026/2") == ["baseline"] and shown("--task", "2026/3") == []

    # the same score as run + score, and a rerun reuses the stored predictions
    scored = invoke("score", str(out / "submission.json"), "--data", "synthetic", "--split", "test", "--task", "2026/2")
    assert json.loads(scored.stdout)["scores"] == report.scores
    again = json.loads(invoke(*EVAL, "--out", str(out), "--leaderboard", str(db)).stdout)
    assert again["reused"] == 12 and again["leaderboard"]["added"] is False


def test_eval_text_output_leads_with_the_labelled_headline(tmp_path: Path) -> None:
    result = invoke(*EVAL, "--out", str(tmp_path), "--case-ids", "21-26 28", "--format", "text", "--decimals", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2026 Subtask 2 · evidence identification · split test · 7 cases · system baseline")
    assert lines[1].startswith("overall_score = ") and lines[1].endswith("(official)")
    assert (
        f"overall_score = {json.loads((tmp_path / 'score.json').read_text())['scores']['overall_score']:.1f}"
        in lines[1]
    )
    assert any(line.strip().startswith("zip: ") and line.endswith("submission.zip") for line in lines)


def test_eval_refuses_invalid_predictions_and_writes_nothing(tmp_path: Path) -> None:
    module = tmp_path / "broken.py"
    module.write_text(
        "from harness.systems import Prediction, SystemCard, register_system\n"
        "class Broken:\n"
        "    card = SystemCard('broken', '1', (2,), 'integer ids')\n"
        "    def predict(self, cases, subtask):\n"
        "        for case in cases:\n"
        "            yield Prediction(case.case_id, [1])\n"
        "register_system('broken', subtasks=(2,), description='integer ids')(lambda config: Broken())\n",
        encoding="utf-8",
    )
    out = tmp_path / "run"
    result = invoke("--system-module", str(module), *EVAL[:1], "broken", *EVAL[2:], "--out", str(out))
    assert result.exit_code == 1
    assert "case 21" in result.stderr and "Traceback" not in result.output
    assert not (out / "submission.json").exists() and not (out / "score.json").exists()


def _report(**changes: object) -> dict:
    base = {
        "task": "2026/3",
        "split": "test",
        "case_ids": ["21", "22"],
        "overall_key": "overall_score",
        "scores": {"bleu": 4.105, "bertscore": 61.0, "alignscore": None, "overall_score": None},
        "families": {"bleu": "bleu", "bertscore": "bertscore", "alignscore": "alignscore"},
        "components": {"overall_score": ["bleu", "bertscore", "alignscore"]},
        "partial": True,
        "missing": ["alignscore"],
        "partial_scores": {"overall_score": 32.5525},
        "unavailable": {"alignscore": {"reason": "no AlignScore-base.ckpt", "fix": "set ARCHEHR_ALIGNSCORE_CKPT"}},
        "signatures": {
            "bleu": "bleu|nrefs:1|tok:13a|sacrebleu:2.6.0|harness:0.1",
            "bertscore": "bertscore-minilm|layer:4|standin|bert_score:0.3.13",
            "alignscore": "alignscore|ckpt:AlignScore-base.ckpt",
            "overall_score": "overall_score|mean:bleu,bertscore,alignscore|2026-subtask3|components:abc",
        },
        "not_comparable": ["bertscore", "overall_score"],
        "comparable": False,
    }
    base.update(changes)
    return base


def test_headline_labels() -> None:
    assert headline(_report()) == ("partial", 32.5525, "lacks alignscore; stand-ins: bertscore")
    full = _report(partial=False, missing=[], unavailable={}, scores={"bleu": 1.0, "overall_score": 2.0})
    assert headline(full) == ("stand-in", 2.0, "stand-ins: bertscore")
    assert headline({**full, "comparable": True, "not_comparable": []}) == ("official", 2.0, "")


def test_score_table_reports_each_unavailable_metric_once() -> None:
    text = score_table(_report())
    assert text.splitlines()[1] == "overall_score = 32.55  (partial: lacks alignscore; stand-ins: bertscore)"
    assert text.count("no AlignScore-base.ckpt") == 1 and text.count("set ARCHEHR_ALIGNSCORE_CKPT") == 1
    assert " 4.11  bleu nrefs:1 tok:13a" in text and "sacrebleu" not in text  # versions stay in the JSON
    assert "[stand-in]" in text


def test_short_signature() -> None:
    assert short_signature("bleu|nrefs:1|tok:13a|sacrebleu:2.6.0|harness:0.1") == "bleu nrefs:1 tok:13a"
    assert short_signature("overall_score|mean:a,b|2026-subtask3|components:x") == "mean of a, b"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_format_is_forced_either_way(fmt: str) -> None:
    result = invoke("systems", "--format", fmt)
    assert result.exit_code == 0
    if fmt == "json":
        assert any(row["name"] == "baseline" for row in json.loads(result.stdout))
    else:
        assert result.stdout.splitlines()[0].split() == ["name", "subtasks", "description"]


def test_json_decimals_round_only_when_asked(tmp_path: Path) -> None:
    invoke(*EVAL, "--out", str(tmp_path))
    submission = str(tmp_path / "submission.json")
    args = ["score", submission, "--data", "synthetic", "--split", "test", "--task", "2026/2"]
    full = json.loads(invoke(*args).stdout)["scores"]["strict_macro_precision"]
    rounded = json.loads(invoke(*args, "--decimals", "2").stdout)["scores"]["strict_macro_precision"]
    assert rounded == round(full, 2) and rounded != full


def test_text_never_carries_raw_control_characters() -> None:
    from harness.cli_support import render_text, safe_text

    assert safe_text("a\x1b[31mb\u200bc\n\td é") == "a\\x1b[31mb\\u200bc\n\td é"
    assert "\x1b" not in render_text({"file": "x\x1b]0;pwned\x07.json", "rows": [{"id": "\x1b[2J"}]})
    assert "\x1b" not in score_table(_report(warnings=[], truncated=["2\x1b[2J"]))


def test_render_text_shapes() -> None:
    from harness.cli_support import render_text

    text = render_text({"a": 1.23456, "b": [1, 2], "c": {"d": None, "e": True}, "f": [{"x": 1, "y": "z"}]}, 1)
    assert text.splitlines() == ["a: 1.2", "b: 1, 2", "c:", "  d: —", "  e: yes", "f:", "  x  y", "  -  -", "  1  z"]


def test_eval_default_out_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*EVAL, "--case-ids", "21")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"]["score"] == str(Path("runs/baseline/2026-subtask2/test/score.json"))
    assert (tmp_path / "runs" / "baseline" / "2026-subtask2" / "test" / "submission.zip").is_file()
