"""LLM-judge bias experiments on the leaderboard: `archehr judge bias --leaderboard DB` against a real HTTP server
answering from a script (llmkit.testing.ScriptedServer), `leaderboard add` of a result file, refusals of corrupt
results, and the section of their own in show, the page and the exports (never among entries or rankings)."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archehr.cli import cli
from harness.data.loader import load_dataset
from leaderboard.store import LeaderboardStore
from llmkit.testing import ScriptedServer

CASES = ["21", "22"]
GOOD = '{"grounded": 4, "answers": 5, "consistent": 3, "patient": 4, "rationale": "fine"}'
GOOD_MEAN = (75 + 100 + 50 + 75) / 4
TITLE = "LLM judge bias (not official)"


def _flattering(body: dict[str, Any]) -> str:
    """A judge that inflates the answers it is told it wrote."""
    told_mine = "(you, " in body["messages"][-1]["content"]
    return '{"grounded": 5, "answers": 5, "consistent": 5, "patient": 5}' if told_mine else GOOD


def _submission(root: Path, name: str, suffix: str = "") -> Path:
    keys = load_dataset("synthetic").split("test").keys or {}
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "submission.json"
    entries = [{"case_id": c, "prediction": keys[c].clinician_answer_without_citations + suffix} for c in CASES]
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def bias_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real `archehr judge bias --out --leaderboard` run; its result file, board and output."""
    root = tmp_path_factory.mktemp("bias")
    mine, theirs = _submission(root, "me"), _submission(root, "other", suffix=" Ask your doctor.")
    out, db = root / "bias.json", root / "board.sqlite"
    with ScriptedServer(_flattering) as server:
        config = root / "judge.yaml"
        config.write_text(
            json.dumps({"base_url": server.base_url, "model": "scripted", "concurrency": 1, "max_retries": 0}).replace(
                "}", ', "judge_system_name": "me"}'
            ),
            encoding="utf-8",
        )
        args = ["judge", "bias", f"me={mine}", str(theirs), "--data", "synthetic", "--split", "test", "--task"]
        args += ["2026/3", "--case-ids", "21,22", "--judge", str(config), "--resamples", "200", "--format", "json"]
        first = _invoke(*args, "--out", str(out), "--leaderboard", str(db))
        again = _invoke(*args, "--leaderboard", str(db))  # answered from the judge's cache: the same result
    return {"out": out, "db": db, "first": first, "again": again}


@pytest.fixture
def bias_file(tmp_path: Path, bias_run: dict[str, Any]) -> Path:
    return Path(shutil.copy(bias_run["out"], tmp_path / "bias.json"))


