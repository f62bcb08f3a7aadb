"""Stage-1 corpus loader (emrQA-MedSQuAD layouts) and the packaged synthetic stand-in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InputError, Problem
from systems.qunlp.generator.emrqa import (
    SYNTHETIC_STAGE1,
    MissingDependencyError,
    Stage1Example,
    load_stage1_corpus,
    read_stage1_corpus,
)

REPO = Path(__file__).resolve().parents[3]
BUILD_SCRIPT = REPO / "scripts" / "build_emrqa.py"

NOTE_A = "Discharge meds: metoprolol 25 mg twice daily for hypertension. Chest x-ray: clear lungs."
NOTE_B = "Colonoscopy in 2081 showed two polyps. No known drug allergies."
ROWS: list[dict[str, Any]] = [
    {
        "id": "q1",
        "title": "note-a",
        "context": NOTE_A,
        "question": "What is the dosage of metoprolol?",
        "answers": {"text": ["25 mg"], "answer_start": [NOTE_A.index("25 mg")]},
    },
    {
        "id": "q2",
        "title": "note-a",
        "context": NOTE_A,
        "question": "What is the dosage of warfarin?",
        "answers": {"text": [], "answer_start": []},
    },
    {  # several answers: all checked, the first kept
        "id": "q3",
        "title": "note-b",
        "context": NOTE_B,
        "question": "Has the patient ever had a colonoscopy?",
        "answers": {
            "text": ["Colonoscopy in 2081 showed two polyps", "Colonoscopy"],
            "answer_start": [0, 0],
        },
    },
]
EXPECTED = [
    Stage1Example("q1", NOTE_A, "What is the dosage of metoprolol?", "25 mg", NOTE_A.index("25 mg")),
    Stage1Example("q2", NOTE_A, "What is the dosage of warfarin?", None, None),
    Stage1Example("q3", NOTE_B, "Has the patient ever had a colonoscopy?", "Colonoscopy in 2081 showed two polyps", 0),
]


def _squad(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The nested SQuAD v2 form of flat rows (one paragraph per distinct context)."""
    paragraphs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        texts, starts = row["answers"]["text"], row["answers"]["answer_start"]
        answers = [{"text": t, "answer_start": s} for t, s in zip(texts, starts, strict=True)]
        qa = {"id": row["id"], "question": row["question"], "answers": answers, "is_impossible": not answers}
        paragraphs.setdefault(row["context"], []).append(qa)
    article = {"title": "notes", "paragraphs": [{"context": c, "qas": qas} for c, qas in paragraphs.items()]}
    return {"version": "v2.0", "data": [article]}


def _write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _problem(err: pytest.ExceptionInfo[InputError]) -> Problem:
    (problem,) = err.value.problems
    return problem


# --------------------------------------------------------------------------------------------------------------------
# The packaged synthetic corpus and its generator
# --------------------------------------------------------------------------------------------------------------------


def test_packaged_corpus_loads_and_every_span_matches() -> None:
    examples = load_stage1_corpus("synthetic")
    assert examples == load_stage1_corpus(SYNTHETIC_STAGE1)
    answerable = [e for e in examples if e.answerable]
    assert len(answerable) >= 500
    for e in answerable:
        assert e.answer_text and e.answer_start is not None
        assert e.context[e.answer_start : e.answer_start + len(e.answer_text)] == e.answer_text, e.id
    unanswerable = [e for e in examples if not e.answerable]
    assert all(e.answer_start is None for e in unanswerable)
    assert 0.05 <= len(unanswerable) / len(examples) <= 0.15
    assert len({e.id for e in examples}) == len(examples)
    assert len({e.context for e in examples}) >= 120
    assert SYNTHETIC_STAGE1.stat().st_size < 1_500_000


def test_limit_takes_the_first_examples_in_load_order() -> None:
    everything = load_stage1_corpus("synthetic")
    assert load_stage1_corpus("synthetic", limit=7) == everything[:7]
    assert load_stage1_corpus("synthetic", limit=0) == []
    assert load_stage1_corpus("synthetic", limit=10**9) == everything
    with pytest.raises(ValueError):
        load_stage1_corpus("synthetic", limit=-1)


