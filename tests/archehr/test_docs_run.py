"""Docs that run: every command of the README's usage blocks and of docs/writing-a-system.md, in order, in an
empty folder, on the synthetic data; the first non-zero exit fails the test with the command and its stderr.

Blocks that train (``archehr train``) run in the slow tests. ``.venv/bin/archehr`` and ``archehr`` run as
``python -m archehr.cli`` with this checkout on PYTHONPATH; ``python`` is this interpreter. A fenced
``python file=NAME`` block is written to NAME before the commands run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
WRITING = ROOT / "docs" / "writing-a-system.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def _blocks(text: str) -> list[tuple[str, str, str]]:
    """``(language, info, body)`` of every fenced block, in order."""
    return [(m.group(1), m.group(2).strip(), m.group(3)) for m in FENCE.finditer(text)]


def _commands(body: str) -> list[list[str]]:
    """The argv of each command of a bash block (comments dropped, ``a && b`` split)."""
    out: list[list[str]] = []
    for line in body.splitlines():
        words = shlex.split(line, comments=True)
        current: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                if current:
                    out.append(current)
                current = []
            else:
                current.append(word)
    return out


def _argv(words: list[str]) -> list[str]:
    head, *rest = words
    if head in {"archehr", ".venv/bin/archehr"}:
        return [sys.executable, "-m", "archehr.cli", *rest]
    if head in {"python", ".venv/bin/python"}:
        return [sys.executable, *rest]
    raise AssertionError(f"a documented command must start with archehr or python: {shlex.join(words)}")


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHEHR_")}
    env.update(
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"),
        HOME=str(tmp / "home"),  # no user config (assets.yaml) leaks in
        XDG_CONFIG_HOME=str(tmp / "home" / ".config"),
    )
    return env


def run_doc_blocks(blocks: list[tuple[str, str, str]], folder: Path) -> int:
    """Write the ``python file=`` blocks and run the bash blocks' commands in order; returns how many ran."""
    (folder / "home").mkdir(parents=True, exist_ok=True)
    env = _env(folder)
    ran = 0
    for language, info, body in blocks:
        if language == "python" and info.startswith("file="):
            (folder / info.removeprefix("file=")).write_text(body, encoding="utf-8")
            continue
        if language != "bash":
            continue
        for words in _commands(body):
            done = subprocess.run(_argv(words), cwd=folder, env=env, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, (
                f"`{shlex.join(words)}` exited {done.returncode}\n--- stderr\n{done.stderr[-3000:]}"
                f"\n--- stdout\n{done.stdout[-2000:]}"
            )
            ran += 1
    return ran


def _trains(block: tuple[str, str, str]) -> bool:
    return block[0] == "bash" and "archehr train" in block[2]


def _readme_usage() -> list[tuple[str, str, str]]:
    return _blocks(_section(README.read_text(encoding="utf-8"), "## Usage"))


def test_readme_setup_is_exactly_two_commands() -> None:
    (block,) = [b for b in _blocks(_section(README.read_text(encoding="utf-8"), "## Set-up")) if b[0] == "bash"]
    assert [c[:2] for c in _commands(block[2])] == [["make", "demo"], ["make", "test"]]


def test_readme_usage_runs_in_order(tmp_path: Path) -> None:
    blocks = [b for b in _readme_usage() if not _trains(b)]
    ran = run_doc_blocks(blocks, tmp_path)
    assert ran >= 15
    assert (tmp_path / "runs" / "bl2" / "score.json").is_file() and (tmp_path / "site" / "index.html").is_file()


def test_writing_a_system_runs_in_order(tmp_path: Path) -> None:
    blocks = _blocks(WRITING.read_text(encoding="utf-8"))
    assert any(info == "file=word_overlap.py" for _, info, _ in blocks)
    ran = run_doc_blocks(blocks, tmp_path)
    assert ran >= 6
    assert (tmp_path / "runs" / "overlap" / "submission.zip").is_file()


@pytest.mark.slow
def test_readme_training_block_runs(tmp_path: Path) -> None:
    (tmp_path / "systems").symlink_to(ROOT / "systems", target_is_directory=True)  # the configs it names
    blocks = [b for b in _readme_usage() if _trains(b)]
    assert blocks, "the README names no training commands"
    assert run_doc_blocks(blocks, tmp_path) >= 4


def test_commands_are_parsed_like_a_shell() -> None:
    assert _commands('archehr a --case-ids "21-30 35"  # note\narchehr b && archehr c\n') == [
        ["archehr", "a", "--case-ids", "21-30 35"],
        ["archehr", "b"],
        ["archehr", "c"],
    ]
