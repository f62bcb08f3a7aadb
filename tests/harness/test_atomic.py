"""Atomic folder builds: renamed into place whole, or nothing left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.atomic import atomic_directory


def test_a_built_folder_is_renamed_into_place(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "index"
    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("a", encoding="utf-8")
        assert not target.exists()  # readers never see a half-built folder
    assert (target / "a.txt").read_text(encoding="utf-8") == "a"
    assert [p.name for p in target.parent.iterdir()] == ["index"]


def test_an_empty_target_is_replaced_and_a_full_one_is_not(tmp_path: Path) -> None:
    target = tmp_path / "index"
    target.mkdir()
    with atomic_directory(target) as staging:
        (staging / "a.txt").write_text("a", encoding="utf-8")
    assert (target / "a.txt").is_file()
    with pytest.raises(OSError), atomic_directory(target) as staging:
        (staging / "b.txt").write_text("b", encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]  # the staging folder is gone
    assert [p.name for p in target.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("error", [RuntimeError("build failed"), KeyboardInterrupt()])
def test_a_failed_build_leaves_nothing(tmp_path: Path, error: BaseException) -> None:
    with pytest.raises(type(error)), atomic_directory(tmp_path / "index") as staging:
        (staging / "half.txt").write_text("x", encoding="utf-8")
        raise error
    assert list(tmp_path.iterdir()) == []
