"""classify-generate: examples, selection, prefix-cached yes/no scoring, and the system end to end with a tiny
random Qwen3 (real tokenizer and chat template, 4-bit NF4) on ArchEHR-QA synthetic and on the FHIR track."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import systems.classify_generate  # noqa: F401  (registers the system until the entry point is installed)
from archehr.pipeline import run_system
from harness.data import Subtask, inputs_for, load_dataset
from harness.systems import TrainOptions, get_system_entry
from harness.testing import make_tiny_qwen3
from harness.testing import tiny_classify_generate_overrides as tiny_overrides
from systems.classify_generate.data import NO, YES, answer_examples, relevance_examples
from systems.classify_generate.relevance import select
from systems.lora.cards import read_card

FIXTURES = Path(__file__).resolve().parents[2] / "fhirqa" / "fixtures"
TEST_CASES = ["21", "22", "23"]


def test_registered_and_light_at_import() -> None:
    code = (
        "import sys, systems.classify_generate; from harness.systems import get_system_entry; "
        "e = get_system_entry('classify-generate'); print(e.subtasks, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(2, 3) False"
    assert get_system_entry("classify-generate").subtasks == (2, 3)


def test_training_examples_follow_the_labels() -> None:
    split = load_dataset("synthetic").split("dev")
    cases = inputs_for(split, Subtask.EVIDENCE_IDENTIFICATION)[:5]
    assert split.keys is not None
    args: dict[str, Any] = {"mode": "clinician", "item_chars": 0, "negatives_per_positive": 2, "seed": 3}
    examples = relevance_examples(cases, split.keys, **args)
    assert examples == relevance_examples(cases, split.keys, **args)  # seeded
    for case in cases:
        labels = split.keys[case.case_id].labels()
        mine = [e for e in examples if e.case_id == case.case_id]
        positives = {e.item.id for e in mine if e.label == YES}
        assert positives == {sid for sid, label in labels.items() if label == "essential"}
        negatives = [e.item.id for e in mine if e.label == NO]
        assert all(labels[i] == "not-relevant" for i in negatives)  # supplementary is left out
        assert len(negatives) == min(2 * len(positives), sum(1 for v in labels.values() if v == "not-relevant"))
        assert all(e.question == case.clinician_question for e in mine)
    answers = answer_examples(cases, split.keys, mode="clinician", item_chars=0)
    assert [a.case_id for a in answers] == [c.case_id for c in cases]
    assert {i.id for i in answers[0].items} == set(split.keys[cases[0].case_id].ids_with("essential"))


def test_selection_threshold_and_bounds() -> None:
    ids, probs = ["1", "2", "3", "4"], [0.2, 0.9, 0.6, 0.7]
    assert select(ids, probs, threshold=0.5, min_items=0, max_items=0) == ["2", "3", "4"]
    assert select(ids, probs, threshold=0.5, min_items=0, max_items=2) == ["2", "4"]  # the most probable, in order
    assert select(ids, probs, threshold=0.95, min_items=1, max_items=3) == ["2"]
    assert select(ids, probs, threshold=0.95, min_items=0, max_items=3) == []


# ----------------------------------------------------------------------------- with the tiny model


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("bitsandbytes")
    pytest.importorskip("peft")
    root = tmp_path_factory.mktemp("cg")
    overrides = tiny_overrides(make_tiny_qwen3(root / "tiny"))
    from systems.classify_generate.training import train

    summary = train(TrainOptions(None, overrides, "all", str(root / "adapters"), "synthetic", "dev", False))
    return {"root": root, "overrides": overrides, "summary": summary}


def test_prefix_cache_gives_the_full_prompt_probabilities(trained: dict[str, Any]) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from systems.classify_generate.data import Item
    from systems.classify_generate.prompts import classifier_messages
    from systems.classify_generate.relevance import yes_probabilities

    folder = trained["overrides"]["model"]["path"]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)

    def prompt(question: str, text: str) -> str:
        messages = classifier_messages(question, Item("x", text))
        return tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, enable_thinking=False
        )

    groups = [
        [prompt("What is my A1c?", f"Observation {'x ' * (i % 5)}{i}") for i in range(9)],
        [prompt("Asthma?", "C")],
    ]
    shared = yes_probabilities(model, tokenizer, groups, batch_size=4)
    alone = yes_probabilities(model, tokenizer, [[p] for g in groups for p in g], batch_size=4)
    assert [len(g) for g in shared] == [9, 1]
    assert [p for g in shared for p in g] == pytest.approx([g[0] for g in alone], abs=1e-5)


def test_archehr_end_to_end_subtasks_2_and_3(trained: dict[str, Any]) -> None:
    summary = trained["summary"]
    assert set(summary["tasks"]) == {"relevance", "answer"} and summary["tasks"]["relevance"]["steps"] == 2
    card = json.loads((Path(summary["tasks"]["relevance"]["adapter_dir"]) / "adapter_card.json").read_text())
    assert card["base_model"]["name"] == "tiny-qwen3" and card["hyperparameters"]["quantization"]["load_in_4bit"]
    assert card["kind"] == "classify-generate-adapter"
    with pytest.raises(ValueError, match="classify-generate-adapter adapter, not of a qunlp-generator-adapter"):
        read_card(Path(summary["tasks"]["relevance"]["adapter_dir"]), "qunlp-generator-adapter")  # the generator's kind
    split = load_dataset("synthetic").split("test")
    config = {**trained["overrides"], **summary["run_config"]}
    results = {}
    for number in (2, 3):
        subtask = Subtask(number)
        out = trained["root"] / f"run{number}"
        result = run_system(
            "classify-generate", split, inputs_for(split, subtask, TEST_CASES), subtask, out, config=config
        )
        results[number] = {e["case_id"]: e["prediction"] for e in json.loads(Path(result["submission"]).read_text())}
        assert sorted(results[number]) == TEST_CASES
    for case_id, ids in results[2].items():
        assert 1 <= len(ids) <= 2 and set(ids) <= set(split.case(case_id).sentence_ids())
    assert all(isinstance(text, str) and text.strip() for text in results[3].values())
    # a rerun reuses the run store (same fingerprint: base model hash and adapter cards)
    again = run_system(
        "classify-generate",
        split,
        inputs_for(split, Subtask(2), TEST_CASES),
        Subtask(2),
        trained["root"] / "run2",
        config=config,
    )
    assert again["reused"] == len(TEST_CASES)


def test_fhir_track_end_to_end_with_the_tiny_model(trained: dict[str, Any], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from archehr.fhir_cli import fhir_group

    bundles = tmp_path / "in"
    bundles.mkdir()
    shutil.copy(FIXTURES / "synthea_mini.json", bundles)
    runner = CliRunner()
    data = tmp_path / "data"
    built = runner.invoke(
        fhir_group, ["data", "build", "--out", str(data), "--bundles", str(bundles), "--questions-per-patient", "3"]
    )
    assert built.exit_code == 0, built.output
    split = next(name for name, n in json.loads(built.stdout)["splits"].items() if n["questions"])
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({**trained["overrides"], **trained["summary"]["run_config"]}), encoding="utf-8")
    for task in ("1", "2"):
        run = runner.invoke(
            fhir_group,
            [
                "run",
                "classify-generate",
                "--data",
                str(data),
                "--split",
                split,
                "--task",
                task,
                "--out",
                str(tmp_path / task),
                "--config",
                str(config),
            ],
        )
        assert run.exit_code == 0, run.output
        submission = json.loads(run.stdout)["submission"]
        scored = runner.invoke(
            fhir_group,
            ["score", submission, "--data", str(data), "--split", split, "--task", task, "--wordnet", "none"],
        )
        assert scored.exit_code == 0, scored.output
        report = json.loads(scored.stdout)
        assert report["year"] == "fhir" and 0 <= report["scores"]["overall_score"] <= 100