def test_generator_rebuilds_the_shipped_files_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "rebuilt.json"
    subprocess.run([sys.executable, str(BUILD_SCRIPT), "--out", str(out)], check=True, timeout=300)
    assert out.read_bytes() == SYNTHETIC_STAGE1.read_bytes()
    assert (tmp_path / "DATA_CARD.md").read_bytes() == (SYNTHETIC_STAGE1.parent / "DATA_CARD.md").read_bytes()


def test_generator_seed_changes_the_corpus_and_output_still_loads(tmp_path: Path) -> None:
    out = tmp_path / "small.json"
    subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--out", str(out), "--seed", "7", "--notes", "5"], check=True, timeout=300
    )
    examples = load_stage1_corpus(out)
    assert len({e.context for e in examples}) == 5
    assert examples != load_stage1_corpus("synthetic", limit=len(examples))


# --------------------------------------------------------------------------------------------------------------------
# The four layouts, and folders
# --------------------------------------------------------------------------------------------------------------------


def test_flat_json_array(tmp_path: Path) -> None:
    assert load_stage1_corpus(_write_json(tmp_path / "rows.json", ROWS)) == EXPECTED


def test_nested_squad_v2_json(tmp_path: Path) -> None:
    assert load_stage1_corpus(_write_json(tmp_path / "squad.json", _squad(ROWS))) == EXPECTED


def test_jsonl_with_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n\n", encoding="utf-8")
    assert load_stage1_corpus(path) == EXPECTED


def test_json_lines_under_a_json_name(tmp_path: Path) -> None:
    assert load_stage1_corpus(_write_jsonl(tmp_path / "train.json", ROWS)) == EXPECTED


def test_parquet(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="pyarrow is optional (pip install pyarrow); parquet loading untested")
    import pyarrow.parquet as pq

    path = tmp_path / "train-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    assert load_stage1_corpus(path) == EXPECTED
    assert load_stage1_corpus(path, limit=2) == EXPECTED[:2]


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "train.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(MissingDependencyError, match="pip install pyarrow") as err:
        load_stage1_corpus(path)
    assert isinstance(err.value, ImportError)


def test_folder_reads_matching_files_in_sorted_order(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "b.jsonl", ROWS[2:])
    (tmp_path / "a").mkdir()
    _write_json(tmp_path / "a" / "part.json", _squad(ROWS[:2]))
    _write_json(tmp_path / ".hidden.json", "not a corpus")
    (tmp_path / "README.md").write_text("ignored", encoding="utf-8")
    assert load_stage1_corpus(tmp_path) == EXPECTED
    assert load_stage1_corpus(tmp_path, limit=1) == EXPECTED[:1]


def test_missing_ids_are_named_after_file_and_row(tmp_path: Path) -> None:
    rows = [{k: v for k, v in row.items() if k != "id"} for row in ROWS]
    examples = load_stage1_corpus(_write_jsonl(tmp_path / "noids.jsonl", rows))
    assert [e.id for e in examples] == ["noids-0", "noids-1", "noids-2"]
    assert load_stage1_corpus(_write_json(tmp_path / "int.json", [{**ROWS[0], "id": 17}]))[0].id == "17"


def test_answers_as_a_list_of_objects_in_flat_rows(tmp_path: Path) -> None:
    row = {**ROWS[0], "answers": [{"text": "25 mg", "answer_start": NOTE_A.index("25 mg")}]}
    assert load_stage1_corpus(_write_json(tmp_path / "rows.json", [row])) == EXPECTED[:1]


# --------------------------------------------------------------------------------------------------------------------
# Bad input: the error names the file, the row and the field
# --------------------------------------------------------------------------------------------------------------------


