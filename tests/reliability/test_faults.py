"""Fault injection with real processes: SIGKILL at random points of ``archehr run``, a full disk, damaged stores.

Each fault is followed by a rerun whose submission must equal an uninterrupted run's, byte for byte.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archehr.cli import cli
from harness.data.model import Subtask
from harness.runs import RunKey, RunStore
from harness.systems import build_system

ROOT = Path(__file__).resolve().parents[2]
RUN = ["run", "baseline", "--data", "synthetic", "--split", "dev", "--subtask", "3", "--batch-size", "1"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _store_path(out: Path) -> Path:
    return RunStore(out / "runs", RunKey(build_system("baseline").card, "dev", Subtask(3))).path


def _assert_store_invariant(path: Path) -> None:
    """Header then complete lines (a torn last line at most), or no file at all."""
    if not path.exists():
        return
    raw = path.read_bytes()
    if b"\n" not in raw:  # a torn header: holds nothing, started over by the next run
        return
    lines = raw.split(b"\n")
    assert json.loads(lines[0])["type"] == "header"
    for line in lines[1:-1]:
        assert json.loads(line)["type"] == "prediction"


def _invoke(out: Path, *extra: str):
    return CliRunner().invoke(cli, [*RUN, "--out", str(out), *extra])


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The submission of an uninterrupted run."""
    out = tmp_path_factory.mktemp("reference") / "run"
    assert _invoke(out).exit_code == 0
    return (out / "submission.json").read_bytes()


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


#: The baseline at 50 ms a case, registered through the public plugin path: a whole run of the baseline takes
#: less time than the kill loop needs to notice a stored line, so the kills would not land between predictions.
PACED_BASELINE = """
import dataclasses
import time

from harness.systems import build_system, register_system


class Paced:
    def __init__(self, config):
        self.inner = build_system("baseline", config)
        self.card = dataclasses.replace(self.inner.card, name="paced-baseline")

    def predict(self, cases, subtask):
        for prediction in self.inner.predict(cases, subtask):
            time.sleep(0.05)
            yield prediction


@register_system("paced-baseline", subtasks=(1, 2, 3, 4), description="The baseline, 50 ms a case (fault tests)")
def build(config):
    return Paced(config)
"""


def test_sigkill_at_random_points_loses_nothing(tmp_path: Path, reference: bytes) -> None:
    """Kill real ``archehr run`` processes: once during start-up, then each after a random number of stored lines."""
    from harness.systems import load_system_file

    plugin = tmp_path / "paced.py"
    plugin.write_text(PACED_BASELINE, encoding="utf-8")
    load_system_file(plugin)
    paced = ["--system-module", str(plugin), "run", "paced-baseline", *RUN[2:]]
    out = tmp_path / "run"
    store = RunStore(out / "runs", RunKey(build_system("paced-baseline").card, "dev", Subtask(3))).path
    rng = random.Random(20261204)
    kills = 0
    for attempt in range(3):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "archehr.cli",
                *paced,
                "--out",
                str(out),
                "--fresh" if attempt == 1 else "--batch-size=1",
            ],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if attempt == 0:
            time.sleep(rng.uniform(0.05, 0.5))
        else:
            target = _lines(store) + rng.randint(1, 8)
            while process.poll() is None and _lines(store) < target:
                time.sleep(0.001)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        _assert_store_invariant(store)
        if (out / "submission.json").exists():  # written atomically: whole or absent
            assert (out / "submission.json").read_bytes() == reference
    result = CliRunner().invoke(cli, [*paced, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "submission.json").read_bytes() == reference  # the baseline's predictions, uninterrupted
    summary = json.loads(result.stdout)
    assert summary["reused"] + summary["computed"] == summary["cases"] == 20
    assert summary["reused"] > 0, "nothing stored before the kills was reused"
    assert kills >= 2, "the kills did not land: every run finished first"


def _mount_tmpfs(folder: Path) -> bool:
    folder.mkdir()
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def _fill(folder: Path, leave: int) -> Path:
    """Fill the file system of ``folder``, then free ``leave`` bytes."""
    filler = folder / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    os.truncate(filler, max(filler.stat().st_size - leave, 0))
    return filler


def test_full_disk_on_a_tmpfs(tmp_path: Path, reference: bytes) -> None:
    """A real full disk: a 1 MB tmpfs filled but for one page, so the disk fills in the middle of the run."""
    mount = tmp_path / "disk"
    if not _mount_tmpfs(mount):
        pytest.skip("cannot mount a tmpfs here (not root, or mount refused); test_full_disk_by_a_patched_write runs")
    try:
        out = mount / "run"
        filler = _fill(mount, leave=4096)
        result = _invoke(out)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("error: file ") and "no space left on the device" in lines[-1], result.stderr
        _assert_store_invariant(_store_path(out))
        assert not (out / "submission.json").exists()
        filler.unlink()
        assert _invoke(out).exit_code == 0
        assert (out / "submission.json").read_bytes() == reference
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_full_disk_by_a_patched_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: bytes) -> None:
    """The fallback where no tmpfs can be mounted (CI without mount rights): the run store's sixth append
    fails with ENOSPC, as a full disk does. (The tmpfs test above covers a real disk filling mid-write.)"""
    import harness.runs as runs

    calls = {"n": 0}
    real_encode = runs._encode

    def half_then_full(records: list) -> bytes:
        calls["n"] += 1
        if calls["n"] == 6:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_encode(records)

    out = tmp_path / "run"
    monkeypatch.setattr(runs, "_encode", half_then_full)
    result = _invoke(out)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no space left on the device" in result.stderr
    monkeypatch.undo()
    _assert_store_invariant(_store_path(out))
    assert not (out / "submission.json").exists()
    assert _invoke(out).exit_code == 0
    assert (out / "submission.json").read_bytes() == reference


@pytest.mark.parametrize("damage", ["zero_bytes", "torn_header", "torn_last_line"])
def test_damaged_store_resumes_to_the_same_result(damage: str, tmp_path: Path, reference: bytes) -> None:
    out = tmp_path / "run"
    assert _invoke(out).exit_code == 0
    store = _store_path(out)
    raw = store.read_bytes()
    header_end = raw.index(b"\n")
    store.write_bytes(
        {"zero_bytes": b"", "torn_header": raw[: header_end // 2], "torn_last_line": raw[: len(raw) - 30]}[damage]
    )
    (out / "submission.json").unlink()
    result = _invoke(out)
    assert result.exit_code == 0, result.output
    assert (out / "submission.json").read_bytes() == reference
    assert json.loads(store.read_bytes().split(b"\n", 1)[0])["type"] == "header"
    assert json.loads(result.stdout)["reused"] == (19 if damage == "torn_last_line" else 0)
    # and the run after that reuses everything instead of refusing its own store
    again = _invoke(out)
    assert again.exit_code == 0 and json.loads(again.stdout)["reused"] == 20


def test_store_path_that_is_a_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _store_path(out).mkdir(parents=True)
    result = _invoke(out)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "predictions.jsonl" in result.stderr and "is a folder" in result.stderr
