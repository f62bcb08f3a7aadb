"""The FHIR track on the board, through the real flow: ``archehr fhir data build`` (3 synthetic patients),
submissions scored by ``archehr fhir score`` for task 1 and task 2, ``leaderboard add``, then ``show --year fhir``
and the HTML page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from archehr.fhir_cli import fhir_group
from archehr.leaderboard_cli import leaderboard_group
from archehr.reproduce import FiguresError, load_figures
from fhirqa.dataset import read_questions
from leaderboard.schema import YEARS

SPLIT = "dev"  # 3 patients leave the test split empty
TITLES = ("FHIR QA · task 1 · relevant resources", "FHIR QA · task 2 · answer (METEOR)")


def _ok(group: object, *args: str) -> Result:
    result = CliRunner().invoke(group, list(args), catch_exceptions=False)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result


def _submissions(data: Path) -> dict[tuple[str, int], list[dict[str, object]]]:
    """The gold as the "gold" system; a "weak" one: gold ids for the first question only, answers cut to 3 words."""
    questions = read_questions(data / SPLIT / "questions.json")
    assert len(questions) >= 2 and all(q.annotated for q in questions)
    return {
        ("gold", 1): [{"case_id": q.question_id, "prediction": list(q.relevant_ids or ())} for q in questions],
        ("gold", 2): [{"case_id": q.question_id, "prediction": q.answer} for q in questions],
        ("weak", 1): [
            {"case_id": q.question_id, "prediction": list(q.relevant_ids or ()) if n == 0 else []}
            for n, q in enumerate(questions)
        ],
        ("weak", 2): [
            {"case_id": q.question_id, "prediction": " ".join((q.answer or "").split()[:3])} for q in questions
        ],
    }


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A board with both systems ("gold", "weak") on both FHIR tasks, scored from a 3-patient synthetic build."""
    pytest.importorskip("carebundle")
    root = tmp_path_factory.mktemp("fhir-board")
    data, db = root / "data", root / "board.sqlite"
    _ok(fhir_group, "data", "build", "--out", str(data), "--patients", "3", "--questions-per-patient", "3")
    for (system, task), entries in _submissions(data).items():
        submission, report = root / f"{system}-{task}.json", root / f"{system}-{task}-score.json"
        submission.write_text(json.dumps(entries), encoding="utf-8")
        _ok(
            fhir_group,
            *("score", str(submission), "--data", str(data), "--split", SPLIT, "--task", str(task)),
            *("--out", str(report), "--wordnet", "none"),
        )
        _ok(leaderboard_group, "add", "--db", str(db), "--system", system, str(report))
    return db


def test_year_choices_include_the_fhir_track() -> None:
    assert YEARS == ("2025", "2026", "fhir")
    assert "[2025|2026|fhir]" in _ok(leaderboard_group, "show", "--help").stdout


def test_reproduce_refuses_fhir_figures(tmp_path: Path) -> None:
    figure = {"id": "t1", "year": "fhir", "subtask": 1, "split": "test", "case_ids": "1-3", "metric": "overall_score"}
    path = tmp_path / "figures.yaml"
    path.write_text(yaml.safe_dump({"schema_version": 1, "figures": [figure]}), encoding="utf-8")
    with pytest.raises(FiguresError, match=r"reproduce runs ArchEHR-QA figures .*archehr fhir score"):
        load_figures(path)


def test_show_year_fhir_tables(board: Path, report_file, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Titles, columns and ranks of both FHIR tables; a 2026 entry beside them stays out of ``--year fhir``."""
    monkeypatch.setenv("COLUMNS", "200")  # one column group per table (pytest-xdist workers report 80 columns)
    _ok(leaderboard_group, "add", "--db", str(board), str(report_file("st3.json", system="archehr-st3")))
    tables = json.loads(_ok(leaderboard_group, "show", "--db", str(board), "--year", "fhir", "--json").stdout)["tables"]
    assert [(t["year"], t["subtask"], t["title"]) for t in tables] == [("fhir", 1, TITLES[0]), ("fhir", 2, TITLES[1])]
    for table in tables:
        assert [r["system"] for r in table["rows"]] == ["gold", "weak"]
        assert table["split"] == SPLIT and "overall_score" in table["rows"][0]["best"]
    relevance, answer = ({c["key"]: c for c in t["columns"]} for t in tables)
    assert [k for k, c in relevance.items() if c["primary"]] == [
        "overall_score",
        "strict_micro_f1",
        "strict_micro_precision",
        "strict_micro_recall",
    ]
    assert not relevance["strict_macro_f1"]["primary"] and relevance["strict_macro_f1"]["display"] == "Strict macro F1"
    assert answer["meteor"]["primary"] and answer["meteor"]["display"] == "METEOR"
    assert answer["meteor"]["signature"].startswith("meteor-exact-stem|")
    gold_row = tables[0]["rows"][0]
    assert gold_row["values"]["overall_score"] == gold_row["values"]["strict_micro_f1"] == 100.0

    text = _ok(leaderboard_group, "show", "--format", "text", "--db", str(board), "--year", "fhir").stdout
    assert text.index(TITLES[0]) < text.index(TITLES[1])
    assert "Strict micro F1 ↑" in text and "METEOR ↑" in text and "Strict macro F1" not in text
    assert text.count("gold #") == 2 and text.count("weak #") == 2 and "archehr-st3" not in text
    assert "Subtask" not in text and "100.00" in text
    assert "lexical only" not in text  # METEOR and P/R/F1 are the track's whole metric set
    assert (
        "Strict macro F1 ↑"
        in _ok(
            leaderboard_group, "show", "--format", "text", "--db", str(board), "--year", "fhir", "--all-columns"
        ).stdout
    )
    only_2026 = _ok(leaderboard_group, "show", "--format", "text", "--db", str(board), "--year", "2026").stdout
    assert "2026 Subtask 3 · answer generation" in only_2026 and "FHIR" not in only_2026


def test_html_page_titles_the_fhir_tables(board: Path, tmp_path: Path) -> None:
    _ok(leaderboard_group, "html", "--db", str(board), "--year", "fhir", str(tmp_path / "site"))
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    for title in TITLES:
        assert f"<h2>{title}</h2>" in page
    assert "METEOR" in page and "FHIR QA task 2</a>" in page and "subtask 1" not in page
