"""Prediction shapes and the official entries built from ``{case_id: prediction}``."""

from __future__ import annotations

import json

import pytest

from harness.errors import InputError
from submissions.formats import build_entries, describe_ids, json_type, prediction_field, shape_problems


def test_entries_follow_case_order_and_plain_json_types() -> None:
    preds = {"2": ("3", "1"), "1": ["2"]}
    entries = build_entries(preds, ["1", "2"], subtask=2)
    assert entries == [{"case_id": "1", "prediction": ["2"]}, {"case_id": "2", "prediction": ["3", "1"]}]


def test_subtask4_entries_normalise_tuples() -> None:
    preds = {"1": ({"answer_id": "1", "evidence_id": ("2", "3")},)}
    assert build_entries(preds, ["1"], subtask=4) == [
        {"case_id": "1", "prediction": [{"answer_id": "1", "evidence_id": ["2", "3"]}]}
    ]


def test_2025_entries_use_the_answer_field() -> None:
    entries = build_entries({"1": "Text. |1|"}, ["1"], subtask=None, year="2025")
    assert entries == [{"case_id": "1", "answer": "Text. |1|"}]
    assert prediction_field("2025") == "answer"
    assert prediction_field("2026") == "prediction"


def test_build_entries_reports_every_problem() -> None:
    preds = {"1": "", "2": 7, "4": "extra", 5: "int key"}
    with pytest.raises(InputError) as info:
        build_entries(preds, ["1", "2", "3"], subtask=1)
    found = {(p.case_id, p.field) for p in info.value.problems}
    assert found == {("1", "prediction"), ("2", "prediction"), ("3", "prediction"), ("4", "case_id"), ("5", "case_id")}


@pytest.mark.parametrize(("year", "subtask"), [("2026", None), ("2025", 1), ("2024", None), ("2026", 5)])
def test_build_entries_refuses_impossible_year_and_subtask(year: str, subtask: int | None) -> None:
    with pytest.raises(ValueError):
        build_entries({}, [], subtask=subtask, year=year)


@pytest.mark.parametrize(
    ("subtask", "prediction", "field"),
    [
        (1, ["a question?"], "prediction"),
        (1, " \t", "prediction"),
        (3, None, "prediction"),
        (2, "1,2", "prediction"),
        (2, ["1", 2], "prediction[1]"),
        (4, {"answer_id": "1"}, "prediction"),
        (4, [{"answer_id": "1", "evidence_id": [3]}], "prediction[0].evidence_id[0]"),
        (4, [{"answer_id": True, "evidence_id": []}], "prediction[0].answer_id"),
        (4, [{"answer_id": "1"}], "prediction[0].evidence_id"),
    ],
)
def test_shape_problems_name_the_field(subtask: int, prediction: object, field: str) -> None:
    problems = shape_problems(prediction, subtask=subtask, year="2026", file="f.json", case_id="7")
    assert [(p.case_id, p.field, p.file) for p in problems] == [("7", field, "f.json")]


@pytest.mark.parametrize(
    ("subtask", "prediction"),
    [(1, "Why?"), (2, []), (2, ["1", "1"]), (3, "An answer."), (4, []), (4, [{"answer_id": "1", "evidence_id": []}])],
)
def test_good_shapes_pass(subtask: int, prediction: object) -> None:
    assert shape_problems(prediction, subtask=subtask, year="2026") == []


@pytest.mark.parametrize(("year", "subtask"), [("2026", 1), ("2026", 3), ("2025", None)])
def test_lone_surrogate_is_a_shape_problem(year: str, subtask: int | None) -> None:
    text = json.loads('"Why was \\udc00 it done? |1|"')  # an escaped lone surrogate, as json.load reads it
    (problem,) = shape_problems(text, subtask=subtask, year=year, file="f.json", case_id="7")
    assert problem.field == prediction_field(year) and problem.message.startswith(
        "lone surrogate U+DC00 at character 8"
    )
    assert shape_problems(json.loads('"Fine \\ud83d\\ude00 |1|"'), subtask=subtask, year=year) == []  # a valid pair


def test_no_subtask_means_no_shape_check() -> None:
    assert shape_problems(42, subtask=None, year="2026") == []


def test_helpers() -> None:
    assert describe_ids(["3", "1", "2", "5", "7", "8", "x", "01"]) == "1-3, 5, 7-8, 01, x"
    assert describe_ids([]) == "none"
    assert [json_type(v) for v in (None, True, 1, 1.5, "s", [], {})] == [
        "null",
        "boolean",
        "number",
        "number",
        "string",
        "array",
        "object",
    ]
