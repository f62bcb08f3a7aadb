"""The worked example of docs/architecture.md runs: a metric and a task, one registered definition each, are
enough to score a submission and lay out its leaderboard table (in a subprocess: registries are global)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"

CHECK = """
import json
from harness.data import load_dataset
from harness.tasks import get_task
from leaderboard.ingest import entry_from_report
from leaderboard.schema import columns_for, table_title
from metrics.scoring import ScoringOptions, SubmissionScorer

split = load_dataset("synthetic").split("test")
task = get_task("example/1")
keys = split.keys or {}
entries = [
    {"case_id": c.case_id, "prediction": " ".join(keys[c.case_id].clinician_answer_without_citations.split()[:5])}
    for c in split.cases
]
report = SubmissionScorer(split, task, options=ScoringOptions(lexical_only=True)).score(entries)
entry = entry_from_report(report.to_json(), system="example")
print(json.dumps({
    "task": report.task,
    "scores": report.scores,
    "families": report.families,
    "title": table_title(entry.year, entry.subtask),
    "columns": [c.display for c in columns_for(entry.year, entry.subtask, report.scores)],
}))
"""


def test_the_worked_example_registers_a_metric_and_a_task():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1
    result = subprocess.run([sys.executable, "-c", blocks[0] + CHECK], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["task"] == "example/1"
    assert out["families"]["length_ratio"] == "length_ratio" and out["families"]["rougeLsum"] == "rouge"
    assert 0 < out["scores"]["length_ratio"] < 100  # five words of each reference
    expected = (out["scores"]["length_ratio"] + out["scores"]["rougeLsum"]) / 2
    assert abs(out["scores"]["overall_score"] - expected) < 1e-9
    assert out["title"] == "example Subtask 1 · answer length"
    assert out["columns"][:3] == ["Overall", "Length ratio", "ROUGE-Lsum"]
