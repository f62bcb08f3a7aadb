"""``archehr validate`` and ``archehr submit`` through click's CliRunner."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from archehr.submission_cli import submit_command, validate_command
from harness.data.model import Split
from submissions.io import SUBMISSION_NAME, write_submission_json

Entries = list[dict[str, Any]]


def _run(command: click.Command, *args: str | Path) -> Result:
    return CliRunner().invoke(command, [str(a) for a in args])


def _json(result: Result) -> dict[str, Any]:
    return json.loads(result.stdout)


@pytest.fixture
def good_s2(tmp_path: Path, mini_split: Split, good_entries: Callable[..., Entries]) -> Path:
    return write_submission_json(tmp_path / "good" / "submission.json", good_entries(mini_split, 2))


@pytest.fixture
def bad_s2(tmp_path: Path, mini_split: Split, good_entries: Callable[..., Entries]) -> Path:
    entries = good_entries(mini_split, 2)
    entries[0]["prediction"] = ["1", "99"]
    entries[1]["case_id"] = 2
    return write_submission_json(tmp_path / "bad" / "submission.json", entries)


# ---------------------------------------------------------------- validate


def test_validate_good_exits_0_with_json(good_s2: Path, data_dir: Path) -> None:
    result = _run(validate_command, good_s2, "--data", data_dir, "--split", "dev", "--subtask", "2")
    assert result.exit_code == 0, result.output
    report = _json(result)
    assert report["ok"] is True and report["errors"] == [] and report["cases_expected"] == 3
    assert result.stderr == ""


def test_validate_bad_exits_1_with_every_error_on_stderr(bad_s2: Path, data_dir: Path) -> None:
    result = _run(validate_command, bad_s2, "--data", data_dir, "--split", "dev", "--subtask", "2")
    assert result.exit_code == 1
    report = _json(result)
    assert report["ok"] is False
    assert {(e["case_id"], e["field"]) for e in report["errors"]} == {("1", "prediction"), ("2", "case_id")}
    lines = result.stderr.splitlines()
    assert len(lines) == len(report["errors"]) and all(line.startswith("error: ") for line in lines)
    assert "Traceback" not in result.output


def test_validate_warnings_alone_do_not_fail(tmp_path: Path, data_dir: Path) -> None:
    path = write_submission_json(
        tmp_path / "s.json", [{"case_id": c, "prediction": ["1", "1"]} for c in ("1", "2", "3")]
    )
    result = _run(validate_command, path, "--data", data_dir, "--split", "dev", "--subtask", "2")
    assert result.exit_code == 0
    assert len(_json(result)["warnings"]) == 3
    assert all(line.startswith("warning: ") for line in result.stderr.splitlines())


def test_validate_reads_zips_and_subsets(good_s2: Path, data_dir: Path, tmp_path: Path) -> None:
    zipped = tmp_path / "s.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr(SUBMISSION_NAME, json.dumps(json.loads(good_s2.read_text())[:2]))
    base = [validate_command, zipped, "--data", data_dir, "--split", "dev", "--subtask", "2"]
    assert _run(*base).exit_code == 1
    result = _run(*base, "--case-ids", "1-2")
    assert result.exit_code == 0, result.output
    assert _json(result)["cases_expected"] == 2
    assert _run(*base, "--case-ids", "1", "--case-ids", "2").exit_code == 0


def test_validate_2025(tmp_path: Path, data_dir: Path, mini_split: Split, good_entries: Callable[..., Entries]) -> None:
    path = write_submission_json(tmp_path / "s.json", good_entries(mini_split, None, "2025"))
    result = _run(validate_command, path, "--data", data_dir, "--split", "dev", "--year", "2025")
    assert result.exit_code == 0, result.output
    assert _json(result)["year"] == "2025"


def test_validate_bad_file_is_one_line_exit_1(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("[{broken")
    result = _run(validate_command, path, "--data", data_dir, "--split", "dev", "--subtask", "1")
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: file ") and "malformed JSON" in line


def test_validate_unknown_split_is_one_line_exit_1(good_s2: Path, data_dir: Path) -> None:
    result = _run(validate_command, good_s2, "--data", data_dir, "--split", "test-2026", "--subtask", "2")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "test-2026" in line and "dev" in line


@pytest.mark.parametrize(
    "extra",
    [[], ["--year", "2025", "--subtask", "1"], ["--subtask", "2", "--case-ids", "5-1"], ["--subtask", "7"]],
)
def test_validate_usage_errors_exit_2(good_s2: Path, data_dir: Path, extra: list[str]) -> None:
    result = _run(validate_command, good_s2, "--data", data_dir, "--split", "dev", *extra)
    assert result.exit_code == 2, result.output


# ---------------------------------------------------------------- submit


def test_submit_writes_the_zip_when_valid(good_s2: Path, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "upload" / "submission.zip"
    result = _run(submit_command, good_s2, "--out", out, "--data", data_dir, "--split", "dev", "--subtask", "2")
    assert result.exit_code == 0, result.output
    assert _json(result)["zip"] == str(out)
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == [SUBMISSION_NAME]
        assert archive.read(SUBMISSION_NAME) == good_s2.read_bytes()


def test_submit_writes_nothing_when_invalid(bad_s2: Path, data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "upload" / "submission.zip"
    result = _run(submit_command, bad_s2, "--out", out, "--data", data_dir, "--split", "dev", "--subtask", "2")
    assert result.exit_code == 1
    assert _json(result)["zip"] is None
    assert not out.parent.exists()


def test_submit_without_data_refuses_to_claim_ok(good_s2: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zip"
    result = _run(submit_command, good_s2, "--out", out, "--subtask", "2")
    assert result.exit_code == 1
    assert _json(result)["ok"] is False and _json(result)["zip"] is None
    assert "structure only, not checked against the key" in result.stderr
    assert not out.exists()


def test_submit_structural_check_without_data(bad_s2: Path, good_s2: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zip"
    result = _run(submit_command, good_s2, "--out", out, "--subtask", "2", "--structure-only")
    assert result.exit_code == 0, result.output
    assert _json(result)["checked"] == "structure only, not checked against the key"
    assert out.is_file()
    result = _run(submit_command, bad_s2, "--out", tmp_path / "t.zip", "--subtask", "2", "--structure-only")
    assert result.exit_code == 1 and not (tmp_path / "t.zip").exists()
    assert "case 2, field case_id" in result.stderr


def test_submit_refuses_a_zip_as_input(good_s2: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.zip"
    assert _run(submit_command, good_s2, "--out", first, "--subtask", "2", "--structure-only").exit_code == 0
    result = _run(submit_command, first, "--out", tmp_path / "again.zip", "--subtask", "2", "--structure-only")
    assert result.exit_code == 1 and "a zip archive" in result.stderr
    assert not (tmp_path / "again.zip").exists()


@pytest.mark.parametrize("extra", [["--data", "somewhere"], ["--split", "dev"], ["--year", "2025", "--subtask", "1"]])
def test_submit_usage_errors_exit_2(good_s2: Path, tmp_path: Path, extra: list[str]) -> None:
    result = _run(submit_command, good_s2, "--out", tmp_path / "s.zip", *extra)
    assert result.exit_code == 2
    assert not (tmp_path / "s.zip").exists()


def test_submit_refuses_to_overwrite_its_input(good_s2: Path) -> None:
    assert _run(submit_command, good_s2, "--out", good_s2, "--subtask", "2").exit_code == 2


def test_commands_register_in_a_group(good_s2: Path, data_dir: Path) -> None:
    group = click.Group("archehr", commands=[validate_command, submit_command])
    assert set(group.commands) == {"validate", "submit"}
    result = CliRunner().invoke(
        group, ["validate", str(good_s2), "--data", str(data_dir), "--split", "dev", "--subtask", "2"]
    )
    assert result.exit_code == 0
