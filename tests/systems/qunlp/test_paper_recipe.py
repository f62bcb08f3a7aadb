"""The GPU paper recipes rehearsed on CPU: ``paper.yaml`` (the QU-NLP generator) and ``aligner-paper.yaml``.

Each file is loaded through its system's own config loader and only the keys in :data:`GENERATOR_REHEARSAL` /
:data:`ALIGNER_REHEARSAL` change (the model path, the device, the step counts); every other setting is
asserted equal to the file's, so a later change to a paper config is rehearsed automatically. Everything
else is the code a GPU user runs: 4-bit NF4 with double quantisation, bf16, LoRA r=16 on every linear
layer, gradient checkpointing, the paged 8-bit AdamW, sdpa attention, 160 new tokens. What differs on CPU is
in docs/generator.md ("Rehearsing the paper recipe on CPU").
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from transformers import TrainerCallback

from archehr.cli import cli
from harness.data import Subtask, inputs_for, load_dataset, write_split
from harness.errors import HarnessError
from harness.systems import TrainOptions, build_system, get_trainer
from harness.testing import make_tiny_qwen3
from systems.lora.cards import card_sha256
from systems.qunlp.aligner.config import resolve_config
from systems.qunlp.generator.config import CONFIG_DIR, load_config
from systems.qunlp.generator.resolve import preflight
from systems.qunlp.generator.training import train_stages

PAPER = CONFIG_DIR / "paper.yaml"
ALIGNER_PAPER = CONFIG_DIR / "aligner-paper.yaml"
STEPS = 2
#: The generator keys the rehearsal changes (the model path is filled in with the tiny model's folder).
GENERATOR_REHEARSAL: dict[str, Any] = {
    "model.path": None,
    "model.device": "cpu",
    "stage1.max_steps": STEPS,
    "stage2.max_steps": STEPS,
}
#: The aligner keys the rehearsal changes: the cross-encoder to fine-tune, the device, the epochs.
ALIGNER_REHEARSAL: dict[str, Any] = {"base_model": None, "device": "cpu", "train_epochs": 1}
#: Stage 1 reads the corpus named by ``stage1.data_env`` (paper.yaml leaves ``stage1.data`` null): the packaged
#: synthetic emrQA-MedSQuAD stand-in, given the way a user gives the real corpus.
STAGE1_CORPUS = "synthetic"
#: The linear projections of a Qwen3 layer (what ``target_modules: all-linear`` adapts).
PROJECTIONS = ("down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj")
ALIGNER_DEV_CASES = 8  # enough for the paper's 5 cross-fitting folds and 5 CV folds


def flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out |= flat(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def generator_overrides(model_dir: Path) -> dict[str, Any]:
    return {**GENERATOR_REHEARSAL, "model.path": str(model_dir)}


def aligner_overrides(model_dir: Path) -> dict[str, Any]:
    return {**ALIGNER_REHEARSAL, "base_model": str(model_dir)}


def make_tiny_cross_encoder(folder: Path) -> Path:
    """A 2-layer random BERT with the real tokenizer of the packaged all-MiniLM-L6-v2 (the paper's default base)."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from systems.qunlp.aligner.cross_encoder import packaged_base_model

    tokenizer = AutoTokenizer.from_pretrained(packaged_base_model())
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def rehearsal_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private cache, the stage-1 corpus variable, one torch thread under xdist."""
    root = tmp_path_factory.mktemp("paper-recipe")
    threads = torch.get_num_threads()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)  # two workers on two cores
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARCHEHR_CACHE", str(root / "cache"))
        patch.setenv(load_config({}, PAPER).stage1.data_env, STAGE1_CORPUS)
        yield root
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_qwen3(rehearsal_env: Path) -> Path:
    # intermediate 256: the MLP's LoRA matrices reach bitsandbytes' 4,096-element threshold for 8-bit state
    return make_tiny_qwen3(rehearsal_env / "tiny-qwen3", intermediate_size=256)


class RecipeProbe(TrainerCallback):
    """What the Trainer actually ran with: quantisation, checkpointing, precision, optimiser and its state."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {}

    def on_train_begin(self, args, state, control, model=None, **kwargs) -> None:
        import bitsandbytes as bnb

        linear4 = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
        lora = model.peft_config["default"]
        self.seen[Path(args.output_dir).parent.name] = {
            "linear4bit": len(linear4),
            "quant_types": sorted({m.weight.quant_state.quant_type for m in linear4}),
            "double_quant": all(m.weight.quant_state.nested for m in linear4),
            "compute_dtypes": sorted({str(m.compute_dtype) for m in linear4}),
            "gradient_checkpointing": bool(model.is_gradient_checkpointing),
            "attn_implementation": model.config._attn_implementation,
            "bf16": args.bf16,
            "mixed_precision": str(args.mixed_precision),
            "lora": [lora.r, lora.lora_alpha, lora.lora_dropout],
            "lora_modules": sorted({name.rsplit(".", 1)[-1] for name in lora.target_modules}),
            "trainer": [
                args.per_device_train_batch_size,
                args.gradient_accumulation_steps,
                str(getattr(args.optim, "value", args.optim)),
                args.max_grad_norm,
            ],
        }

    def on_train_end(self, args, state, control, model=None, optimizer=None, **kwargs) -> None:
        inner = getattr(optimizer, "optimizer", optimizer)  # accelerate wraps it
        trained = [p for p in model.parameters() if p.requires_grad]
        dtypes = [str(inner.state[p]["state1"].dtype) for p in trained if p in inner.state]
        self.seen[Path(args.output_dir).parent.name] |= {
            "optimizer": f"{type(inner).__module__}.{type(inner).__name__}",
            "optim_bits": inner.args.optim_bits,
            "is_paged": inner.is_paged,
            "state_dtypes": sorted(set(dtypes)),
            "params_with_state": len(dtypes),
            "trainable": len(trained),
        }


@dataclass(frozen=True)
class Rehearsed:
    overrides: dict[str, Any]
    out: Path
    probe: dict[str, dict[str, Any]]
    run_config: dict[str, Any]

    def card(self, stage: str) -> dict[str, Any]:
        return json.loads((self.out / f"stage{stage}" / "adapter" / "adapter_card.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rehearsed(rehearsal_env: Path, tiny_qwen3: Path) -> Rehearsed:
    """Both stages of paper.yaml, 2 optimiser steps each, on stage-1 corpus and the synthetic dev cases."""
    overrides = generator_overrides(tiny_qwen3)
    out = rehearsal_env / "generator"
    options = TrainOptions(config=str(PAPER), overrides=overrides, out=str(out), split="dev", show_progress=False)
    config, stages, base = preflight(options)  # what `archehr train qunlp` does, with a probe added
    probe = RecipeProbe()
    train_stages(
        config, stages, base, out, data=options.data, split=options.split, callbacks=[probe], show_progress=False
    )
    # the documented command (docs/generator.md) finds both stages trained with the same settings and skips them
    command = ["train", "qunlp", "--config", str(PAPER), "--out", str(out)]
    for key, value in overrides.items():
        command += ["--set", f"{key}={value}"]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert all(stage["skipped"] for stage in summary["stages"].values())
    return Rehearsed(overrides, out, probe.seen, summary["run_config"])


# ------------------------------------------------------------------ tests


def test_rehearsal_changes_only_model_path_device_and_step_counts(tmp_path: Path) -> None:
    paper = flat(load_config({}, PAPER).to_json())
    rehearsal = flat(load_config(generator_overrides(tmp_path), PAPER).to_json())
    assert rehearsal.keys() == paper.keys()
    assert {k for k in paper if rehearsal[k] != paper[k]} <= set(GENERATOR_REHEARSAL)
    assert rehearsal["model.path"] == str(tmp_path) and rehearsal["model.device"] == "cpu"

    aligner_paper = flat(resolve_config({"config": str(ALIGNER_PAPER)}).to_json())
    aligner = flat(resolve_config({"config": str(ALIGNER_PAPER), **aligner_overrides(tmp_path)}).to_json())
    assert aligner.keys() == aligner_paper.keys()
    assert {k for k in aligner_paper if aligner[k] != aligner_paper[k]} <= set(ALIGNER_REHEARSAL)
    assert aligner["base_model"] == str(tmp_path) and aligner["device"] == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="the paper configs run as they are where there is a GPU")
def test_paper_configs_as_shipped_fail_fast_in_one_line_without_a_gpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHEHR_CACHE", str(tmp_path / "cache"))
    with pytest.raises(HarnessError) as generator:
        get_trainer("qunlp")(TrainOptions(config=str(PAPER), out=str(tmp_path / "gen"), show_progress=False))
    assert "qunlp generator (paper)" in str(generator.value) and "needs a CUDA GPU" in str(generator.value)
    with pytest.raises(HarnessError) as aligner:
        get_trainer("qunlp-aligner")(TrainOptions(config=str(ALIGNER_PAPER), out=str(tmp_path / "aligner")))
    assert "device=cuda needs a CUDA GPU" in str(aligner.value) and "--set device=cpu" in str(aligner.value)
    assert "\n" not in str(generator.value) + str(aligner.value)
    assert not (tmp_path / "gen").exists() and not (tmp_path / "aligner").exists()  # nothing written


def test_paper_generator_recipe_trains_both_stages_and_generates_on_cpu(rehearsed: Rehearsed) -> None:
    """What the Trainer ran with is what paper.yaml says (expectations derived from the file, not restated); then
    an answer for a case from the stage-2 adapter. One test, so xdist never trains the fixture on two workers."""
    import bitsandbytes as bnb

    paper = load_config({}, PAPER)
    quant = paper.quantization
    for stage, samples in (("1", 681), ("2", 20)):
        section, seen = paper.stage(stage), rehearsed.probe[f"stage{stage}"]
        if quant.load_in_4bit:  # every projection of the tiny model's 2 layers, NF4 / double quant / compute dtype
            assert seen["linear4bit"] == 2 * len(PROJECTIONS)
            assert seen["quant_types"] == [quant.quant_type] and seen["double_quant"] == quant.double_quant
            assert seen["compute_dtypes"] == [f"torch.{quant.compute_dtype}"]
        else:
            assert seen["linear4bit"] == 0
        assert seen["gradient_checkpointing"] == section.gradient_checkpointing
        assert seen["attn_implementation"] == (paper.model.attn_implementation or "sdpa")
        # bf16 autocast on CPU as on the GPU (fp16 autocast exists on GPUs only)
        assert seen["bf16"] == (paper.model.dtype == "bfloat16")
        assert seen["lora"] == [paper.lora.r, paper.lora.alpha, paper.lora.dropout]
        if paper.lora.target_modules == "all-linear":
            assert seen["lora_modules"] == sorted(PROJECTIONS)
        assert seen["trainer"] == [section.batch_size, section.grad_accum, section.optim, section.max_grad_norm]
        if "8bit" in section.optim:  # bitsandbytes' optimiser; 8-bit state for the 4,096-element LoRA matrices
            assert seen["optimizer"].startswith("bitsandbytes.optim.") and seen["optim_bits"] == 8
            assert "torch.uint8" in seen["state_dtypes"]
            assert seen["is_paged"] == ("paged" in section.optim)  # set, though bitsandbytes cannot page on CPU
        assert seen["params_with_state"] == seen["trainable"] == 2 * len(PROJECTIONS) * 2  # lora_A and lora_B

        card = rehearsed.card(stage)
        assert card["config"] == load_config(rehearsed.overrides, PAPER).to_json()
        assert card["config_name"] == paper.name and card["data"]["samples"] == samples
        training = card["training"]
        assert training["global_step"] == STEPS
        logged = {1} | {s for s in range(1, STEPS + 1) if s % section.logging_steps == 0}
        assert [e["step"] for e in training["loss_history"]] == sorted(logged)
        assert training["weights_sha256"] != training["initial_weights_sha256"] and training["train_loss"] > 0
    assert rehearsed.card("1")["data"]["corpus"] == STAGE1_CORPUS
    assert rehearsed.card("2")["data"]["split"] == "dev"
    assert rehearsed.card("2")["init_adapter"]["weights_sha256"] == rehearsed.card("1")["training"]["weights_sha256"]

    system = build_system("qunlp", rehearsed.run_config)
    assert system.config == load_config(rehearsed.overrides, PAPER)
    case = inputs_for(load_dataset("synthetic").split("test"), Subtask.ANSWER_GENERATION)[0]
    (prediction,) = list(system.predict([case], Subtask.ANSWER_GENERATION))
    generation = paper.generation
    assert prediction.case_id == case.case_id and prediction.meta["raw"]
    assert prediction.prediction.strip() and len(prediction.prediction.split()) <= generation.max_words
    model = system.backend.model  # the 4-bit weights (unless generation.dequantize), the stage-2 adapter attached
    kept_4bit = quant.load_in_4bit and not generation.dequantize
    assert sum(isinstance(m, bnb.nn.Linear4bit) for m in model.modules()) == (2 * len(PROJECTIONS) if kept_4bit else 0)
    assert model.active_adapters == ["default"]
    assert system.card.components["adapter"]["card_sha256"] == card_sha256(rehearsed.out / "stage2" / "adapter")
    used = system.backend.generation_config
    assert (used.max_new_tokens, used.do_sample) == (generation.max_new_tokens, generation.do_sample)


def test_paper_aligner_recipe_trains_and_runs_on_cpu(rehearsal_env: Path) -> None:
    from safetensors.torch import load_file

    data = rehearsal_env / "aligner-data"
    synthetic = load_dataset("synthetic")
    write_split(synthetic.split("dev").select(synthetic.split("dev").case_ids()[:ALIGNER_DEV_CASES]), data / "dev")
    test = synthetic.split("test")
    write_split(test.select(test.case_ids()[:2]), data / "test")
    tiny = make_tiny_cross_encoder(rehearsal_env / "tiny-cross-encoder")
    overrides = aligner_overrides(tiny)
    out = rehearsal_env / "aligner"
    summary = get_trainer("qunlp-aligner")(
        TrainOptions(config=str(ALIGNER_PAPER), overrides=overrides, out=str(out), data=str(data), split="dev")
    )
    card = json.loads(Path(summary["card"]).read_text(encoding="utf-8"))
    rehearsal = resolve_config({"config": str(ALIGNER_PAPER), **overrides})
    assert card["config"] == rehearsal.to_json()
    paper = resolve_config({"config": str(ALIGNER_PAPER)})  # expectations derived from the file, not restated
    entry = card["cross_encoder"]
    assert entry["base_model"] == str(tiny)
    folds = paper.cross_fit_folds
    if folds >= 2:
        assert entry["tuning_scores"] == f"out-of-fold ({folds} folds)"
        assert [t["fold"] for t in entry["trainings"]] == [
            *range(folds),
            *([None] if paper.cross_fit_final == "refit" else []),
        ]
    for training in entry["trainings"]:
        batches = -(-training["pairs"] // paper.train_batch_size)
        assert training["steps"] == batches * rehearsal.train_epochs
    # the embeddings and the lowest freeze_layers layers stay frozen; every other layer is fine-tuned
    before = load_file(str(tiny / "model.safetensors"))
    after = load_file(str(out / "cross_encoder" / "model.safetensors"))
    frozen = [n for n in before if ".embeddings." in n or _layer(n) < paper.freeze_layers]
    assert all(t["frozen_parameters"] == sum(before[n].numel() for n in frozen) for t in entry["trainings"])
    for layer in range(2):
        name = f"bert.encoder.layer.{layer}.attention.self.query.weight"
        assert torch.equal(before[name], after[name]) == (layer < paper.freeze_layers), name
    assert set(card["subtasks"]) == {"4", "2"}

    test_split = load_dataset(str(data)).split("test")
    for name, subtask in (("qunlp-aligner", Subtask(4)), ("qunlp-evidence", Subtask(2))):
        system = build_system(name, summary["run_config"])
        assert system.scorer.model.max_length == paper.max_length
        assert system.scorer.quantized == paper.quantize  # int8 applies on CPU only; the rehearsal runs there
        predictions = list(system.predict(inputs_for(test_split, subtask), subtask))
        assert [p.case_id for p in predictions] == test_split.case_ids()
        assert all(isinstance(p.prediction, list) and "raw_scores" in p.meta for p in predictions)


def _layer(name: str) -> int:
    """The encoder layer index in a BERT parameter name (a large number outside the encoder layers)."""
    parts = name.split(".")
    return int(parts[parts.index("layer") + 1]) if "layer" in parts else 1 << 30


# ------------------------------------------------------------------ data parallel (slow)

REPO = Path(__file__).resolve().parents[3]
#: ``--multi_gpu`` selects accelerate's torchrun launcher; without it, on a machine with no GPU, ``accelerate
#: launch --num_processes 2`` starts ONE process. Each process finds no GPU and, with model.device=cpu, joins a
#: gloo process group (docs/generator.md).
LAUNCH = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1"]
LAUNCH += ["--mixed_precision", "no", "--dynamo_backend", "no"]  # the Trainer's arguments set bf16 themselves

#: Trains like `archehr train qunlp` (preflight + train_stages) with a callback that gathers every rank's
#: adapter weights hash: equal hashes mean the gradients were all-reduced (unsynchronised ranks would diverge).
SYNC_SCRIPT = """
import json, sys
from pathlib import Path
import torch.distributed as dist
from transformers import TrainerCallback
from harness.systems import TrainOptions
from systems.lora.modeling import adapter_weights_sha256
from systems.qunlp.generator.resolve import preflight
from systems.qunlp.generator.training import train_stages

class Gather(TrainerCallback):
    seen = {}
    def on_train_end(self, args, state, control, model=None, **kwargs):
        hashes = [None] * dist.get_world_size()
        dist.all_gather_object(hashes, adapter_weights_sha256(model))
        stage = Path(args.output_dir).parent.name
        self.seen[stage] = {"backend": dist.get_backend(), "world": dist.get_world_size(), "hashes": hashes}

config_file, out, overrides, result = sys.argv[1:]
options = TrainOptions(config=config_file, overrides=json.loads(overrides), out=out, show_progress=False)
config, stages, base = preflight(options)
train_stages(config, stages, base, Path(out), callbacks=[Gather()], show_progress=False)
if dist.get_rank() == 0:
    Path(result).write_text(json.dumps(Gather.seen), encoding="utf-8")
"""


def _console_script(path: Path) -> Path:
    """The ``archehr`` console script of this checkout (its setup.cfg entry point), written to ``path``.

    The installed script may belong to another checkout (an editable install elsewhere); this one runs the code
    under test, exactly as ``$(which archehr)`` does in an installed clone.
    """
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg", encoding="utf-8")
    lines = setup["options.entry_points"]["console_scripts"].strip().splitlines()
    scripts = {name.strip(): target.strip() for name, target in (line.split("=", 1) for line in lines)}
    module, function = scripts["archehr"].split(":")
    path.write_text(f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n", encoding="utf-8")
    return path


def _launch(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run([sys.executable, *LAUNCH, *arguments], capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_accelerate_launch_cli_trains_data_parallel_on_two_cpu_processes(rehearsal_env: Path, tiny_qwen3: Path) -> None:
    """The documented command (docs/generator.md) on 2 CPU processes: each rank trains on its half of the data."""
    archehr = _console_script(rehearsal_env / "archehr.py")
    out = rehearsal_env / "ddp-cli"
    command = [str(archehr), "train", "qunlp", "--config", str(PAPER), "--out", str(out)]
    for key, value in generator_overrides(tiny_qwen3).items():
        command += ["--set", f"{key}={value}"]
    done = _launch(command)
    decoder, text, summaries = json.JSONDecoder(), done.stdout.strip(), []
    while text:
        summary, end = decoder.raw_decode(text)
        summaries.append(summary)
        text = text[end:].strip()
    assert len(summaries) == 2  # one per process; only the main one writes adapters and cards
    main = [s for s in summaries if s["stages"]["2"]["card_sha256"]]
    assert len(main) == 1
    for stage, samples in (("1", 681), ("2", 20)):
        assert main[0]["stages"][stage]["steps"] == STEPS
        card = json.loads((out / f"stage{stage}" / "adapter" / "adapter_card.json").read_text(encoding="utf-8"))
        hyper = card["hyperparameters"]["stage"]
        # each optimiser step consumed both processes' batches: the sampler split the data over 2 ranks
        ranks = card["training"]["epochs"] * samples / (STEPS * hyper["batch_size"] * hyper["grad_accum"])
        assert 1.7 < ranks < 2.3, ranks
    stage1 = json.loads((out / "stage1" / "adapter" / "adapter_card.json").read_text(encoding="utf-8"))
    stage2 = json.loads((out / "stage2" / "adapter" / "adapter_card.json").read_text(encoding="utf-8"))
    assert stage2["init_adapter"]["weights_sha256"] == stage1["training"]["weights_sha256"]


@pytest.mark.slow
def test_accelerate_launch_keeps_both_ranks_in_sync_over_gloo(rehearsal_env: Path, tiny_qwen3: Path) -> None:
    script, result = rehearsal_env / "ddp_sync.py", rehearsal_env / "ddp-sync.json"
    script.write_text(SYNC_SCRIPT, encoding="utf-8")
    overrides = json.dumps(generator_overrides(tiny_qwen3))
    _launch([str(script), str(PAPER), str(rehearsal_env / "ddp-sync"), overrides, str(result)])
    seen = json.loads(result.read_text(encoding="utf-8"))
    assert set(seen) == {"stage1", "stage2"}
    for stage in seen.values():
        assert stage["backend"] == "gloo" and stage["world"] == 2
        assert len(set(stage["hashes"])) == 1, stage  # identical adapters on both ranks
    assert seen["stage1"]["hashes"] != seen["stage2"]["hashes"]
