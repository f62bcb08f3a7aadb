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


# ---------------------------------------------------------------------- many submissions in one call

LEXICAL = ("--data", "synthetic", "--split", "test", "--subtask", "3", "--lexical-only")


def _variants(tmp_path, entries):
    """Three submissions: the gold answers, a shortened copy (file), and a reversed copy (zip in a run folder)."""
    short = [{**e, "prediction": " ".join(e["prediction"].split()[:12])} for e in entries]
    rev = [{**e, "prediction": " ".join(reversed(e["prediction"].split()))} for e in entries]
    gold = write(tmp_path, entries, "gold.json")
    cut = write(tmp_path, short, "short.json")
    run_dir = tmp_path / "runs" / "reversed"
    run_dir.mkdir(parents=True)
    zipped = package_zip(write(run_dir, rev), run_dir / "submission.zip")
    (run_dir / "submission.json").unlink()
    return gold, cut, zipped


def test_many_submissions_one_report_each_and_a_summary(tmp_path, entries, monkeypatch):
    from metrics.lexical import BleuMetric

    prepared = []
    original = BleuMetric.prepare
    monkeypatch.setattr(BleuMetric, "prepare", lambda self, refs: prepared.append(1) or original(self, refs))
    gold, cut, zipped = _variants(tmp_path, entries)
    out = tmp_path / "reports"
    result = run(str(gold), str(cut), str(tmp_path / "runs"), *LEXICAL, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert prepared == [1]  # the references were prepared once for the three submissions

    rows = json.loads(result.stdout)["submissions"]
    assert [r["name"] for r in rows] == ["gold", "short", "reversed"]
    assert sorted(p.name for p in out.iterdir()) == ["gold.json", "reversed.json", "short.json"]
    for row, path in zip(rows, (gold, cut, zipped), strict=True):
        assert row["report"] == str(out / f"{row['name']}.json")
        alone = run(str(path), *LEXICAL)  # the same submission scored on its own
        assert json.loads(alone.stdout) == json.loads((out / f"{row['name']}.json").read_text(encoding="utf-8"))
        assert row["scores"] == json.loads(alone.stdout)["scores"] and row["partial"] is True
    assert rows[0]["scores"]["rougeLsum"] == pytest.approx(100.0)
    assert rows[1]["scores"]["rougeLsum"] < 99.0
    text = run(str(gold), str(cut), str(tmp_path / "runs"), *LEXICAL, "--format", "text")  # the table for people
    table = [line for line in text.stdout.splitlines() if line.startswith(("name", "gold", "short", "reversed"))]
    assert table[0].split()[:3] == ["name", "overall_score", "bleu"] and len(table) == 4


def test_many_submissions_one_refused_writes_nothing(tmp_path, entries):
    gold, cut, _ = _variants(tmp_path, entries)
    bad = write(tmp_path, entries[1:], "bad.json")
    out = tmp_path / "reports"
    result = run(str(gold), str(bad), str(cut), *LEXICAL, "--out", str(out))
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors and all("bad.json" in line for line in errors)
    assert not out.exists() and result.stdout == ""


def test_many_submissions_need_an_out_folder(tmp_path, entries):
    gold, cut, _ = _variants(tmp_path, entries)
    result = run(str(gold), str(cut), *LEXICAL, "--out", str(tmp_path / "one.json"))
    assert result.exit_code == 2 and "folder" in result.output


def test_many_submissions_added_to_a_leaderboard(tmp_path, entries):
    from leaderboard.store import LeaderboardStore

    gold, cut, zipped = _variants(tmp_path, entries)
    db = tmp_path / "board.sqlite"
    result = run(
        str(gold), str(cut), str(zipped), *LEXICAL, "--out", str(tmp_path / "reports"), "--leaderboard", str(db)
    )
    assert result.exit_code == 0, result.output
    with LeaderboardStore(db) as store:
        assert sorted(e.system for e in store.entries()) == ["gold", "reversed", "short"]
    assert result.stderr.count("leaderboard: ") == 3


def test_a_run_folder_with_json_and_zip_counts_once(tmp_path, entries):
    from metrics.many import expand_submission_paths

    run_dir = tmp_path / "runs" / "bl"
    run_dir.mkdir(parents=True)
    package_zip(write(run_dir, entries), run_dir / "submission.zip")
    other = tmp_path / "runs" / "zip-only"
    other.mkdir()
    package_zip(write(other, entries), other / "submission.zip")
    (other / "submission.json").unlink()
    assert expand_submission_paths([tmp_path / "runs"]) == [run_dir / "submission.json", other / "submission.zip"]
