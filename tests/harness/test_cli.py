"""The ``archehr`` CLI contract: JSON on stdout, one-line errors, exit codes, resumable runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from archehr.cli import cli

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_data_validate_synthetic_is_valid() -> None:
    result = invoke("data", "validate", "synthetic")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["splits"] == {"dev": 20, "test": 12}


def test_data_validate_lists_every_problem_with_exit_1(tmp_path: Path) -> None:
    folder = tmp_path / "dev"
    shutil.copytree(FIXTURES / "bad" / "key_mismatch", folder)
    result = invoke("data", "validate", str(folder))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("error: file ") for line in lines)
    assert "Traceback" not in result.output


def test_data_validate_reports_offsets_that_do_not_match(tmp_path: Path) -> None:
    folder = tmp_path / "dev"
    shutil.copytree(Path(__file__).resolve().parents[2] / "harness" / "data" / "synthetic" / "dev", folder)
    xml = folder / "archehr-qa.xml"
    text = xml.read_text(encoding="utf-8")
    xml.write_text(text.replace('start_char_index="0"', 'start_char_index="3"', 1), encoding="utf-8")
    result = invoke("data", "validate", str(folder))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["errors"][0]["case_id"] == "1"
    assert report["errors"][0]["field"].startswith("note_excerpt_sentences/sentence[")


def test_bad_xml_gives_one_line_error_and_exit_1(tmp_path: Path) -> None:
    folder = tmp_path / "dev"
    folder.mkdir()
    shutil.copy(FIXTURES / "bad" / "entity_bomb.xml", folder / "archehr-qa.xml")
    result = invoke("data", "stats", str(folder))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "unsafe XML refused" in result.stderr


def test_data_stats() -> None:
    result = invoke("data", "stats", "synthetic")
    stats = json.loads(result.stdout)
    assert stats["cases"] == 32
    assert stats["splits"]["dev"]["cases"] == 20


def test_systems_lists_json() -> None:
    result = invoke("systems")
    systems = {s["name"]: s for s in json.loads(result.stdout)}
    assert systems["baseline"]["subtasks"] == [1, 2, 3, 4]


def test_unknown_system_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(
        "run", "baselne", "--data", "synthetic", "--split", "test", "--subtask", "1", "--out", str(tmp_path)
    )
    assert result.exit_code == 2 and "did you mean baseline" in result.stderr


def test_usage_error_exit_2() -> None:
    assert invoke("run", "baseline", "--data", "synthetic").exit_code == 2


def test_run_writes_submission_and_resumes(tmp_path: Path) -> None:
    args = ("run", "baseline", "--data", "synthetic", "--split", "test", "--subtask", "2", "--out", str(tmp_path))
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["cases"] == 12 and summary["reused"] == 0
    submission = json.loads(Path(summary["submission"]).read_text(encoding="utf-8"))
    assert [e["case_id"] for e in submission] == [str(i) for i in range(21, 33)]
    assert all(isinstance(e["prediction"], list) for e in submission)
    again = json.loads(invoke(*args).stdout)
    assert again["reused"] == 12 and again["fingerprint"] == summary["fingerprint"]
    validated = invoke("validate", summary["submission"], "--data", "synthetic", "--split", "test", "--subtask", "2")
    assert validated.exit_code == 0, validated.output


def test_console_script_runs_in_a_subprocess() -> None:
    out = subprocess.run([sys.executable, "-m", "archehr.cli", "systems"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)
