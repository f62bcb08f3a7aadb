"""End to end on the real local server (SmolLM2-135M-Instruct under `transformers serve`): `archehr score
--judge` on two synthetic subtask-3 cases. A 135M judge is noise: this checks the pipeline and the bookkeeping
(every case judged or recorded invalid, the cache, the signature) and that the format is followed, not the
grades."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archehr.cli import cli
from harness.data.loader import load_dataset
from llmkit.server import LocalServer, free_port
from metrics.report import ScoreReport

CASES = ["21", "22"]


def test_score_with_the_local_judge(tmp_path: Path) -> None:
    split = load_dataset("synthetic").split("test")
    entries = [{"case_id": c, "prediction": (split.keys or {})[c].clinician_answer_without_citations} for c in CASES]
    submission = tmp_path / "submission.json"
    submission.write_text(json.dumps(entries), encoding="utf-8")
    out = tmp_path / "report.json"
    with LocalServer(port=free_port(), threads=1, log_path=tmp_path / "server.log") as server:
        config = tmp_path / "judge.yaml"
        settings = {"base_url": server.base_url, "model": server.model, "max_tokens": 48, "parse_retries": 1}
        config.write_text(json.dumps({**settings, "concurrency": 1}), encoding="utf-8")
        args = ["score", str(submission), "--data", "synthetic", "--split", "test", "--task", "2026/3"]
        args += ["--case-ids", "21,22", "--lexical-only", "--judge", str(config), "--out", str(out)]
        result = CliRunner().invoke(cli, [*args, "--format", "json"])
        assert result.exit_code == 0, result.output
    report = ScoreReport.read(out)
    section = report.judge
    assert section is not None and section["n_cases"] == 2
    assert section["n_valid"] + len(section["invalid"]) == 2
    # The rubric's worked examples (few_shot) make even the 135M model reply in the format: without them it
    # answered the patient instead (0 valid of 4). Its grades are noise; that it can be graded at all is checked.
    assert section["n_valid"] >= 1, section["verdicts"]
    assert "|few_shot:2|" in section["signature"]
    for case in CASES:  # each case: a valid verdict with its samples, or the recorded failure and no number
        verdict = section["verdicts"][case]
        if case in section["invalid"]:
            assert verdict["invalid"] and len(verdict["errors"]) == 2
            assert section["per_case"]["judge_mean"][case] is None
        else:
            assert len(verdict["samples"]) == 1
            assert 0 <= section["per_case"]["judge_mean"][case] <= 100
    assert f"|model:{Path(server.model).name}|" in section["signature"]
    requests = sum(1 if c not in section["invalid"] and not section["verdicts"][c].get("retried") else 2 for c in CASES)
    cache = (tmp_path / "judge_cache.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(cache) == requests  # every request answered once, and cached
    assert report.scores["bleu"] is not None and "judge_mean" not in report.scores
