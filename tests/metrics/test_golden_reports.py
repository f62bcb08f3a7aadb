"""Golden reports: fixed submissions built from the synthetic test key, scored lexical-only, compared with
the committed reports in ``tests/metrics/golden/`` so that any drift (metric code, library versions,
task data, synthetic data) shows up.

The committed files are schema-version-1 reports (written before the task and metric registries); the
current schema-2 report must hold the same content except the fields version 2 added, and reading the v1
file must give the same report (the migration). After an intended change to the numbers, regenerate and
review the diff: ``ARCHEHR_UPDATE_GOLDEN=1 python -m pytest tests/metrics/test_golden_reports.py``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from harness.data import load_dataset
from harness.data.model import Split
from harness.tasks import task_for
from metrics.report import ScoreReport
from metrics.scoring import ScoringOptions, score_submission

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ARCHEHR_UPDATE_GOLDEN") == "1"
#: Fields schema version 2 added to the report (compared through the migration instead).
V2_FIELDS = ("task", "system", "families", "components", "schema_version")


def submission(split: Split, year: str, subtask: int | None) -> list[dict[str, Any]]:
    """A deterministic, imperfect submission for each task, built from the key."""
    keys = split.keys or {}
    out: list[dict[str, Any]] = []
    for case in split.cases:
        key = keys[case.case_id]
        essential = key.ids_with("essential")
        text = {s.id: s.text for s in case.sentences or ()}
        if year == "2025":
            other = [s for s in text if s not in essential][:1]
            lines = [f"{text[i]} |{i}|" for i in essential[:2] + other]
            out.append({"case_id": case.case_id, "answer": "\n".join(lines)})
        elif subtask == 1:  # the patient's own question phrase (cut at 15 words by the scorer)
            out.append({"case_id": case.case_id, "prediction": case.phrases[0].text})
        elif subtask == 2:  # the essential ids minus one, plus the first sentence
            out.append({"case_id": case.case_id, "prediction": sorted({*essential[1:], "1"}, key=int)})
        elif subtask == 3:  # first answer sentence, then the first essential note sentence on its own line
            first = key.clinician_answer_sentences[0].text
            out.append({"case_id": case.case_id, "prediction": f"{first}\n{text[essential[0]]}"})
        else:  # each answer sentence's citations minus the last one, and sentence 1 for the first answer
            links = [{"answer_id": a.id, "evidence_id": list(a.citations[:-1])} for a in key.clinician_answer_sentences]
            links[0]["evidence_id"].append("1")
            out.append({"case_id": case.case_id, "prediction": links})
    return out


def assert_same(got: Any, want: Any, where: str = "report") -> None:
    if isinstance(want, float) or isinstance(got, float):
        assert isinstance(got, int | float) and isinstance(want, int | float), where
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), f"{where}: {got!r} != {want!r}"
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), f"{where}: keys {list(got)} != {list(want)}"
        for k in want:
            assert_same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


@pytest.mark.parametrize(("year", "subtask"), [("2026", 1), ("2026", 2), ("2026", 3), ("2026", 4), ("2025", None)])
def test_golden_report(year, subtask):
    split = load_dataset("synthetic").split("test")
    task = task_for(year, subtask)
    report = score_submission(submission(split, year, subtask), split, task, options=ScoringOptions(lexical_only=True))
    name = f"synthetic-test-{year}" + ("" if subtask is None else f"-subtask{subtask}") + "-lexical.json"
    path = GOLDEN / name
    got = json.loads(report.dumps())
    got.pop("harness_version")
    assert got["schema_version"] == 2 and got["task"] == task.id
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    want = json.loads(path.read_text(encoding="utf-8"))
    if want["schema_version"] == 1:
        assert_same(
            {k: v for k, v in got.items() if k not in V2_FIELDS},
            {k: v for k, v in want.items() if k != "schema_version"},
        )
        migrated = ScoreReport.from_json({**want, "harness_version": report.harness_version}, source=str(path))
        assert migrated == report
    else:
        assert_same(got, want)
