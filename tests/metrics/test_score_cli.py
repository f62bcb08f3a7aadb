"""``archehr score``: JSON on stdout, --out written atomically, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archehr.score_cli import score_command
from harness.data import load_dataset
from submissions import package_zip


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    split = load_dataset("synthetic").split("test")
    return [
        {"case_id": c.case_id, "prediction": split.keys[c.case_id].clinician_answer_without_citations}
        for c in split.cases
    ]


def run(*args: str):
    return CliRunner().invoke(score_command, list(args))


def write(tmp_path, entries, name="submission.json"):
    path = tmp_path / name
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_scores_and_writes_the_report(tmp_path, entries):
    sub = write(tmp_path, entries)
    out = tmp_path / "reports" / "score.json"
    result = run(
        str(sub), "--data", "synthetic", "--split", "test", "--subtask", "3", "--lexical-only", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert json.loads(out.read_text(encoding="utf-8")) == printed
    assert printed["lexical_only"] and printed["partial"] and printed["scores"]["rougeLsum"] == pytest.approx(100.0)
    assert "unavailable: bertscore: skipped: --lexical-only" in result.stderr


def test_zip_and_case_ids(tmp_path, entries):
    zipped = package_zip(write(tmp_path, entries), tmp_path / "submission.zip")
    result = run(
        str(zipped), "--data", "synthetic", "--split", "test", "--subtask", "3", "--lexical-only",
        "--case-ids", "21-22", "--case-ids", "25",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["case_ids"] == ["21", "22", "25"]


def test_refused_submission_exits_1_with_one_line_per_problem(tmp_path, entries):
    sub = write(tmp_path, [*entries[1:], {"case_id": 7, "prediction": "x"}])
    result = run(str(sub), "--data", "synthetic", "--split", "test", "--subtask", "3", "--lexical-only")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) >= 2 and any(entries[0]["case_id"] in line for line in errors)
    assert result.stdout == ""


@pytest.mark.parametrize(
    "extra",
    [
        [],  # 2026 needs --subtask
        ["--year", "2025", "--subtask", "3"],
        ["--subtask", "3", "--bertscore-standin", "--bertscore-model", "/models/distilbert"],
        ["--subtask", "3", "--case-ids", "9-1"],
        ["--subtask", "9"],
    ],
)
def test_usage_errors_exit_2(tmp_path, entries, extra):
    result = run(str(write(tmp_path, entries)), "--data", "synthetic", "--split", "test", *extra)
    assert result.exit_code == 2, result.output


def test_unknown_split_exits_1(tmp_path, entries):
    result = run(str(write(tmp_path, entries)), "--data", "synthetic", "--split", "nope", "--subtask", "3")
    assert result.exit_code == 1 and "nope" in result.stderr