def _corrupt(path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")  # NaN goes out as the bare token NaN
    return path


def test_judge_bias_adds_its_result_to_the_board(bias_run: dict[str, Any]) -> None:
    first, again = bias_run["first"], bias_run["again"]
    assert first.exit_code == 0, first.output
    assert f"judge bias experiment added as #1 in {bias_run['db']}" in first.stderr
    result = json.loads(first.stdout)
    assert result == json.loads(bias_run["out"].read_text())  # output and --out unchanged by --leaderboard
    assert again.exit_code == 0 and "already on the board as judge bias experiment #1" in again.stderr
    with LeaderboardStore(bias_run["db"]) as store:
        (stored,) = store.bias_experiments()
        assert store.entries() == []  # never an entry
    assert stored.result == result and stored.task == "2026/3" and stored.split == "test"
    assert stored.source == str(bias_run["out"]) and stored.judge_signature == result["judge"]
    me, other = stored.rows()
    assert (me.system, me.is_judge, other.is_judge) == ("me", True, False)
    assert me.blind == GOOD_MEAN and me.non_blind == 100.0
    assert me.delta == pytest.approx(100 - GOOD_MEAN) and other.delta == 0.0  # the inflation is stored
    extra = stored.self_minus_others()
    assert extra is not None and extra.delta == pytest.approx(100 - GOOD_MEAN) and extra.others == ("other",)


def test_leaderboard_add_takes_a_bias_result_once(
    tmp_path: Path, bias_file: Path, bias_run: dict[str, Any], report_file: Callable[..., Path]
) -> None:
    report = report_file("report.json", system="alpha", seed=1)
    db = tmp_path / "board.sqlite"
    added = _invoke("leaderboard", "add", str(report), str(bias_file), "--db", str(db), "--format", "json")
    assert added.exit_code == 0, added.output
    data = json.loads(added.stdout)
    assert [e["system"] for e in data["entries"]] == ["alpha"]
    assert data["judge_bias"] == [
        {
            "bias_id": 1,
            "added": True,
            "task": "2026/3",
            "split": "test",
            "n_cases": 2,
            "systems": ["me", "other"],
            "source": str(bias_file),
        }
    ]
    twice = _invoke("leaderboard", "add", str(bias_file), "--db", str(db), "--format", "json")
    assert twice.exit_code == 0 and json.loads(twice.stdout)["judge_bias"][0]["added"] is False
    assert f"{bias_file} is already on the board as judge bias experiment #1" in twice.stderr
    # the file `judge bias --out` wrote is the result `--leaderboard` added: one path in, the same digest
    same = _invoke("leaderboard", "add", str(bias_file), "--db", str(bias_run["db"]), "--format", "json")
    assert same.exit_code == 0 and json.loads(same.stdout)["judge_bias"][0]["added"] is False
    with LeaderboardStore(db) as store:
        assert [e.system for e in store.entries()] == ["alpha"] and len(store.bias_experiments()) == 1


def _set_system_field(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["systems"]["other"].__setitem__(key, value)


def _set_difference(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["systems"]["me"]["non_blind_minus_blind"].__setitem__(key, value)


def _rename(d: dict[str, Any]) -> None:
    d["systems"]["ev\x1b[2Jil"] = d["systems"].pop("other")
    d["self_minus_other"]["others"] = ["ev\x1b[2Jil"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (_set_system_field("blind", "high"), "systems.other.blind", "not a finite number"),
        (_set_difference("delta", math.nan), "systems.me.non_blind_minus_blind.delta", "not a finite number"),
        (_set_difference("ci_high", 250.0), "systems.me.non_blind_minus_blind.ci_high", "outside -100..100"),
        (_set_difference("ci_low", 30.0), "systems.me.non_blind_minus_blind.ci_low", "does not hold delta"),
        (_set_difference("dropped", -1), "systems.me.non_blind_minus_blind.dropped", "not a non-negative integer"),
        (_set_system_field("non_blind", 101.0), "systems.other.non_blind", "outside 0..100"),
        (_rename, "field systems:", "holds control characters"),
        (lambda d: d.__setitem__("task", "2026/2"), "task", "not one the judge reads"),
        (lambda d: d.__setitem__("case_ids", "21,22"), "case_ids", "non-empty list"),
        (lambda d: d.__setitem__("experiment", "other"), "experiment", "is not 'judge-self-preference'"),
    ],
)
def test_a_corrupt_bias_result_is_refused(tmp_path: Path, bias_file: Path, change: Any, field: str, message: str):
    bad = _corrupt(bias_file, change)
    db = tmp_path / "board.sqlite"
    result = _invoke("leaderboard", "add", str(bad), "--db", str(db))
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    where = field if field.startswith("field ") else f"field {field}:"
    assert line.startswith(f"error: file {bad}, ") and where in line and message in line, line
    assert "Traceback" not in result.output and "\x1b" not in result.stderr
    assert not db.exists()  # nothing written


def _board_with_both(tmp_path: Path, bias_file: Path, report_file: Callable[..., Path]) -> Path:
    reports = [report_file(f"{name}.json", system=name, seed=seed) for name, seed in (("alpha", 1), ("beta", 2))]
    db = tmp_path / "board.sqlite"
    assert _invoke("leaderboard", "add", *map(str, reports), str(bias_file), "--db", str(db)).exit_code == 0
    return db


def test_show_page_and_exports_have_the_bias_section_apart_from_the_rankings(
    tmp_path: Path, bias_file: Path, report_file: Callable[..., Path]
) -> None:
    # a system name that must reach the page as text
    _corrupt(bias_file, lambda d: d["systems"].__setitem__("<b>other</b>", d["systems"].pop("other")))
    _corrupt(bias_file, lambda d: d["self_minus_other"].__setitem__("others", ["<b>other</b>"]))
    db = _board_with_both(tmp_path, bias_file, report_file)
    delta = f"+{100 - GOOD_MEAN:.2f}"

    shown = json.loads(_invoke("leaderboard", "show", "--db", str(db), "--format", "json").stdout)
    (table,) = shown["tables"]
    assert {r["system"] for r in table["rows"]} == {"alpha", "beta"}
    (section,) = shown["judge_bias"]
    assert section["title"] == f"{TITLE} · 2026 subtask 3" and section["not_official"] is True
    (experiment,) = section["experiments"]
    me, other = experiment["rows"]
    assert me["is_judge"] and me["non_blind_minus_blind"] == pytest.approx(100 - GOOD_MEAN) and me["n_cases"] == 2
    assert other["system"] == "<b>other</b>" and other["non_blind_minus_blind"] == 0.0
    assert experiment["self_minus_others"]["others"] == ["<b>other</b>"]

    wide = {"COLUMNS": "200"}  # under xdist the console is 80 wide and the title would wrap
    text = CliRunner().invoke(cli, ["leaderboard", "show", "--db", str(db), "--format", "text"], env=wide).stdout
    assert TITLE in text and "judge's own" in text and "self − others" in text and delta in text
    assert "llm-judge|model:scripted" in text and text.index("Overall") < text.index(TITLE)

    assert _invoke("leaderboard", "html", "--out", str(tmp_path / "site"), "--db", str(db)).exit_code == 0
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert TITLE in page and "judge&#39;s own" in page and delta in page and 'href="#judge-bias-2026-3"' in page
    assert "&lt;b&gt;other&lt;/b&gt;" in page and "<b>other</b>" not in page
    assert 'class="judge-signature" title="llm-judge|model:scripted|' in page

    exported = json.loads(_invoke("leaderboard", "export", "--format", "json", "--db", str(db)).stdout)
    assert {e["system"] for e in exported["entries"]} == {"alpha", "beta"}
    assert exported["judge_bias"] == shown["judge_bias"]
    markdown = _invoke("leaderboard", "export", "--format", "markdown", "--db", str(db)).stdout
    assert (
        f"### {TITLE} · 2026 subtask 3 · experiment #1" in markdown
        and f"| me (judge's own) | {GOOD_MEAN:.2f} | 100.00 | {delta} |" in markdown
    )

    # never ranked: no bias system in any table, cluster or entry of any view
    for view in (shown["tables"], exported["tables"], exported["entries"]):
        assert '"me"' not in json.dumps(view) and "other</b>" not in json.dumps(view)
    csv_text = _invoke("leaderboard", "export", "--format", "csv", "--db", str(db)).stdout
    assert ",me," not in csv_text and "judge" not in csv_text

    assert _invoke("leaderboard", "rm", "--bias", "1", "--db", str(db)).exit_code == 0
    assert "judge_bias" not in json.loads(_invoke("leaderboard", "show", "--db", str(db), "--format", "json").stdout)


def test_a_board_without_bias_results_shows_no_bias_section(tmp_path: Path, report_file: Callable[..., Path]) -> None:
    report = report_file("alpha.json", system="alpha", seed=1)
    db = tmp_path / "board.sqlite"
    assert _invoke("leaderboard", "add", str(report), "--db", str(db)).exit_code == 0
    outputs = [_invoke("leaderboard", "show", "--db", str(db), "--format", fmt).stdout for fmt in ("json", "text")] + [
        _invoke("leaderboard", "export", "--format", fmt, "--db", str(db)).stdout for fmt in ("json", "markdown")
    ]
    assert _invoke("leaderboard", "html", "--out", str(tmp_path / "site"), "--db", str(db)).exit_code == 0
    outputs.append((tmp_path / "site" / "index.html").read_text(encoding="utf-8"))
    for out in outputs:
        assert "LLM judge bias" not in out and "judge_bias" not in out and "judge-bias" not in out
