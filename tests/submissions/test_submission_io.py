"""Reading untrusted submission files and zips; atomic, deterministic writing."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from harness.errors import InputError
from submissions.io import (
    MAX_SUBMISSION_BYTES,
    SUBMISSION_NAME,
    ZIP_DATE_TIME,
    package_zip,
    read_member_capped,
    read_submission,
    write_submission_json,
)

ENTRIES = [{"case_id": "1", "prediction": "Why was the dose of my médicine lowered?"}]


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _error(path: Path, **kw: object) -> str:
    with pytest.raises(InputError) as info:
        read_submission(path, **kw)  # type: ignore[arg-type]
    (problem,) = info.value.problems
    assert problem.file is not None and str(path) in problem.file
    return problem.message


# ---------------------------------------------------------------- reading


def test_reads_json_and_zip(tmp_path: Path) -> None:
    raw = json.dumps(ENTRIES).encode()
    (tmp_path / "s.json").write_bytes(raw)
    assert read_submission(tmp_path / "s.json") == ENTRIES
    zipped = _zip(tmp_path / "s.zip", {SUBMISSION_NAME: raw, "README.txt": b"notes", "extra/": b""})
    assert read_submission(zipped) == ENTRIES
    disguised = _zip(tmp_path / "upload.bin", {SUBMISSION_NAME: raw})
    assert read_submission(disguised) == ENTRIES


def test_zip_without_root_submission_lists_its_members(tmp_path: Path) -> None:
    message = _error(_zip(tmp_path / "s.zip", {"predictions.json": b"[]", "notes.txt": b""}))
    assert "no submission.json at the root" in message and "predictions.json, notes.txt" in message


def test_zip_of_a_folder_gets_a_hint(tmp_path: Path) -> None:
    message = _error(_zip(tmp_path / "s.zip", {"run1/submission.json": b"[]"}))
    assert "run1/submission.json is in a folder" in message


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "/abs/submission.json", "dir\\submission.json", "C:x"])
def test_unsafe_member_names_are_refused(tmp_path: Path, name: str) -> None:
    message = _error(_zip(tmp_path / "s.zip", {SUBMISSION_NAME: b"[]", name: b"x"}))
    assert "unsafe member name" in message and repr(name) in message


def test_duplicate_submission_members_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.zip"
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "w") as archive:
        archive.writestr(SUBMISSION_NAME, b"[]")
        archive.writestr(SUBMISSION_NAME, b"[1]")
    assert "appears 2 times" in _error(path)


def test_zip_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(SUBMISSION_NAME, "w") as out:
        for _ in range(MAX_SUBMISSION_BYTES // len(chunk) + 1):
            out.write(chunk)
    assert path.stat().st_size < 1 << 20
    message = _error(path)
    assert "over the" in message and "limit" in message


def test_lying_header_cannot_expand_past_it(tmp_path: Path) -> None:
    path = _zip(tmp_path / "liar.zip", {SUBMISSION_NAME: b"[" + b" " * 100_000 + b"]"})
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")  # uncompressed size: 10 bytes
    path.write_bytes(bytes(data))
    _error(path)


def test_member_read_is_capped_whatever_the_header_says(tmp_path: Path) -> None:
    path = _zip(tmp_path / "s.zip", {SUBMISSION_NAME: b"[" + b" " * 5000 + b"]"})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SUBMISSION_NAME)
        with pytest.raises(InputError, match="expands past the 1000-byte limit"):
            read_member_capped(archive, info, 1000, file=str(path))
        assert read_member_capped(archive, info, 10_000, file=str(path)).startswith(b"[")


def test_size_limit_on_plain_files(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"[" + b" " * 2000 + b"]")
    assert "over the 1000-byte limit" in _error(path, max_bytes=1000)
    assert "over the 1000-byte limit" in _error(
        _zip(tmp_path / "s.zip", {SUBMISSION_NAME: path.read_bytes()}), max_bytes=1000
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'[{"case_id": "1", "prediction": "caf\xe9"}]', "not UTF-8: byte 36 (0xe9)"),
        (b"\xef\xbb\xbf[]", "byte-order mark"),
        (b'[{"case_id": "1",}]', "malformed JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON"),
        (b"", "malformed JSON"),
    ],
)
def test_bad_bytes_are_refused(tmp_path: Path, raw: bytes, expected: str) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(raw)
    assert expected in _error(path)
    assert expected in _error(_zip(tmp_path / "s.zip", {SUBMISSION_NAME: raw}))


def test_malformed_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('[\n  {"case_id": "1"\n]')
    assert "line 3 column 1" in _error(path)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    assert "no such file" in _error(tmp_path / "nope.json")
    fake = tmp_path / "fake.zip"
    fake.write_text("[]")
    assert "not a valid zip" in _error(fake)
    zipped = _zip(tmp_path / "s.zip", {SUBMISSION_NAME: b"[]"})
    assert "a zip archive, not JSON" in _error(zipped, allow_zip=False)


# ---------------------------------------------------------------- writing


def test_write_submission_json_is_pretty_and_round_trips(tmp_path: Path) -> None:
    path = write_submission_json(tmp_path / "out" / "submission.json", ENTRIES)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and '\n    {\n        "case_id": "1"' in text and "médicine" in text
    assert read_submission(path) == ENTRIES


def test_zip_is_deterministic_and_holds_the_exact_json(tmp_path: Path) -> None:
    json_path = write_submission_json(tmp_path / "submission.json", ENTRIES)
    first = package_zip(json_path, tmp_path / "a.zip").read_bytes()
    os.utime(json_path, (1_000_000_000, 1_000_000_000))
    second = package_zip(json_path, tmp_path / "b.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        (info,) = archive.infolist()
        assert info.filename == SUBMISSION_NAME and info.date_time == ZIP_DATE_TIME
        assert archive.read(SUBMISSION_NAME) == json_path.read_bytes()
    assert read_submission(tmp_path / "a.zip") == ENTRIES


def test_zip_writing_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    json_path = write_submission_json(tmp_path / "submission.json", ENTRIES)
    target = tmp_path / "submission.zip"
    target.write_bytes(b"previous upload")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        package_zip(json_path, target)
    assert target.read_bytes() == b"previous upload"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["submission.json", "submission.zip"]
    with pytest.raises(OSError):
        package_zip(json_path, tmp_path / "new.zip")
    assert not (tmp_path / "new.zip").exists()


def test_package_zip_refuses_what_the_scorer_cannot_read(tmp_path: Path) -> None:
    bad = tmp_path / "submission.json"
    bad.write_text("[{oops}]")
    with pytest.raises(InputError, match="malformed JSON"):
        package_zip(bad, tmp_path / "s.zip")
    zipped = _zip(tmp_path / "in.zip", {SUBMISSION_NAME: b"[]"})
    with pytest.raises(InputError, match="a zip archive"):
        package_zip(zipped, tmp_path / "s.zip")
    assert not (tmp_path / "s.zip").exists()
