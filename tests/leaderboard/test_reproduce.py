"""``archehr reproduce``: SKIP lines that say what to supply; OK/FAIL with an injected runner."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from archehr.leaderboard_cli import reproduce_command
from archehr.reproduce import RunRequest, load_figures
from harness.data import SYNTHETIC, load_dataset, write_split
from leaderboard.records import MetricResult

REPO_FIGURES = Path(__file__).resolve().parents[2] / "reproduce.yaml"
GOOD_BLEU = "bleu|nrefs:1|case:mixed|eff:no|tok:13a|smooth:none|max-order:4|per-case-mean|harness:0.1"


def test_published_figures_are_listed():
    book = load_figures(REPO_FIGURES)
    figures = {f.id: f for f in book.figures}
    overall = figures["qunlp-st3-overall"]
    assert (overall.expected, overall.split, overall.case_ids[0], overall.case_ids[-1]) == (
        32.87,
        "test-2026",
        "121",
        "167",
    )
    assert len(overall.case_ids) == 47
    components = {
        f.metric: f.expected for f in book.figures if f.id.startswith("qunlp-st3-") and f.metric != "overall_score"
    }
    assert components == {
        "bleu": 9.42,
        "rougeLsum": 27.04,
        "sari": 55.42,
        "bertscore": 43.00,
        "alignscore": 25.28,
        "medcon": 37.04,
    }
    assert sum(components.values()) / 6 == pytest.approx(32.87, abs=0.005)
    assert figures["qunlp-st4-micro-f1"].expected == 67.16 and len(figures["qunlp-st4-micro-f1"].case_ids) == 100
    assert figures["qunlp-st4-cross-encoder-only"].expected == 60.82
    assert figures["qunlp-st3-bertscore"].signature.fields["layer"] == "4"
    assert any(c.value == 36.33 for c in book.context)


@pytest.mark.parametrize("data_args", [[], ["--data", SYNTHETIC]])
def test_without_real_data_every_figure_is_a_skip_saying_what_to_supply(data_args, tmp_path):
    result = CliRunner().invoke(
        reproduce_command, [*data_args, "--format", "text", "--figures", str(REPO_FIGURES), "--work-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if not line.startswith("INFO")]
    assert len(lines) == 9
    assert all(line.startswith("SKIP  ") for line in lines)
    assert all("pass --data DIR holding test-2026/archehr-qa.xml and test-2026/archehr-qa_key.json" in x for x in lines)
    assert "cases 121-167" in lines[0] and "cases 21-120" in lines[-1]
    assert any(line.startswith("INFO  context:") and "36.33" in line for line in result.stdout.splitlines())


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """The synthetic test split (cases 21-32, with key) written as a 'test-2026' folder."""
    split = load_dataset(SYNTHETIC).split("test")
    write_split(split, tmp_path / "data" / "test-2026")
    return tmp_path / "data"


def _figures(tmp_path: Path, **extra) -> Path:
    base = {
        "year": "2026",
        "subtask": 3,
        "split": "test-2026",
        "case_ids": "21-32",
        "system": "baseline",
        "source": "test",
    }
    figures = [
        {
            **base,
            "id": "bleu",
            "metric": "bleu",
            "expected": 9.42,
            "tolerance": 0.5,
            "signature": {"name": "bleu", "fields": {"tok": "13a"}},
        },
        {**base, "id": "sari", "metric": "sari", "expected": 50.0, "tolerance": 1.0},
        {**base, "id": "overall", "metric": "overall_score", "expected": 30.0, "tolerance": 1.0},
        {**base, "id": "medcon", "metric": "medcon", "expected": 37.0, "tolerance": 3.0},
        {
            **base,
            "id": "tok",
            "metric": "bleu",
            "expected": 9.42,
            "tolerance": 0.5,
            "signature": {"fields": {"tok": "intl"}},
        },
        {**base, **extra, "id": "needs-more", "metric": "bleu", "expected": 9.5, "tolerance": 1.0, "case_ids": "21-25"},
    ]
    path = tmp_path / "figures.yaml"
    path.write_text(yaml.safe_dump({"schema_version": 1, "figures": figures}), encoding="utf-8")
    return path


def _fake_runner(calls: list[RunRequest]):
    def run(request: RunRequest) -> dict[str, MetricResult]:
        calls.append(request)
        return {
            "bleu": MetricResult("bleu", GOOD_BLEU, 9.60),
            "sari": MetricResult("sari", "sari|harness:0.1", 47.0),
            "medcon": MetricResult("medcon", "medcon|x", None, "unavailable", reason="no UMLS index", fix="set X"),
            "overall_score": MetricResult("overall_score", "overall|mean:bleu,sari,medcon", 28.3, missing=("medcon",)),
        }

    return run


def test_ok_fail_and_skip_with_a_fake_runner(tmp_path, data_dir):
    calls: list[RunRequest] = []
    figures = _figures(tmp_path, requires_config={"model_dir": "train it first"})
    result = CliRunner().invoke(
        reproduce_command,
        ["--data", str(data_dir), "--format", "text", "--figures", str(figures), "--work-dir", str(tmp_path / "work")],
        obj={"reproduce_runner": _fake_runner(calls)},
    )
    assert result.exit_code == 1, result.output  # a FAIL
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["OK    bleu"] == "subtask 3 bleu on test-2026 cases 21-32: expected 9.42 ± 0.50, got 9.60"
    assert (
        lines["FAIL  sari"]
        == "subtask 3 sari on test-2026 cases 21-32: expected 50.00 ± 1.00, got 47.00 (off by -3.00)"
    )
    assert lines["SKIP  overall"].startswith("overall_score is partial (computed without medcon); supply medcon: set X")
    assert lines["SKIP  medcon"] == "medcon unavailable: no UMLS index; fix: set X"
    assert lines["FAIL  tok"].startswith("not comparable: signature") and "tok is 13a, needs intl" in lines["FAIL  tok"]
    assert lines["SKIP  needs-more"] == "needs --set baseline:model_dir=…: train it first"
    assert len(calls) == 1  # five figures, one run
    assert calls[0].system == "baseline" and calls[0].case_ids == tuple(str(i) for i in range(21, 33))
    assert calls[0].split.case_ids() == list(calls[0].case_ids)


def test_all_ok_exits_zero_and_set_reaches_the_runner(tmp_path, data_dir):
    calls: list[RunRequest] = []
    figures = _figures(tmp_path, requires_config={"model_dir": "train it first"})
    result = CliRunner().invoke(
        reproduce_command,
        [
            "--data",
            str(data_dir),
            "--figures",
            str(figures),
            "--only",
            "bleu",
            "--only",
            "needs-*",
            "--set",
            "model_dir=/models/x",
            "--json",
        ],
        obj={"reproduce_runner": _fake_runner(calls)},
    )
    assert result.exit_code == 0, result.output
    import json

    outcomes = json.loads(result.stdout)["outcomes"]
    assert [(o["id"], o["status"]) for o in outcomes] == [("bleu", "OK"), ("needs-more", "OK")]
    assert calls[-1].config == {"model_dir": "/models/x"}


def test_missing_split_cases_and_assets_are_skips(tmp_path, data_dir):
    figures = tmp_path / "f.yaml"
    common = {"year": "2026", "subtask": 3, "metric": "bleu", "expected": 1, "tolerance": 1, "system": "baseline"}
    figures.write_text(
        yaml.safe_dump(
            {
                "schema_version": 1,
                "figures": [
                    {**common, "id": "nosplit", "split": "dev-2027", "case_ids": "1-3"},
                    {**common, "id": "nocases", "split": "test-2026", "case_ids": "121-167"},
                    {
                        **common,
                        "id": "noasset",
                        "split": "test-2026",
                        "case_ids": "21-22",
                        "assets": ["quickumls-index"],
                    },
                ],
            }
        )
    )
    result = CliRunner().invoke(
        reproduce_command,
        ["--data", str(data_dir), "--format", "text", "--figures", str(figures)],
        obj={"reproduce_runner": _fake_runner([])},
        env={"ARCHEHR_QUICKUMLS_INDEX": str(tmp_path / "nowhere")},
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["SKIP  nosplit"].startswith("no split 'dev-2027' under")
    assert "lacks 47 cases (121-167)" in lines["SKIP  nocases"]
    assert lines["SKIP  noasset"].startswith("missing 1 asset: quickumls-index: set ARCHEHR_QUICKUMLS_INDEX")


def test_figures_are_checked_against_the_registries_in_one_error(tmp_path):
    common = {"year": "2026", "split": "test-2026", "case_ids": "21-22", "metric": "bleu", "expected": 1}
    figures = [
        {**common, "id": "good", "subtask": 3, "tolerance": 1, "system": "baseline"},
        {**common, "id": "nosystem", "subtask": 3, "tolerance": 1, "system": "no-such-system"},
        {
            **common,
            "id": "many",
            "subtask": 4,
            "tolerance": 1,
            "system": "qunlp",
            "config": {"aligner.mode": "cross-encoder", "generation.max_words": "many"},
            "requires_config": {"adapter_dirr": "x", "model_dir": "train it"},
            "assets": ["qwen3-4b", "no-such-asset"],
        },
        {
            **common,
            "id": "typo",
            "subtask": 4,
            "tolerance": 1,
            "system": "qunlp-aligner",
            "config": {"component": "ce"},
        },
    ]
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"schema_version": 1, "figures": figures}), encoding="utf-8")
    result = CliRunner().invoke(reproduce_command, ["--figures", str(path)])
    assert result.exit_code == 2
    message = result.output.split("Error: ", 1)[1]
    assert "\n" not in message.strip()  # one line
    assert "figure 'good'" not in message
    assert "figure 'nosystem': no system named 'no-such-system'" in message
    for fragment in (
        "figure 'many'",
        "system 'qunlp' answers subtask(s) 3, not 4",
        "unknown generator config key(s) aligner",
        "'generation.max_words': expected an integer, got 'many'",
        "unknown generator config key(s) adapter_dirr",
        "unknown asset(s) no-such-asset",
        "figure 'typo': aligner config key 'component': 'ce' is not one of",
    ):
        assert fragment in message, fragment
    assert "model_dir" not in message.split("adapter_dirr", 1)[1].split(";")[0]  # a control key is known


def test_set_overrides_are_checked_per_system(tmp_path, data_dir):
    figures = _figures(tmp_path)
    runner = CliRunner()
    args = ["--data", str(data_dir), "--figures", str(figures), "--only", "bleu"]
    bad = runner.invoke(reproduce_command, [*args, "--set", "max_evidence=x", "--set", "qunlp:model_dir=/m"])
    assert bad.exit_code == 2
    assert "'max_evidence': expected an integer" in bad.output and "no chosen figure runs 'qunlp'" in bad.output
    calls: list[RunRequest] = []
    good = runner.invoke(
        reproduce_command, [*args, "--set", "baseline:max_evidence=3"], obj={"reproduce_runner": _fake_runner(calls)}
    )
    assert good.exit_code == 0, good.output
    assert calls[0].config == {"max_evidence": 3}


def test_a_crashing_run_propagates_and_a_missing_piece_is_a_skip(tmp_path, data_dir):
    from harness.errors import MissingError

    figures = _figures(tmp_path)
    args = [
        "--data",
        str(data_dir),
        "--figures",
        str(figures),
        "--only",
        "bleu",
        "--work-dir",
        str(tmp_path / "w"),
        "--format",
        "text",
    ]

    def crash(request: RunRequest) -> dict[str, MetricResult]:
        raise KeyError("a bug")

    def missing(request: RunRequest) -> dict[str, MetricResult]:
        raise MissingError("the base model: set ARCHEHR_X")

    result = CliRunner().invoke(reproduce_command, args, obj={"reproduce_runner": crash})
    assert isinstance(result.exception, KeyError)  # never turned into a FAIL line
    result = CliRunner().invoke(reproduce_command, args, obj={"reproduce_runner": missing})
    assert result.exit_code == 0 and result.stdout.startswith(
        "SKIP  bleu: the run needs: the base model: set ARCHEHR_X"
    )


def test_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    result = runner.invoke(reproduce_command, ["--figures", str(REPO_FIGURES), "--only", "nope"])
    assert result.exit_code == 2 and "no figure matches 'nope'" in result.output
    result = runner.invoke(reproduce_command, ["--figures", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "no figures file" in result.output
    result = runner.invoke(reproduce_command, ["--figures", str(REPO_FIGURES), "--set", "novalue"])
    assert result.exit_code == 2


def test_signature_requirements_accept_the_harness_lexical_metrics():
    pytest.importorskip("sacrebleu")
    pytest.importorskip("rouge_score")
    from metrics.lexical import BleuMetric, RougeMetric
    from metrics.sari import SariMetric

    figures = {f.metric: f for f in load_figures(REPO_FIGURES).figures}
    for metric, signature in (
        ("bleu", BleuMetric().signature()),
        ("rougeLsum", RougeMetric().signature()),
        ("sari", SariMetric().signature()),
    ):
        assert figures[metric].signature.problems(signature) == [], (metric, signature)
