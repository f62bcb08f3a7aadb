"""The broken-input corpus: every file in ``corpus/cases.csv`` gets its one-line answer, no traceback, and a
failing command writes nothing (the table is also shown in docs/reliability.md)."""

from __future__ import annotations

import csv
import hashlib
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from archehr.cli import cli

CORPUS = Path(__file__).parent / "corpus"
TABLE = CORPUS / "cases.csv"
DOC = Path(__file__).parents[2] / "docs" / "reliability.md"
HEADER, TORN_HEADER = "{{HEADER}}", "{{TORN_HEADER}}"


def _cases() -> list[dict[str, str]]:
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _invoke(args: list[str]):
    return CliRunner().invoke(cli, args)


def _split_folder(folder: Path, xml: Path, key: Path | None = None) -> Path:
    folder.mkdir(parents=True)
    shutil.copyfile(xml, folder / "archehr-qa.xml")
    if key is not None:
        shutil.copyfile(key, folder / "archehr-qa_key.json")
    return folder


@pytest.fixture(scope="module")
def base_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("base")
    _split_folder(root / "dev", CORPUS / "base.xml", CORPUS / "base_key.json")
    return root


@pytest.fixture(scope="module")
def store_template(tmp_path_factory: pytest.TempPathFactory, base_data: Path) -> tuple[Path, Path]:
    """A finished baseline run on the base data, and its predictions file relative to the run folder."""
    out = tmp_path_factory.mktemp("template") / "run"
    args = ["run", "baseline", "--data", str(base_data), "--split", "dev", "--subtask", "2", "--out", str(out)]
    assert _invoke(args).exit_code == 0
    (predictions,) = out.glob("runs/*/dev/subtask2/predictions.jsonl")
    return out, predictions.relative_to(out)


def _snapshot(*roots: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for root in roots
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _placeholders(case: dict[str, str], tmp: Path, base_data: Path, template: tuple[Path, Path]) -> dict[str, str]:
    file = CORPUS / case["file"]
    command = case["command"]
    values = {"file": str(file), "tmp": str(tmp / "out"), "base_data": str(base_data)}
    if "{xml_data}" in command:
        values["xml_data"] = str(_split_folder(tmp / "xml_data" / "dev", file).parent)
    if "{key_data}" in command:
        values["key_data"] = str(_split_folder(tmp / "key_data" / "dev", CORPUS / "base.xml", file).parent)
    if "{two_splits}" in command:
        _split_folder(tmp / "two" / "dev", file)
        _split_folder(tmp / "two" / "test", CORPUS / "base.xml", CORPUS / "base_key.json")
        values["two_splits"] = str(tmp / "two")
    if "{store}" in command:
        out, relative = template
        shutil.copytree(out, tmp / "store")
        predictions = tmp / "store" / relative
        header = predictions.read_bytes().split(b"\n", 1)[0]
        content = file.read_bytes().replace(HEADER.encode(), header)
        predictions.write_bytes(content.replace(TORN_HEADER.encode(), header[: len(header) // 2]))
        values["store"] = str(tmp / "store")
    (tmp / "out").mkdir()
    return values


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['file']}:{c['command'].split(' {')[0]}")
def test_corpus_case(case: dict[str, str], tmp_path: Path, base_data: Path, store_template: tuple[Path, Path]) -> None:
    values = _placeholders(case, tmp_path, base_data, store_template)
    args = [arg.format(**values) for arg in shlex.split(case["command"])]
    before = _snapshot(tmp_path, CORPUS, base_data)
    result = _invoke(args)
    output = result.stdout + result.stderr
    assert result.exit_code == int(case["exit"]), output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    assert case["message"] in output, output
    if result.exit_code != 0:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert errors or result.exit_code == 2, result.stderr
        assert any(case["message"] in line for line in result.stderr.splitlines()), "the message is not on one line"
        if case["writes"] == "nothing":
            assert _snapshot(tmp_path, CORPUS, base_data) == before, "a failing command wrote or changed files"


def render_table() -> str:
    """The corpus table as Markdown (docs/reliability.md holds this text between its markers)."""
    lines = ["| file | command (`archehr …`) | exit | message (fragment) | writes |", "|---|---|---|---|---|"]
    for case in _cases():
        message = "`" + case["message"].replace("|", "\\|") + "`"
        cells = [f"`{case['file']}`", f"`{case['command']}`", case["exit"], message, case["writes"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def test_docs_show_the_corpus_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- corpus-table:start -->\n", "<!-- corpus-table:end -->"
    shown = text[text.index(start) + len(start) : text.index(end)]
    assert shown == render_table(), "regenerate it: python tests/reliability/test_corpus.py"


def test_every_corpus_file_is_in_the_table() -> None:
    listed = {c["file"] for c in _cases()} | {"base.xml", "base_key.json", "cases.csv"}
    assert {p.name for p in CORPUS.iterdir()} == listed


if __name__ == "__main__":  # rewrite the table in docs/reliability.md from cases.csv
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- corpus-table:start -->\n", "<!-- corpus-table:end -->"
    head, rest = text.split(start, 1)
    DOC.write_text(head + start + render_table() + end + rest.split(end, 1)[1], encoding="utf-8")
