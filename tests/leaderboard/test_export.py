"""``leaderboard export --format markdown|latex|csv|json``: rank clusters agree with ``leaderboard compare``'s
paired bootstrap; LaTeX escapes hostile names; the best values are marked."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from archehr.leaderboard_cli import leaderboard_group
from leaderboard.export import latex_escape


@pytest.fixture
def db(tmp_path, report_file):
    path = tmp_path / "board.sqlite"
    reports = [
        report_file("a.json", system="alpha", seed=1, shift=8),
        report_file("b.json", system="beta_&_co", seed=2),
        report_file("c.json", system="gamma", seed=3),
    ]
    result = CliRunner().invoke(leaderboard_group, ["add", "--db", str(path), *map(str, reports)])
    assert result.exit_code == 0, result.output
    return path


def _export(db, fmt: str, *extra: str) -> str:
    result = CliRunner().invoke(
        leaderboard_group, ["export", "--db", str(db), "--format", fmt, "--resamples", "2000", "--seed", "3", *extra]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _p(db, a: str, b: str) -> float:
    argv = ["compare", "--db", str(db), a, b, "--method", "bootstrap", "--resamples", "2000", "--seed", "3", "--json"]
    result = CliRunner().invoke(leaderboard_group, argv)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["tests"][0]["p_value"]


def test_clusters_agree_with_compare(db):
    table = json.loads(_export(db, "json", "--no-per-case"))["tables"][0]
    order = [r["entry_id"] for r in table["rows"]]
    sig = table["significance"]
    clusters = [sig["entries"][str(e)]["cluster"] for e in order]
    assert order[0] == 1 and clusters[0] == 1  # alpha, shifted up by 8 points, is first
    # the second entry is clearly worse than alpha: a cluster of its own, headed by itself
    assert _p(db, "1", str(order[1])) < 0.05 and clusters[1] == 2
    assert sig["entries"][str(order[1])]["p_vs_best"] == pytest.approx(_p(db, "1", str(order[1])))
    same = _p(db, str(order[1]), str(order[2])) >= 0.05
    assert clusters[2] == (2 if same else 3)


def test_markdown_and_latex_mark_clusters_and_best(db):
    table = json.loads(_export(db, "json", "--no-per-case"))["tables"][0]
    clusters = table["significance"]["entries"]
    md = _export(db, "markdown")
    rows = [line for line in md.splitlines() if line.startswith("| ") and "#" in line]
    assert [r.split(" | ")[0].strip("| ") for r in rows] == [
        str(clusters[str(r["entry_id"])]["cluster"]) for r in table["rows"]
    ]
    assert rows[0].count("**") >= 2  # alpha holds best values, in bold
    assert "95% CI" in md and "seed 3" in md and "resamples:2000|seed:3" in md

    tex = _export(db, "latex")
    assert r"\begin{tabular}" in tex and r"\toprule" in tex and r"\bottomrule" in tex
    assert r"beta\_\&\_co \#" in tex and "beta_&_co" not in tex
    assert r"\textbf{" in tex and r"95\% CI" in tex
    body = tex[tex.index(r"\midrule") : tex.index(r"\bottomrule")]
    assert body.count(r"\midrule") == len(set(c["cluster"] for c in clusters.values()))  # header rule + one per break


def test_csv_carries_clusters(db):
    rows = list(csv.DictReader(io.StringIO(_export(db, "csv"))))
    ranked = [r for r in rows if r["metric"] == "overall_score"]
    assert {r["system"]: r["rank_cluster"] for r in ranked}["alpha"] == "1"
    assert all(r["ci_low"] and r["ci_high"] for r in ranked)
    assert all(not r["ci_low"] for r in rows if r["metric"] != "overall_score")


def test_latex_escape():
    assert latex_escape("a_b & 50% #1 {x} ~ ^ \\ <") == (
        r"a\_b \& 50\% \#1 \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{} $<$"
    )
