"""Import discipline (docs/architecture.md): what each command may import, checked in subprocesses that block
imports. The core (``harness``) imports no package above it; scoring evidence tasks needs neither torch nor
transformers; lexical-only scoring of text tasks needs no torch; listing systems imports no torch."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import harness
from harness.data import load_dataset

#: Runs the ``archehr`` CLI (or imports modules) with every import of the named top-level packages refused.
BLOCKER = """
import sys

class Block:
    def __init__(self, names):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ImportError(f"import of {name} blocked by the test")
        return None

blocked, mode, *rest = sys.argv[1:]
sys.meta_path.insert(0, Block(set(blocked.split(","))))
if mode == "import":
    import importlib
    for module in rest:
        importlib.import_module(module)
else:
    sys.argv = ["archehr", *rest]
    from archehr.cli import main
    main()
"""

ABOVE_CORE = ("metrics", "submissions", "leaderboard", "systems", "fhirqa", "archehr", "benchmarks")
MODELS = ("torch", "transformers", "bert_score", "sentence_transformers")


def run_blocked(blocked: tuple[str, ...], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, ",".join(blocked), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_the_core_imports_nothing_above_it():
    modules = [m.name for m in pkgutil.walk_packages(harness.__path__, "harness.")]
    assert "harness.tasks" in modules and "harness.systems" in modules and "harness.runs" in modules
    result = run_blocked(ABOVE_CORE + MODELS, "import", "harness", *modules)
    assert result.returncode == 0, result.stderr


def _perfect_submission(tmp_path: Path, subtask: int) -> Path:
    split = load_dataset("synthetic").split("test")
    entries = []
    for case in split.cases:
        key = (split.keys or {})[case.case_id]
        if subtask == 1:
            prediction = case.clinician_question
        elif subtask == 2:
            prediction = key.ids_with("essential")
        elif subtask == 3:
            prediction = key.clinician_answer_without_citations
        else:
            prediction = [
                {"answer_id": a.id, "evidence_id": list(a.citations)} for a in key.clinician_answer_sentences or ()
            ]
        entries.append({"case_id": case.case_id, "prediction": prediction})
    path = tmp_path / f"st{subtask}.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("subtask", "extra", "blocked"),
    [
        (2, (), MODELS),  # evidence tasks: no model at all
        (4, (), MODELS),
        (1, ("--lexical-only",), ("torch",)),  # text tasks, lexical only: no torch
        (3, ("--lexical-only",), ("torch",)),
    ],
)
def test_scoring_imports_only_what_it_needs(tmp_path, subtask, extra, blocked):
    submission = _perfect_submission(tmp_path, subtask)
    args = ("score", str(submission), "--data", "synthetic", "--split", "test", "--task", f"2026/{subtask}", *extra)
    result = run_blocked(blocked, "cli", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "blocked by the test" not in result.stderr
    report = json.loads(result.stdout)
    assert report["task"] == f"2026/{subtask}"
    if extra:  # the neural metrics are skipped; the lexical ones score the gold text (cut to 15 words on 1)
        assert report["partial"] and report["scores"]["rougeLsum"] > 90
    else:
        assert report["scores"]["overall_score"] == pytest.approx(100.0)


def test_the_blocker_blocks():
    result = run_blocked(("torch",), "import", "json", "torch")
    assert result.returncode != 0 and "blocked by the test" in result.stderr


def test_listing_systems_imports_no_torch(tmp_path):
    result = run_blocked(MODELS, "cli", "systems", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "baseline" in result.stdout and "blocked by the test" not in result.stderr
