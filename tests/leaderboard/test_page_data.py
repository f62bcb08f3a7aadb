"""The page's data-use rule and provenance on real reports: synthetic data recognised by its key hash; user data
shows ids, scores, predictions and marks, and case text only with ``--include-case-text`` (with a warning line);
published figures as reference rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from archehr.leaderboard_cli import leaderboard_group
from harness.data import SYNTHETIC, load_dataset, write_split
from harness.data.model import Split

CREDENTIALED = "contains credentialed"


def _invoke(*args: str):
    return CliRunner().invoke(leaderboard_group, list(args))


@pytest.fixture(scope="module")
def user_board(tmp_path_factory, board_builder) -> tuple[Path, Path, Split]:
    """The synthetic test split copied as a user data folder (split "test-user"), scored there, on a board."""
    root = tmp_path_factory.mktemp("user")
    synthetic = load_dataset(SYNTHETIC).split("test")
    split = Split("test-user", synthetic.cases, synthetic.keys, synthetic.mapping, synthetic.source)
    write_split(split, root / "data" / "test-user")
    reports = board_builder(root / "runs", load_dataset(root / "data").split("test-user"))
    db = root / "lb.sqlite"
    added = _invoke("add", "--db", str(db), *map(str, reports))
    assert added.exit_code == 0, added.output
    return db, root / "data", split


def _html(db: Path, out: Path, *extra: str) -> str:
    result = _invoke("html", "--db", str(db), str(out), "--resamples", "500", *extra)
    assert result.exit_code == 0, result.output
    return (out / "index.html").read_text(encoding="utf-8")


def _case_texts(split: Split) -> list[str]:
    """Text only the case holds: note sentences, narratives, questions (escaped as the page escapes them)."""
    from html import escape

    texts = [s.text for c in split.cases for s in c.sentences or ()]
    texts += [c.patient_narrative or "" for c in split.cases] + [c.clinician_question or "" for c in split.cases]
    return [escape(t) for t in texts if len(t) > 25]


def test_user_data_without_text_shows_ids_scores_and_marks(user_board, tmp_path):
    db, data, split = user_board
    plain = _html(db, tmp_path / "plain")
    assert not [t for t in _case_texts(split) if t in plain]
    assert CREDENTIALED not in plain
    assert "matched no data given" in plain and "(unverified)" in plain  # no --data: not recognised
    assert "gold not available" in plain  # predicted ids shown, no marks without the key

    marked = _html(db, tmp_path / "marked", "--data", str(data))
    assert not [t for t in _case_texts(split) if t in marked]
    assert "user data · split test-user" in marked and "Synthetic data" not in marked
    assert 'class="mark-both"' in marked and 'class="mark-gold"' in marked and 'class="mark-predicted"' in marked
    assert "Case text hidden (credentialed data)" in marked
    assert "--include-case-text" in marked  # the banner says how to add it


def test_include_case_text_shows_text_with_a_warning(user_board, tmp_path):
    db, data, split = user_board
    result = _invoke(
        "html",
        "--db",
        str(db),
        str(tmp_path / "site"),
        "--resamples",
        "500",
        "--data",
        str(data),
        "--include-case-text",
    )
    assert result.exit_code == 0, result.output
    assert "credentialed case text: do not share it" in result.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    shown = [t for t in _case_texts(split) if t in html]
    assert len(shown) > len(_case_texts(split)) // 2
    top = html.index("<header>")
    assert CREDENTIALED in html[:top]  # the first line of the page


def test_include_case_text_needs_data(user_board, tmp_path):
    db, _, _ = user_board
    result = _invoke("html", "--db", str(db), str(tmp_path / "site"), "--include-case-text")
    assert result.exit_code == 2 and "--include-case-text needs --data" in result.output
    assert not (tmp_path / "site").exists()


def test_synthetic_board_is_labelled_and_shows_text(synthetic_site):
    html = synthetic_site.read_text(encoding="utf-8")
    head = html[: html.index("<main>")]
    assert "Synthetic data." in head and "not ArchEHR-QA results" in head
    assert html.count('class="tag synthetic"') >= 6 + 3  # every row and every table
    assert "splenic laceration" in html  # synthetic text may always be shown
    assert CREDENTIALED not in html


def test_published_figures_become_reference_rows(user_board, tmp_path):
    db, _, _ = user_board
    figures = tmp_path / "figures.yaml"
    figure = {
        "id": "paper-st2",
        "what": "a published subtask-2 score",
        "source": "a paper",
        "year": "2026",
        "subtask": 2,
        "split": "test-user",
        "case_ids": "21-32",
        "metric": "overall_score",
        "expected": 61.5,
        "tolerance": 1.0,
        "signature": {},
        "system": "baseline",  # figures name registered systems: reproduce.yaml is validated on reading
    }
    other = {**figure, "id": "other-cases", "case_ids": "21-30", "system": "qunlp-evidence"}
    figures.write_text(yaml.safe_dump({"schema_version": 1, "figures": [figure, other]}), encoding="utf-8")
    html = _html(db, tmp_path / "site", "--figures", str(figures))
    assert html.count("published, not reproduced") == 1
    assert "baseline (published)" in html and "61.50" in html
    assert "qunlp-evidence (published)" not in html  # other case ids: not comparable

    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 99\n", encoding="utf-8")
    result = _invoke("html", "--db", str(db), str(tmp_path / "site2"), "--figures", str(bad))
    assert result.exit_code == 2 and "schema_version" in result.output


def test_significance_on_the_page(user_board, tmp_path):
    db, _, _ = user_board
    html = _html(db, tmp_path / "site", "--seed", "7")
    assert "resamples:500|seed:7" in html and "alpha:0.05" in html
    assert "95% CI" in html and "p vs best" in html
    data = json.loads(_invoke("show", "--db", str(db), "--json").stdout)
    assert len(data["tables"]) == 3


def test_a_split_named_like_the_synthetic_one_is_recognised_by_its_key(tmp_path, board_builder):
    """Same split name and case ids as the synthetic test split, one gold label changed: not synthetic."""
    from dataclasses import replace

    from leaderboard.api import add_reports, load_tables
    from leaderboard.cases import table_provenance
    from leaderboard.store import LeaderboardStore

    synthetic = load_dataset(SYNTHETIC).split("test")
    first = synthetic.cases[0].case_id
    key = synthetic.keys[first]
    flipped = tuple((sid, "essential" if label == "not-relevant" else label) for sid, label in key.relevance)
    keys = {**synthetic.keys, first: replace(key, relevance=flipped)}
    write_split(Split("test", synthetic.cases, keys, synthetic.mapping, synthetic.source), tmp_path / "data" / "test")
    user = board_builder(tmp_path / "user", load_dataset(tmp_path / "data").split("test"))
    real = board_builder(tmp_path / "synthetic")
    with LeaderboardStore(tmp_path / "lb.sqlite") as store:
        add_reports(store, [*user, *real])
        tables = load_tables(store)
    subtask2 = [t for t in tables if t.subtask == 2]
    assert len(subtask2) == 2  # other key: a table apart
    assert sorted(p.kind for p in table_provenance(subtask2).values()) == ["synthetic", "unverified"]
    with_data = table_provenance(subtask2, data=tmp_path / "data")
    assert sorted(p.kind for p in with_data.values()) == ["synthetic", "user"]
    assert not any(p.show_text for p in with_data.values() if p.kind == "user")
    assert all(p.show_text for p in table_provenance(subtask2, data=tmp_path / "data", include_case_text=True).values())


def test_hostile_predictions_are_escaped(tmp_path, board_builder):
    from leaderboard.api import add_reports_and_render

    reports = board_builder(tmp_path / "runs")
    submission = next(p.parent / "submission.json" for p in reports if p.parent.name == "subtask3")
    entries = json.loads(submission.read_text(encoding="utf-8"))
    entries[0]["prediction"] = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    submission.write_text(json.dumps(entries), encoding="utf-8")
    html = Path(add_reports_and_render(reports, tmp_path / "lb.sqlite", tmp_path / "site")["html"]).read_text()
    assert html.count("<script") == 1 and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_bad_data_folder_is_one_line_and_writes_nothing(user_board, tmp_path):
    db, _, _ = user_board
    result = _invoke("html", "--db", str(db), str(tmp_path / "site"), "--data", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "nowhere" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "site").exists()
