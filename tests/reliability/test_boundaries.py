"""The mechanisms behind the corpus, one by one: the error boundary, the source-code fingerprint, ``--fresh``,
bounded parsing, zip member counting, report checks, terminal sanitising."""

from __future__ import annotations

import errno
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import harness.systems as systems_module
from archehr.cli import cli
from harness.cli_support import describe_error
from harness.data.model import parse_id_ranges
from harness.data.xml_io import sniff_encoding
from harness.errors import InputError
from harness.systems import build_system, register_system
from leaderboard import ingest
from submissions.format2025 import lint_answer_2025
from submissions.io import MAX_ZIP_MEMBERS, count_zip_members

GOLDEN_REPORT = Path(__file__).parents[1] / "metrics" / "golden" / "synthetic-test-2026-subtask2-lexical.json"
RUN = ["run", "baseline", "--data", "synthetic", "--split", "test", "--subtask", "2"]


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


# ------------------------------------------------------------------ the error boundary


@pytest.mark.parametrize(
    ("exc", "fragment"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/out/p.jsonl"), "file /out/p.jsonl: no space left"),
        (PermissionError(errno.EACCES, "Permission denied", "/etc/x"), "file /etc/x: permission denied; fix the"),
        (IsADirectoryError(errno.EISDIR, "Is a directory", "/tmp"), "file /tmp: is a folder, where a file was"),
        (sqlite3.DatabaseError("file is not a database"), "database error (file is not a database); give --db"),
        (json.JSONDecodeError("Expecting value", "x", 0), "malformed JSON (Expecting value at line 1 column 1)"),
    ],
)
def test_expected_errors_become_one_line(exc: BaseException, fragment: str) -> None:
    (line,) = describe_error(exc)
    assert fragment in line


def test_yaml_errors_name_the_position() -> None:
    with pytest.raises(yaml.YAMLError) as info:
        yaml.safe_load("a: [1, 2\n")
    (line,) = describe_error(info.value)
    assert line.startswith("not valid YAML (") and "line 2" in line


def test_a_bug_keeps_its_traceback() -> None:
    assert describe_error(KeyError("x")) is None and describe_error(ValueError("x")) is None


@pytest.mark.parametrize(("args", "env"), [((), {"ARCHEHR_DEBUG": "1"}), (("-v",), {})])
def test_traceback_only_when_asked(args: tuple[str, ...], env: dict[str, str], tmp_path: Path) -> None:
    command = ["run", "baseline", "--data", "synthetic", "--split", "nope", "--subtask", "2", "--out", str(tmp_path)]
    quiet = invoke(*command, env={"ARCHEHR_DEBUG": ""})
    assert quiet.exit_code == 1 and "Traceback" not in quiet.stderr
    assert quiet.stderr.strip().splitlines() == ["error: file " + quiet.stderr.split("file ", 1)[1].strip()]
    loud = invoke(*args, *command, env=env)
    assert loud.exit_code == 1 and "Traceback" in loud.stderr and "no split 'nope'" in loud.stderr


# ------------------------------------------------------------------ the cache knows the code


