"""Every broken submission under fixtures/bad/ is caught, naming its case and field (manifest.json says which)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.data.model import Split
from harness.tasks import task_for
from submissions.io import read_submission
from submissions.validate import validate_submission

BAD = Path(__file__).parent / "fixtures" / "bad"
MANIFEST: dict[str, dict[str, Any]] = json.loads((BAD / "manifest.json").read_text(encoding="utf-8"))


def test_every_fixture_is_in_the_manifest() -> None:
    on_disk = {p.name for p in BAD.glob("*.json")} - {"manifest.json"}
    assert on_disk == set(MANIFEST)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_bad_fixture_is_reported(name: str, mini_split: Split) -> None:
    spec = MANIFEST[name]
    path = BAD / name
    report = validate_submission(
        read_submission(path),
        mini_split,
        None if spec["subtask"] is None and spec["year"] == "2026" else task_for(spec["year"], spec["subtask"]),
        file=str(path),
        envelope_year=spec["year"],
    )
    for expected in spec["expect"]:
        pool = report.errors if expected["level"] == "error" else report.warnings
        matches = [
            p
            for p in pool
            if p.case_id == expected["case_id"] and p.field == expected["field"] and expected["contains"] in p.message
        ]
        assert matches, f"{name}: no {expected} among {[str(p) for p in pool]}"
        assert all(p.file == str(path) for p in pool)
    has_errors = any(e["level"] == "error" for e in spec["expect"])
    assert report.ok is not has_errors
