"""The CLI contract, over every command: exit 0 on --help, 2 on a usage error (unknown option, a missing or
contradictory option), 1 on a failed check (bad input, invalid submission); one-line errors, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from archehr.cli import cli

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "data" / "fixtures" / "bad"


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        out += _leaves(command, path) if isinstance(command, click.Group) else [path]
    return out


COMMANDS = _leaves(cli)


def invoke(*args: str, **kwargs):
    return CliRunner().invoke(cli, list(args), **kwargs)


def test_every_command_is_covered() -> None:
    assert {" ".join(c) for c in COMMANDS} >= {
        "eval",
        "run",
        "score",
        "validate",
        "submit",
        "systems",
        "train",
        "demo",
        "reproduce",
        "leaderboard show",
        "leaderboard compare",
        "fhir run",
        "fhir score",
        "data validate",
        "assets status",
    }


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_exits_0_and_an_unknown_option_exits_2(command: tuple[str, ...]) -> None:
    assert invoke(*command, "--help").exit_code == 0
    result = invoke(*command, "--no-such-option")
    assert result.exit_code == 2, result.output
    assert "No such option" in result.stderr and "Traceback" not in result.output


USAGE_ERRORS = {
    "run without --task": ["run", "baseline", "--data", "synthetic", "--split", "test", "--out", "x"],
    "run of a 2025 task": ["run", "baseline", "--data", "synthetic", "--split", "test", "--task", "2025", "--out", "x"],
    "eval of a FHIR task": ["eval", "baseline", "--data", "synthetic", "--split", "test", "--task", "fhir/1"],
    "unknown task": ["score", "s.json", "--data", "synthetic", "--split", "test", "--task", "2026/9"],
    "task and alias disagree": ["validate", "s.json", "--data", "synthetic", "--split", "test", "--task", "2026/2",
                                "--subtask", "3"],
    "bad case-id range": ["validate", "s.json", "--data", "synthetic", "--split", "test", "--task", "2026/2",
                          "--case-ids", "30-21"],
    "contradictory scoring options": ["score", "s.json", "--data", "synthetic", "--split", "test", "--task", "2026/3",
                                      "--bertscore-model", ".", "--bertscore-standin"],
    "-v with -q": ["-v", "-q", "systems"],
    "unknown system": ["eval", "baselin", "--data", "synthetic", "--split", "test", "--task", "2026/2"],
    "unknown system to train": ["train", "no-such-system"],
    "bad --format": ["systems", "--format", "yaml"],
    "html without a folder": ["leaderboard", "html"],
    "board filter on an unknown task": ["leaderboard", "show", "--task", "2027/1"],
    "board filter task and year disagree": ["leaderboard", "show", "--task", "2026/2", "--year", "2025"],
    "submit --data without --split": ["submit", "s.json", "--out", "s.zip", "--data", "synthetic"],
    "fhir task out of range": ["fhir", "score", "s.json", "--data", ".", "--split", "test", "--task", "fhir/3"],
    "--set without =": ["run", "baseline", "--data", "synthetic", "--split", "test", "--task", "2026/2", "--out", "x",
                        "--set", "novalue"],
}  # fmt: skip


@pytest.mark.parametrize("args", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_usage_errors_exit_2(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.json").write_text("[]", encoding="utf-8")
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""


def _bad_submission(folder: Path) -> Path:
    path = folder / "bad.json"
    path.write_text(json.dumps([{"case_id": "21", "prediction": [4]}]), encoding="utf-8")
    return path


FAILED_CHECKS = {
    "data validate": lambda d: ["data", "validate", str(BAD / "key_mismatch")],
    "validate": lambda d: ["validate", str(_bad_submission(d)), "--data", "synthetic", "--split", "test",
                           "--task", "2026/2"],
    "submit": lambda d: ["submit", str(_bad_submission(d)), "--out", str(d / "s.zip"), "--data", "synthetic",
                         "--split", "test", "--task", "2026/2"],
    "score": lambda d: ["score", str(_bad_submission(d)), "--data", "synthetic", "--split", "test", "--task", "2026/2"],
    "unknown split": lambda d: ["run", "baseline", "--data", "synthetic", "--split", "nope", "--task", "2026/2",
                                "--out", str(d)],
    "leaderboard add": lambda d: ["leaderboard", "add", str(_bad_submission(d)), "--db", str(d / "b.sqlite")],
    "train": lambda d: ["train", "baseline"],
}  # fmt: skip


@pytest.mark.parametrize("name", FAILED_CHECKS)
def test_failed_checks_exit_1_with_one_line_errors(name: str, tmp_path: Path) -> None:
    result = invoke(*FAILED_CHECKS[name](tmp_path))
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors and "Traceback" not in result.output
    assert not (tmp_path / "s.zip").exists()
