"""The sequential fine-tuning experiment end to end on CPU: tiny random Qwen3 (4-bit), tiny synthetic FHIR data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from experiments.forgetting import BASE, ForgettingOptions, format_table, run_forgetting
from fhirqa.build import BuildOptions, build_synthetic
from harness.testing import make_tiny_qwen3
from harness.testing import tiny_classify_generate_overrides as tiny_overrides


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    for package in ("carebundle", "bitsandbytes", "peft"):
        pytest.importorskip(package)
    root = tmp_path_factory.mktemp("forgetting")
    build_synthetic(root / "data", BuildOptions(seed=7, patients=5, questions_per_patient=2))
    overrides = tiny_overrides(make_tiny_qwen3(root / "tiny"))
    options = ForgettingOptions(
        str(root / "data"), str(root / "out"), overrides=overrides, wordnet="none", show_progress=False
    )
    return {"options": options, "summary": run_forgetting(options)}


def test_three_adapters_and_every_figure(experiment: dict[str, Any]) -> None:
    summary = experiment["summary"]
    adapters = {name: Path(path) for name, path in summary["adapters"].items()}
    assert set(adapters) == {"relevance", "sequential", "answer"}
    assert all((path / "adapter_card.json").is_file() for path in adapters.values())
    assert adapters["sequential"] != adapters["answer"]
    assert set(summary["task1_micro_f1"]) == {BASE, "relevance", "sequential"}
    assert summary["task1_forgetting"] == pytest.approx(
        summary["task1_micro_f1"]["relevance"] - summary["task1_micro_f1"]["sequential"], abs=0.011
    )
    for name, ranking in summary["task1_ranking"].items():
        # the test split's pairs: every resource of every evaluated question, with its gold label
        assert ranking["pairs"] > ranking["positives"] > 0, name
        assert 0 <= ranking["average_precision"] <= 100 and 0 <= ranking["roc_auc"] <= 100
        assert 0 <= ranking["tuned_threshold"] <= 1 and 0 <= ranking["micro_f1_at_tuned_threshold"] <= 100
    assert set(summary["task2_meteor_gold_items"]) == {BASE, "answer", "sequential"}
    tests = summary["paired_tests"]
    assert set(tests) == {
        "task1_f1_before_minus_after",
        "task1_f1_tuned_before_minus_after",
        "task2_meteor_separate_minus_sequential",
    }
    f1, meteor = summary["task1_micro_f1"], summary["task2_meteor_gold_items"]
    before_after = tests["task1_f1_before_minus_after"]
    assert before_after["delta"] == pytest.approx(f1["relevance"] - f1["sequential"], abs=0.011)
    assert before_after["statistic"].endswith("micro_f1_empty_is_full")  # the subtask-2 pooling convention
    separate = tests["task2_meteor_separate_minus_sequential"]
    assert separate["delta"] == pytest.approx(meteor["answer"] - meteor["sequential"], abs=0.011)
    for test in tests.values():
        assert test["ci_low"] <= test["delta"] <= test["ci_high"] and 0 < test["p_value"] <= 1
        assert test["n_cases"] == summary["eval_questions"] and test["method"] == "paired-bootstrap"
    assert summary["meteor_signature"].startswith("meteor") and "syn:none" in summary["meteor_signature"]
    assert summary["tune_split"] == "dev" and summary["eval_split"] == "test"
    assert len(format_table(summary)) == 5 + 3 and "95% CI" in format_table(summary)[-1]
    json.dumps(summary)  # JSON-able as printed by the CLI


def test_sequential_adapter_continues_the_relevance_adapter(experiment: dict[str, Any]) -> None:
    summary = experiment["summary"]
    cards = {
        name: json.loads((Path(path) / "adapter_card.json").read_text()) for name, path in summary["adapters"].items()
    }
    assert cards["sequential"]["init_adapter"]["card_sha256"]
    assert not cards["answer"].get("init_adapter")


def test_rerun_skips_finished_training(experiment: dict[str, Any]) -> None:
    first = experiment["summary"]
    cards = [Path(p) / "adapter_card.json" for p in first["adapters"].values()]
    before = [c.stat().st_mtime_ns for c in cards]
    again = run_forgetting(experiment["options"])
    assert [c.stat().st_mtime_ns for c in cards] == before
    assert again["task1_ranking"] == first["task1_ranking"]


def test_cli_reuses_the_adapters_and_can_skip_tuning(experiment: dict[str, Any], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from archehr.fhir_cli import fhir_group

    options = experiment["options"]
    config = tmp_path / "tiny.yaml"
    config.write_text(json.dumps(dict(options.overrides)), encoding="utf-8")
    args = ["forgetting", "--data", options.data, "--out", options.out, "--config", str(config)]
    result = CliRunner().invoke(fhir_group, [*args, "--tune-split", "none", "--wordnet", "none"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["adapters"] == experiment["summary"]["adapters"] and summary["tune_split"] is None
    assert all("tuned_threshold" not in r for r in summary["task1_ranking"].values())
    assert "F1@tuned" in result.stderr and "sequential: task 1 then task 2" in result.stderr
