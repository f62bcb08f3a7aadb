"""A wheel carries every data file the packages read (configs, prompts, rubric, synthetic data): a regular
``pip install`` must work like the editable one the tests use."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("archehr", "harness", "systems", "metrics", "submissions", "leaderboard", "fhirqa", "experiments", "llmkit")
DATA_SUFFIXES = {".yaml", ".yml", ".txt", ".json", ".md", ".xml", ".jinja"}


def test_the_wheel_holds_every_package_data_file(tmp_path: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    wanted = {f for f in tracked if Path(f).suffix in DATA_SUFFIXES}
    assert "metrics/judge/rubric.yaml" in wanted and "systems/llm_prompt/configs/cpu-demo.yaml" in wanted
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert sorted(wanted - shipped) == []