def test_span_mismatch_in_flat_rows(tmp_path: Path) -> None:
    row = {**ROWS[0], "answers": {"text": ["25 mg"], "answer_start": [3]}}
    path = _write_json(tmp_path / "rows.json", [ROWS[1], row])
    with pytest.raises(InputError) as err:
        load_stage1_corpus(path)
    problem = _problem(err)
    assert (problem.file, problem.case_id, problem.field) == (str(path), "q1", "answers.answer_start[0]")
    assert "'25 mg'" in problem.message and "does not match" in problem.message
    assert str(path) in str(err.value)


@pytest.mark.parametrize("layout", ["flat", "squad", "jsonl"])
def test_bad_spans_skipped_and_reported(tmp_path: Path, layout: str, caplog: pytest.LogCaptureFixture) -> None:
    shifted = {**ROWS[0], "id": "bad1", "answers": {"text": ["25 mg"], "answer_start": [3]}}
    empty = {**ROWS[2], "id": "bad2", "answers": {"text": [""], "answer_start": [0]}}
    rows = [shifted, ROWS[0], empty, ROWS[1], ROWS[2]]
    if layout == "squad":
        path = _write_json(tmp_path / "squad.json", _squad(rows))
    elif layout == "jsonl":
        path = _write_jsonl(tmp_path / "rows.jsonl", rows)
    else:
        path = _write_json(tmp_path / "rows.json", rows)
    with caplog.at_level("WARNING", logger="systems.qunlp.generator.emrqa"):
        corpus = read_stage1_corpus(path, bad_spans="skip")
    assert corpus.examples == EXPECTED
    assert [(p.case_id, p.field) for p in corpus.skipped] == [
        ("bad1", "answers.answer_start[0]" if layout != "squad" else "answers[0].answer_start"),
        ("bad2", "answers.text[0]" if layout != "squad" else "answers[0].text"),
    ]
    assert all(p.file == str(path) for p in corpus.skipped)
    assert sum("bad answer span" in r.message for r in caplog.records) == 2
    # skipped questions do not count toward the limit; the default policy still stops at the first
    assert read_stage1_corpus(path, 2, bad_spans="skip").examples == EXPECTED[:2]
    with pytest.raises(InputError, match="case bad1"):
        load_stage1_corpus(path)


def test_bad_span_policy_and_structure_errors_stay_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad_spans must be one of error, skip"):
        read_stage1_corpus("synthetic", bad_spans="ignore")
    path = _write_json(tmp_path / "rows.json", [{**ROWS[0], "answers": None}])
    with pytest.raises(InputError, match="field answers: missing field"):
        read_stage1_corpus(path, bad_spans="skip")


def test_every_answer_is_checked_not_only_the_first(tmp_path: Path) -> None:
    row = {**ROWS[2], "answers": {"text": ["Colonoscopy", "polyps"], "answer_start": [0, 1]}}
    with pytest.raises(InputError) as err:
        load_stage1_corpus(_write_jsonl(tmp_path / "rows.jsonl", [row]))
    assert (_problem(err).case_id, _problem(err).field) == ("q3", "answers.answer_start[1]")


def test_span_mismatch_in_nested_squad(tmp_path: Path) -> None:
    data = _squad(ROWS)
    data["data"][0]["paragraphs"][1]["qas"][0]["answers"][0]["answer_start"] = 5
    path = _write_json(tmp_path / "squad.json", data)
    with pytest.raises(InputError) as err:
        load_stage1_corpus(path)
    problem = _problem(err)
    assert (problem.file, problem.case_id, problem.field) == (str(path), "q3", "answers[0].answer_start")


def test_span_past_the_end_of_the_context(tmp_path: Path) -> None:
    row = {**ROWS[0], "answers": {"text": ["clear lungs."], "answer_start": [len(NOTE_A) - 5]}}
    with pytest.raises(InputError) as err:
        load_stage1_corpus(_write_json(tmp_path / "rows.json", [row]))
    assert _problem(err).field == "answers.answer_start[0]"


