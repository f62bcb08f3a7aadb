"""``archehr fhir``: data build/stats → run → submission → score → leaderboard entry, with the baseline system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archehr.fhir_cli import fhir_group
from leaderboard.ingest import entry_from_report, read_report


def _invoke(*args: str) -> dict:
    result = CliRunner().invoke(fhir_group, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_fhir_track_end_to_end_with_the_baseline(tmp_path: Path) -> None:
    pytest.importorskip("carebundle")
    data = tmp_path / "data"
    built = _invoke("data", "build", "--out", str(data), "--patients", "5", "--seed", "3")
    assert built["splits"]["test"]["questions"] > 0 and built["records"] == 5
    assert _invoke("data", "stats", str(data))["splits"] == built["splits"]

    scores = {}
    for task in ("1", "2"):
        out = tmp_path / f"run{task}"
        summary = _invoke("run", "baseline", "--data", str(data), "--split", "test", "--task", task, "--out", str(out))
        assert summary["track"] == "fhir" and summary["subtask"] == (2 if task == "1" else 3)
        submission = json.loads(Path(summary["submission"]).read_text(encoding="utf-8"))
        assert len(submission) == built["splits"]["test"]["questions"]
        report_path = tmp_path / f"score{task}.json"
        report = _invoke(
            "score",
            summary["submission"],
            "--data",
            str(data),
            "--split",
            "test",
            "--task",
            task,
            "--out",
            str(report_path),
            "--wordnet",
            "none",
        )
        assert report["year"] == "fhir" and report["subtask"] == int(task)
        assert 0 <= report["scores"]["overall_score"] <= 100
        entry = entry_from_report(read_report(report_path), system="baseline", source=str(report_path))
        scores[task] = entry.metrics["overall_score"].value
    assert scores["1"] is not None and scores["2"] is not None


def test_fhir_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(fhir_group, ["score", "x.json", "--data", str(tmp_path), "--split", "test"]).exit_code == 2
    missing = runner.invoke(fhir_group, ["data", "stats", str(tmp_path)])
    assert missing.exit_code == 1 and "bundles" in missing.stderr
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("x")
    assert runner.invoke(fhir_group, ["data", "build", "--out", str(tmp_path / "out")]).exit_code == 2