def test_editing_a_systems_source_changes_its_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "myplugin"
    package.mkdir()
    source = package / "__init__.py"
    source.write_text(
        "from systems.baselines import build_baseline\n"
        "from harness.systems import register_system\n"
        "register_system('edited-plugin', subtasks=[2], description='test')(lambda cfg: build_baseline(cfg))\n",
        encoding="utf-8",
    )
    (package / "helpers.py").write_text("WEIGHT = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    systems_module.list_systems()  # the built-ins are registered before the registry is swapped for a copy
    monkeypatch.setattr(systems_module, "_REGISTRY", dict(systems_module._REGISTRY))
    __import__("myplugin")
    before = build_system("edited-plugin").card
    assert before.code is not None and before.fingerprint == build_system("edited-plugin").card.fingerprint
    (package / "helpers.py").write_text("WEIGHT = 2\n", encoding="utf-8")  # any file of the package counts
    after = build_system("edited-plugin").card
    assert after.code != before.code and after.fingerprint != before.fingerprint
    assert {k: v for k, v in after.to_json().items() if k not in ("code", "fingerprint")} == {
        k: v for k, v in before.to_json().items() if k not in ("code", "fingerprint")
    }


def test_builtin_systems_hash_their_own_subpackage() -> None:
    entry = systems_module.get_system_entry("baseline")
    files = systems_module.source_files(entry.builder)
    assert files and all("systems/baselines" in f.as_posix() for f in files)


def test_fresh_discards_and_the_summary_counts_reuse(tmp_path: Path) -> None:
    out = ["--out", str(tmp_path / "run")]
    first = json.loads(invoke(*RUN, *out).stdout)
    assert (first["reused"], first["computed"]) == (0, 12)
    again = json.loads(invoke(*RUN, *out).stdout)
    assert (again["reused"], again["computed"]) == (12, 0)
    fresh = invoke(*RUN, *out, "--fresh")
    assert fresh.exit_code == 0 and (json.loads(fresh.stdout)["reused"], json.loads(fresh.stdout)["computed"]) == (
        0,
        12,
    )


def test_register_system_is_public_for_plugins() -> None:
    assert callable(register_system)


# ------------------------------------------------------------------ bounded parsing


def test_case_id_ranges_are_bounded_before_expansion() -> None:
    with pytest.raises(ValueError, match="covers 1000000000000 ids"):
        parse_id_ranges("1-1000000000000")
    assert parse_id_ranges("1-3 5") == ["1", "2", "3", "5"]


def test_zip_declaring_too_many_members_is_refused_from_its_end_record(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(MAX_ZIP_MEMBERS + 1):
            archive.writestr(str(i), b"")
    path = tmp_path / "many.zip"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(InputError, match=f"declares {MAX_ZIP_MEMBERS + 1} members"):
        count_zip_members(path, MAX_ZIP_MEMBERS)
    assert count_zip_members(path, MAX_ZIP_MEMBERS + 1) == MAX_ZIP_MEMBERS + 1


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\xfe\xff\x00<", "UTF-16 (big-endian, with"),
        (b"\x00<\x00?", "UTF-16 (big-endian, no byte-order mark)"),
        (b"\x00\x00\x00<", "UTF-32 (big-endian, no byte-order mark)"),
        (b"<?xml version='1.0' encoding='latin-1'?><a/>", "latin-1 (as its XML declaration says)"),
        (b"<?xml version='1.0' encoding='utf-8'?><a/>", None),
        (b"\xef\xbb\xbf<a/>", None),
    ],
)
def test_encodings_are_sniffed_before_parsing(data: bytes, named: str | None) -> None:
    found = sniff_encoding(data)
    assert found == named if named is None else named in found


def test_spaced_2025_citations_warning_shows_the_users_ids() -> None:
    lint = lint_answer_2025("The dose was raised. | 12, 7|", sentence_ids=["7", "12"])
    assert any("write |12,7|" in w.message for w in lint.warnings), lint.warnings


# ------------------------------------------------------------------ score reports and the board


def test_report_over_the_size_cap_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "MAX_REPORT_BYTES", 1000)
    with pytest.raises(InputError, match="over the 1000-byte limit"):
        ingest.read_report(GOLDEN_REPORT)


def test_a_report_keeps_its_first_name(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "lb.sqlite")]
    assert invoke("leaderboard", "add", str(GOLDEN_REPORT), "--system", "first", *db).exit_code == 0
    again = invoke("leaderboard", "add", str(GOLDEN_REPORT), "--system", "first", *db)
    assert again.exit_code == 0 and "already on the board as #1" in again.stderr
    renamed = invoke("leaderboard", "add", str(GOLDEN_REPORT), "--system", "second", *db)
    assert renamed.exit_code == 1
    assert "already on the board as #1 named 'first', not 'second'" in renamed.stderr
    assert "archehr leaderboard rm 1" in renamed.stderr


def test_show_strips_control_characters_from_stored_names(tmp_path: Path) -> None:
    from dataclasses import replace

    from leaderboard.store import LeaderboardStore

    report = ingest.read_report(GOLDEN_REPORT)
    entry = ingest.entry_from_report(report, system="clean", source=str(GOLDEN_REPORT))
    with LeaderboardStore(tmp_path / "lb.sqlite") as store:  # a board written before names were checked
        store.add(replace(entry, system="\x1b[2J\x1b]0;pwned\x07evil"), report)
    shown = invoke("leaderboard", "show", "--db", str(tmp_path / "lb.sqlite"))
    assert shown.exit_code == 0 and "evil" in shown.stdout
    assert not any(ch in shown.stdout for ch in "\x1b\x07")


def test_json_output_escapes_c1_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli_support import print_json

    print_json({"system": "a\x9b31mb"})
    out = capsys.readouterr().out
    assert "\x9b" not in out and json.loads(out) == {"system": "a\x9b31mb"}
