"""``archehr leaderboard`` through click's CliRunner: outputs and exit codes (0 ok, 1 failed check, 2 usage)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archehr.leaderboard_cli import leaderboard_group
from leaderboard import add_reports_and_render


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "board.sqlite"


def _invoke(*args: str, db: Path | None = None):
    argv = [args[0], *([] if db is None else ["--db", str(db)]), *args[1:]]
    return CliRunner().invoke(leaderboard_group, argv)


def test_add_show_export_compare_html_rm(tmp_path, db, report_file):
    a = report_file("a.json", system="alpha", seed=1, shift=8)
    b = report_file("b.json", system="beta", seed=2)
    added = _invoke("add", str(a), str(b), db=db)
    assert added.exit_code == 0, added.output
    entries = json.loads(added.stdout)["entries"]
    assert [(e["entry_id"], e["added"], e["system"]) for e in entries] == [(1, True, "alpha"), (2, True, "beta")]

    again = _invoke("add", str(a), db=db)
    assert again.exit_code == 0 and json.loads(again.stdout)["entries"][0]["added"] is False
    assert "already on the board as #1" in again.stderr

    shown = _invoke("show", "--json", db=db)
    assert shown.exit_code == 0
    (table,) = json.loads(shown.stdout)["tables"]
    assert [r["system"] for r in table["rows"]] == ["alpha", "beta"]
    assert table["n_cases"] == 47 and table["case_ids"] == "121-167"
    assert "overall_score" in table["rows"][0]["best"]

    text = _invoke("show", "--format", "text", db=db)
    assert text.exit_code == 0
    assert "Overall ↑" in text.stdout and "alpha #1" in text.stdout and "Signatures:" in text.stdout
    assert "empty" in _invoke("show", "--format", "text", "--subtask", "4", db=db).stdout

    exported = _invoke("export", "--format", "csv", db=db)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert {r["system"] for r in rows} == {"alpha", "beta"}
    assert all(r["signature"] and r["case_ids"] == "121-167" for r in rows)
    as_json = json.loads(_invoke("export", "--format", "json", db=db).stdout)
    assert as_json["schema_version"] == 1 and len(as_json["entries"]) == 2
    assert as_json["entries"][0]["metrics"]["bleu"]["per_case"]

    compared = _invoke("compare", "1", "beta", "--resamples", "500", "--format", "text", db=db)
    assert compared.exit_code == 0, compared.output
    assert "alpha #1 vs beta #2" in compared.stdout and "paired bootstrap: 95% CI" in compared.stdout
    assert "approximate randomisation: p = " in compared.stdout and "seed:12345" in compared.stdout
    as_json = json.loads(
        _invoke("compare", "1", "2", "--json", "--resamples", "500", "--method", "bootstrap", db=db).stdout
    )
    assert as_json["tests"][0]["method"] == "paired-bootstrap" and as_json["tests"][0]["p_value"] < 0.05

    page = _invoke("html", str(tmp_path / "site"), db=db)
    assert page.exit_code == 0 and Path(json.loads(page.stdout)["html"]).is_file()

    assert _invoke("rm", "2", db=db).exit_code == 0
    assert [r["system"] for r in json.loads(_invoke("show", "--json", db=db).stdout)["tables"][0]["rows"]] == ["alpha"]


def test_compare_refusals_and_usage_errors(db, report_file):
    full = report_file("full.json", system="full", seed=1)
    dev = report_file("dev.json", system="dev", seed=2, case_ids=[str(i) for i in range(121, 131)])
    assert _invoke("add", str(full), str(dev), db=db).exit_code == 0
    refused = _invoke("compare", "1", "2", db=db)
    assert refused.exit_code == 1
    assert "different case sets: 37 cases only in full #1 (131-167)" in refused.stderr
    unknown = _invoke("compare", "1", "nope", db=db)
    assert unknown.exit_code == 2 and "no entry 'nope'" in unknown.output
    assert _invoke("rm", "9", db=db).exit_code == 2
    assert _invoke("export", "--format", "xml", db=db).exit_code == 2
    missing_db = _invoke("compare", "1", "2", db=db.with_name("absent.sqlite"))
    assert missing_db.exit_code == 2 and "no leaderboard database" in missing_db.output


def test_add_refuses_bad_reports_and_adds_nothing(tmp_path, db, report_file):
    good = report_file("good.json", system="ok", seed=1)
    unnamed = report_file("unnamed.json", system=None, seed=2)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = _invoke("add", str(good), str(unnamed), str(broken), db=db)
    assert result.exit_code == 1
    assert "names no system" in result.stderr and "not a JSON score report" in result.stderr
    assert json.loads(_invoke("show", "--json", db=db).stdout)["tables"] == []
    labelled = _invoke("add", str(unnamed), "--system", "my-run", db=db)
    assert labelled.exit_code == 0 and json.loads(labelled.stdout)["entries"][0]["system"] == "my-run"


def test_add_reads_the_system_card_the_report_carries(tmp_path, db, report_factory):
    """The layout ``archehr demo`` writes: <system>/subtask3/score.json, whose report carries the card."""
    folder = tmp_path / "demo-output" / "baseline" / "subtask3"
    folder.mkdir(parents=True)
    card = {"name": "baseline", "version": "0.1", "fingerprint": "abc" * 10, "config": {"k": 1}, "subtasks": [3]}
    (folder / "score.json").write_text(json.dumps({**report_factory(None, seed=3), "system": card}))
    result = add_reports_and_render([tmp_path / "demo-output"], db, tmp_path / "site")
    assert result["added"] == [1] and Path(result["html"]).is_file()
    row = result["tables"][0]["rows"][0]
    assert row["system"] == "baseline" and row["fingerprint"] == "abc" * 10
    again = add_reports_and_render([folder / "score.json"], db, tmp_path / "site")
    assert again["added"] == [] and again["already_present"] == [1]


def test_db_from_environment(tmp_path, report_file, monkeypatch):
    monkeypatch.setenv("ARCHEHR_LEADERBOARD_DB", str(tmp_path / "env.sqlite"))
    assert CliRunner().invoke(leaderboard_group, ["add", str(report_file("r.json", seed=1))]).exit_code == 0
    assert (tmp_path / "env.sqlite").is_file()


def test_importing_the_leaderboard_loads_no_model():
    code = (
        "import sys, leaderboard, archehr.leaderboard_cli, leaderboard.api, archehr.reproduce; "
        "heavy = [m for m in ('torch', 'transformers', 'bert_score', 'sentence_transformers') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
