"""validate_submission: good submissions pass, every problem is reported at once with case and field."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from harness.data.loader import load_dataset, synthetic_root
from harness.data.model import Split
from harness.errors import InputError
from harness.tasks import UnknownTaskError, task_for
from submissions.validate import ValidationReport, validate_submission

Entries = list[dict[str, Any]]


def _validate(
    entries: Any, split: Split | None, subtask: int | None, year: str = "2026", **kw: Any
) -> ValidationReport:
    task = None if year == "2026" and subtask is None else task_for(year, subtask)
    return validate_submission(entries, split, task, file="sub.json", envelope_year=year, **kw)


def _where(problems: list) -> set[tuple[str | None, str | None]]:
    return {(p.case_id, p.field) for p in problems}


@pytest.mark.parametrize(("subtask", "year"), [(1, "2026"), (2, "2026"), (3, "2026"), (4, "2026"), (None, "2025")])
def test_good_submissions_pass_cleanly(
    mini_split: Split, good_entries: Callable[..., Entries], subtask: int | None, year: str
) -> None:
    report = _validate(good_entries(mini_split, subtask, year), mini_split, subtask, year)
    assert report.ok, report.errors
    assert report.warnings == []
    assert report.case_ids == ("1", "2", "3")


@pytest.mark.skipif(
    not (synthetic_root() / "dev" / "archehr-qa.xml").is_file(), reason="bundled synthetic data not built yet"
)
@pytest.mark.parametrize(("subtask", "year"), [(1, "2026"), (2, "2026"), (3, "2026"), (4, "2026"), (None, "2025")])
def test_good_submissions_pass_on_synthetic_dev(
    good_entries: Callable[..., Entries], subtask: int | None, year: str
) -> None:
    split = load_dataset("synthetic").split("dev")
    report = _validate(good_entries(split, subtask, year), split, subtask, year)
    assert report.ok, report.errors


def test_all_problems_are_reported_at_once(mini_split: Split) -> None:
    entries = [
        {"case_id": "1", "prediction": ["1", "7"]},
        {"case_id": 2, "prediction": ["1"]},
        {"case_id": "3", "prediction": "1"},
        {"case_id": "3", "prediction": ["1"]},
        {"case_id": "8", "prediction": ["1"]},
        "junk",
    ]
    report = _validate(entries, mini_split, 2)
    assert _where(report.errors) == {
        ("1", "prediction"),
        ("2", "case_id"),
        ("3", "prediction"),
        ("3", "case_id"),
        ("8", "case_id"),
        (None, "[5]"),
    }
    messages = " | ".join(p.message for p in report.errors)
    assert "missing" in messages and "extra" in messages and "appears 2 times" in messages


def test_subset_of_cases_mirrors_case_ids_to_score(mini_split: Split, good_entries: Callable[..., Entries]) -> None:
    entries = good_entries(mini_split, 1)
    report = _validate(entries[:2], mini_split, 1, case_ids=["1", "2"])
    assert report.ok and report.case_ids == ("1", "2")
    report = _validate(entries, mini_split, 1, case_ids="1-2")
    assert report.ok
    assert any("outside the requested case ids" in p.message for p in report.warnings)
    report = _validate(entries[1:], mini_split, 1, case_ids=["1", "3"])
    assert _where(report.errors) == {("1", "case_id")}


def test_subset_with_unknown_case_ids_is_refused(mini_split: Split) -> None:
    with pytest.raises(InputError) as info:
        _validate([], mini_split, 1, case_ids=["1", "42"])
    assert "42" in str(info.value)


def test_structural_check_without_a_split(good_entries: Callable[..., Entries], mini_split: Split) -> None:
    entries = [*good_entries(mini_split, 2)[:1], {"case_id": "77", "prediction": ["999"]}]
    assert _validate(entries, None, 2).ok
    report = _validate([{"case_id": "1", "prediction": "1"}, {"case_id": 3, "prediction": []}], None, 2)
    assert _where(report.errors) == {("1", "prediction"), ("3", "case_id")}
    assert report.split is None


def test_envelope_only_without_a_subtask(mini_split: Split) -> None:
    entries = [{"case_id": c, "prediction": 42} for c in ("1", "2", "3")]
    report = _validate(entries, mini_split, None)
    assert report.ok
    assert any("no subtask" in p.message for p in report.warnings)


def test_xml_ids_are_used_when_there_is_no_key(split_without_key: Split) -> None:
    split = split_without_key
    report = _validate([{"case_id": c, "prediction": ["5"]} for c in ("1", "2", "3")], split, 2)
    assert _where(report.errors) == {("3", "prediction")}
    entries = [{"case_id": c, "prediction": [{"answer_id": "3", "evidence_id": ["1"]}]} for c in ("1", "2", "3")]
    report = _validate(entries, split, 4)
    assert _where(report.errors) == {("1", "prediction[0].answer_id"), ("3", "prediction[0].answer_id")}
    assert any("answer ids not checked" in p.message and p.case_id == "2" for p in report.warnings)


def test_key_ids_take_precedence_over_the_xml(mini_split: Split) -> None:
    keys = dict(mini_split.keys or {})
    keys["1"] = replace(keys["1"], relevance=keys["1"].relevance[:3])
    split = replace(mini_split, keys=keys)
    report = _validate([{"case_id": c, "prediction": ["4"]} for c in ("1", "2", "3")], split, 2)
    assert _where(report.errors) == {("1", "prediction")}


def test_ids_with_spaces_get_a_hint(mini_split: Split) -> None:
    report = _validate([{"case_id": c, "prediction": [" 1"]} for c in ("1", "2", "3")], mini_split, 2)
    assert len(report.errors) == 3
    assert all("spaces" in p.message for p in report.errors)


def test_duplicate_ids_inside_a_prediction_warn(mini_split: Split) -> None:
    s2 = [{"case_id": c, "prediction": ["1", "1"]} for c in ("1", "2", "3")]
    report = _validate(s2, mini_split, 2)
    assert report.ok and len(report.warnings) == 3
    s4 = [
        {
            "case_id": c,
            "prediction": [{"answer_id": "1", "evidence_id": ["2", "2"]}, {"answer_id": "1", "evidence_id": []}],
        }
        for c in ("1", "2", "3")
    ]
    report = _validate(s4, mini_split, 4)
    assert report.ok
    assert _where(report.warnings) == {
        (c, f) for c in ("1", "2", "3") for f in ("prediction", "prediction[0].evidence_id")
    }


@pytest.mark.parametrize(("subtask", "limit"), [(1, 15), (3, 75)])
def test_word_limits_warn_without_failing(mini_split: Split, subtask: int, limit: int) -> None:
    at_limit = [{"case_id": c, "prediction": " ".join(["word"] * limit)} for c in ("1", "2", "3")]
    assert _validate(at_limit, mini_split, subtask).warnings == []
    over = [{"case_id": c, "prediction": " ".join(["word"] * (limit + 1))} for c in ("1", "2", "3")]
    report = _validate(over, mini_split, subtask)
    assert report.ok and len(report.warnings) == 3
    assert f"first {limit}" in report.warnings[0].message


def test_citation_markers_in_a_subtask3_answer_warn(mini_split: Split) -> None:
    entries = [{"case_id": c, "prediction": "The dose was lowered [1, 2]."} for c in ("1", "2", "3")]
    report = _validate(entries, mini_split, 3)
    assert report.ok and all("citation marker" in p.message for p in report.warnings)


def test_unknown_fields_warn(mini_split: Split, good_entries: Callable[..., Entries]) -> None:
    entries = [dict(e, score=1.0) for e in good_entries(mini_split, 1)]
    report = _validate(entries, mini_split, 1)
    assert report.ok and _where(report.warnings) == {(c, "score") for c in ("1", "2", "3")}


def test_2025_citations_are_checked_against_the_case(mini_split: Split) -> None:
    entries = [{"case_id": c, "answer": "The dose was lowered. |5|"} for c in ("1", "2", "3")]
    report = _validate(entries, mini_split, None, "2025")
    assert report.ok
    assert _where(report.warnings) == {("3", "answer")}


def test_report_json(mini_split: Split) -> None:
    report = _validate([{"case_id": "1", "prediction": ""}], mini_split, 1)
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is False and data["split"] == "dev" and data["subtask"] == 1 and data["year"] == "2026"
    assert data["cases_expected"] == 3 and data["entries"] == 1
    assert {"file", "case_id", "field", "message"} <= set(data["errors"][0])


def test_not_an_array(mini_split: Split) -> None:
    report = _validate({"1": "x"}, mini_split, 1)
    assert not report.ok and report.entries == 0 and len(report.errors) == 1


@pytest.mark.parametrize(("subtask", "year"), [(9, "2026"), (None, "2027")])
def test_impossible_year_and_subtask_name_no_task(mini_split: Split, subtask: int | None, year: str) -> None:
    with pytest.raises(UnknownTaskError):
        _validate([], mini_split, subtask, year)