def test_malformed_json_file(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text('[{"id": "q1", "context": "x",\n  "question": }]', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_stage1_corpus(path)
    problem = _problem(err)
    assert problem.file == str(path) and "malformed JSON" in problem.message and "line 2" in problem.message


def test_malformed_jsonl_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n" + '{"id": "q2", "context": \n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_stage1_corpus(path)
    problem = _problem(err)
    assert (problem.file, problem.case_id) == (str(path), "line 2")
    assert "malformed JSON" in problem.message


@pytest.mark.parametrize("missing", ["context", "question", "answers"])
def test_missing_field_names_the_row_index_when_there_is_no_id(tmp_path: Path, missing: str) -> None:
    row = {k: v for k, v in ROWS[0].items() if k not in (missing, "id")}
    path = _write_json(tmp_path / "rows.json", [ROWS[1], row])
    with pytest.raises(InputError) as err:
        load_stage1_corpus(path)
    problem = _problem(err)
    assert (problem.file, problem.case_id, problem.field) == (str(path), "row 1", missing)
    assert f"case row 1, field {missing}" in str(err.value)


def test_missing_field_in_jsonl_names_the_line(tmp_path: Path) -> None:
    row = {k: v for k, v in ROWS[0].items() if k not in ("question", "id")}
    path = tmp_path / "rows.jsonl"
    path.write_text("\n" + json.dumps(ROWS[1]) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_stage1_corpus(path)
    assert (_problem(err).case_id, _problem(err).field) == ("line 3", "question")


def test_missing_field_in_nested_squad(tmp_path: Path) -> None:
    data = _squad(ROWS)
    del data["data"][0]["paragraphs"][0]["qas"][1]["question"]
    del data["data"][0]["paragraphs"][0]["qas"][1]["id"]
    with pytest.raises(InputError) as err:
        load_stage1_corpus(_write_json(tmp_path / "squad.json", data))
    assert (_problem(err).case_id, _problem(err).field) == ("data[0].paragraphs[0].qas[1]", "question")
    data = _squad(ROWS)
    del data["data"][0]["paragraphs"][1]["context"]
    with pytest.raises(InputError) as err:
        load_stage1_corpus(_write_json(tmp_path / "squad.json", data))
    assert (_problem(err).case_id, _problem(err).field) == ("data[0].paragraphs[1]", "context")


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"text": ["25 mg"]}, "answers.answer_start"),
        ({"text": "25 mg", "answer_start": [31]}, "answers.text"),
        ({"text": ["25 mg", "mg"], "answer_start": [31]}, "answers"),
        ({"text": ["25 mg"], "answer_start": [-1]}, "answers.answer_start[0]"),
        ({"text": ["25 mg"], "answer_start": ["31"]}, "answers.answer_start[0]"),
        ({"text": [""], "answer_start": [-1]}, "answers.text[0]"),
        ("25 mg", "answers"),
    ],
)
def test_malformed_answers(tmp_path: Path, answers: Any, field: str) -> None:
    with pytest.raises(InputError) as err:
        load_stage1_corpus(_write_json(tmp_path / "rows.json", [{**ROWS[0], "answers": answers}]))
    assert (_problem(err).case_id, _problem(err).field) == ("q1", field)


@pytest.mark.parametrize("impossible", [True, False])
def test_is_impossible_must_agree_with_the_answers(tmp_path: Path, impossible: bool) -> None:
    data = _squad(ROWS)
    qa = data["data"][0]["paragraphs"][0]["qas"][0 if impossible else 1]
    qa["is_impossible"] = impossible
    with pytest.raises(InputError) as err:
        load_stage1_corpus(_write_json(tmp_path / "squad.json", data))
    assert (_problem(err).case_id, _problem(err).field) == (qa["id"], "is_impossible")


def test_unusable_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_stage1_corpus(tmp_path / "absent.json")
    with pytest.raises(InputError, match=r"no \.json"):
        load_stage1_corpus(tmp_path)
    (tmp_path / "notes.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(InputError, match="unsupported file type"):
        load_stage1_corpus(tmp_path / "notes.csv")
    with pytest.raises(InputError, match="SQuAD object"):
        load_stage1_corpus(_write_json(tmp_path / "object.json", {"rows": ROWS}))
