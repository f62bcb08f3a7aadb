"""Your own system: --system-module / $ARCHEHR_SYSTEM_MODULES, archehr.testing.check_system, quiet output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from archehr.cli import cli
from archehr.testing import SystemCheckError, check_system
from harness.data.model import Case, Subtask
from harness.systems import ENV_SYSTEM_MODULES, Prediction, SystemCard, load_system_file

ROOT = Path(__file__).resolve().parents[2]

NOISY = """
import warnings
from harness.systems import Prediction, SystemCard, register_system


class Noisy:
    card = SystemCard("noisy-{tag}", "1", (2,), "prints and warns like third-party libraries do")

    def predict(self, cases, subtask):
        print("COMPLETED: 38,255 in 1.00 s")
        warnings.warn("this will change", FutureWarning)
        for case in cases:
            yield Prediction(case.case_id, [case.sentences[0].id])


register_system("noisy-{tag}", subtasks=(2,), description="noisy")(lambda config: Noisy())
"""


def _module(folder: Path, tag: str) -> Path:
    path = folder / f"noisy_{tag}.py"
    path.write_text(NOISY.format(tag=tag), encoding="utf-8")
    return path


def test_system_module_flag_and_environment_variable(tmp_path: Path) -> None:
    a, b = _module(tmp_path, "a"), _module(tmp_path, "b")
    result = CliRunner().invoke(
        cli, ["--system-module", str(a), "systems", "--format", "json"], env={ENV_SYSTEM_MODULES: str(b)}
    )
    assert result.exit_code == 0, result.output
    names = {row["name"] for row in json.loads(result.stdout)}
    assert {"noisy-a", "noisy-b", "baseline"} <= names


def test_system_module_must_be_a_python_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--system-module", str(tmp_path / "notes.txt"), "systems"])
    assert result.exit_code == 1 and "not a Python file" in result.stderr
    assert CliRunner().invoke(cli, ["--system-module", str(tmp_path / "absent.py"), "systems"]).exit_code == 2


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TRANSFORMERS_VERBOSITY", None)
    return subprocess.run(
        [sys.executable, "-m", "archehr.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_third_party_prints_and_future_warnings_stay_off_stdout_and_quiet(tmp_path: Path) -> None:
    module = str(_module(tmp_path, "q"))
    run = ["run", "noisy-q", "--data", "synthetic", "--split", "test", "--task", "2026/2", "--case-ids", "21-22"]
    default = _cli("--system-module", module, *run, "--out", "a", cwd=tmp_path)
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout)["cases"] == 2  # stdout holds the result only
    assert "COMPLETED" not in default.stderr and "FutureWarning" not in default.stderr
    verbose = _cli("-v", "--system-module", module, *run, "--out", "b", cwd=tmp_path)
    assert "INFO third_party.stdout: COMPLETED: 38,255" in verbose.stderr and "FutureWarning" in verbose.stderr
    quiet = _cli("-q", "--system-module", module, *run, "--out", "c", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""


class _IntegerIds:
    card = SystemCard("integer-ids", "1", (2,), "a classic bug: ids as numbers")

    def predict(self, cases: Sequence[Case], subtask: Subtask) -> Iterator[Prediction]:
        for case in cases:
            yield Prediction(case.case_id, [int(case.sentences[0].id)])


class _Skips:
    card = SystemCard("skips", "1", (2, 3), "forgets the last case")

    def predict(self, cases: Sequence[Case], subtask: Subtask) -> Iterator[Prediction]:
        for case in cases[:-1]:
            yield Prediction(case.case_id, [] if subtask == Subtask.EVIDENCE_IDENTIFICATION else "An answer.")


def test_check_system_passes_a_registered_system() -> None:
    report = check_system("baseline", tasks=["2026/2", "2026/3"])
    assert report.cases == {"2026/2": 12, "2026/3": 12}
    assert all(isinstance(v, list) for v in report.predictions["2026/2"].values())


def test_check_system_lists_every_problem() -> None:
    with pytest.raises(SystemCheckError) as bad_ids:
        check_system(_IntegerIds())
    assert len(bad_ids.value.problems) == 12 and "case 21" in bad_ids.value.problems[0]
    with pytest.raises(SystemCheckError) as skipped:
        check_system(_Skips(), tasks=["2026/2", "2026/3"])
    assert [p for p in skipped.value.problems if "no prediction" in p and "case 32" in p] and len(
        skipped.value.problems
    ) == 2
    with pytest.raises(SystemCheckError, match="names subtasks \\[2\\], not 4"):
        check_system(_IntegerIds(), tasks=["2026/4"])


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_load_system_file_is_idempotent(tmp_path: Path) -> None:
    path = _module(tmp_path, "once")
    assert load_system_file(path) == load_system_file(path)
    assert check_system("noisy-once").cases == {"2026/2": 12}


ECHO = """
from harness.systems import Prediction, SystemCard, register_system


class Echo:
    def __init__(self, config):
        self.card = SystemCard("echo-config", "1", (2,), "its config, on the card", config=dict(config))

    def predict(self, cases, subtask):
        for case in cases:
            yield Prediction(case.case_id, [])


register_system("echo-config", subtasks=(2,), description="echo")(Echo)
"""


def test_model_dir_is_the_model_dir_config_key(tmp_path: Path) -> None:
    module = tmp_path / "echo.py"
    module.write_text(ECHO, encoding="utf-8")
    models = tmp_path / "models"
    models.mkdir()
    args = ["--system-module", str(module), "run", "echo-config", "--data", "synthetic", "--split", "test"]
    args += ["--task", "2026/2", "--out", str(tmp_path / "run"), "--set", "model_dir=elsewhere", "--set", "k=3"]
    result = CliRunner().invoke(cli, [*args, "--model-dir", str(models)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["system_card"]["config"] == {"model_dir": str(models), "k": 3}
    missing = CliRunner().invoke(cli, [*args, "--model-dir", str(tmp_path / "absent")])
    assert missing.exit_code == 2 and "absent" in missing.stderr
