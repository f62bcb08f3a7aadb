"""One QLoRA training stage with the standard stack: transformers ``Trainer``, peft LoRA, bitsandbytes NF4.

:func:`run_stage` trains one adapter on chat samples (labels on the answer tokens only), writes
``OUT/stage<N>/adapter`` (adapter + a card of the system's ``kind``) and resumable Trainer checkpoints in
``OUT/stage<N>/checkpoints``: rerunning continues from the last checkpoint, and skips a stage whose adapter is
complete. Under ``accelerate launch`` each process trains on its own GPU (data parallel); only the main process
writes adapters and cards.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import get_last_checkpoint

from systems.lora.basemodel import BaseModelRef, GeneratorSetupError
from systems.lora.cards import card_sha256, library_versions, read_card, write_card
from systems.lora.config import QLoRAConfig, StageSection
from systems.lora.modeling import adapter_weights_sha256, attach_adapter, load_base_model, load_tokenizer
from systems.lora.prompts import IGNORE_INDEX, ChatSample, EncodedSample, encode_samples, samples_sha256

logger = logging.getLogger(__name__)

RUN_FILE = "run.json"
#: Settings that do not change what a stage learns (or whose effect the data hash covers): left out of
#: ``training_sha256`` (which resuming and skipping compare), so e.g. saving more often or moving the corpus
#: does not invalidate checkpoints. Still in the card.
_RUNTIME_MODEL_KEYS = frozenset({"path", "asset", "device", "num_threads"})
_BOOKKEEPING_STAGE_KEYS = frozenset(
    {"data", "data_env", "init_adapter", "logging_steps", "save_steps", "save_total_limit", "bad_spans"}
)


@dataclass
class StageData:
    """A stage's training samples and where they came from."""

    samples: list[ChatSample]
    source: dict[str, Any]


@dataclass
class StageResult:
    stage: str
    adapter_dir: Path
    card: dict[str, Any]
    card_sha256: str
    skipped: bool
    seconds: float
    model: Any = field(default=None, repr=False)  # the trained PeftModel, when trained in this call

    def summary(self) -> dict[str, Any]:
        training = self.card.get("training", {})
        return {
            "adapter_dir": str(self.adapter_dir),
            "card_sha256": self.card_sha256,
            "skipped": self.skipped,
            "samples": self.card.get("data", {}).get("samples"),
            "steps": training.get("global_step"),
            "train_loss": training.get("train_loss"),
            "resumed_from": training.get("resumed_from"),
            "seconds": round(self.seconds, 1),
        }


# ------------------------------------------------------------------ one stage


def run_stage(
    stage: str,
    config: QLoRAConfig,
    base: BaseModelRef,
    base_sha: str,
    data: StageData,
    out: Path,
    init_adapter: Path | None = None,
    *,
    card_kind: str,
    show_progress: bool = True,
    callbacks: Sequence[Any] = (),
) -> StageResult:
    """Train one stage (resuming from its last checkpoint), save the adapter and its ``card_kind`` card; skip if
    complete. ``init_adapter`` (continued instead of a fresh adapter) must carry a card of the same kind."""
    started = time.perf_counter()
    section = config.stage(stage)
    stage_dir = out / f"stage{stage}"
    adapter_dir, checkpoints = stage_dir / "adapter", stage_dir / "checkpoints"
    data_sha = samples_sha256(data.samples)
    init_card = read_card(init_adapter, card_kind) if init_adapter is not None else None
    init_info = None
    if init_adapter is not None and init_card is not None:
        init_info = {
            "card_sha256": card_sha256(init_adapter),
            "stage": init_card.get("stage"),
            "weights_sha256": init_card.get("training", {}).get("weights_sha256"),
        }
    hyper = {
        "seed": config.seed,
        "model": {k: v for k, v in asdict(config.model).items() if k not in _RUNTIME_MODEL_KEYS},
        "quantization": asdict(config.quantization),
        "lora": asdict(config.lora),
        **config.training_identity(),
        "stage": asdict(section),
    }
    identity = {
        **{k: v for k, v in hyper.items() if k != "stage"},
        "stage": {k: v for k, v in hyper["stage"].items() if k not in _BOOKKEEPING_STAGE_KEYS},
        "stage_number": stage,
        "base_sha256": base_sha,
        "data_sha256": data_sha,
        "init": init_info,
    }
    training_sha = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    existing = read_card(adapter_dir, card_kind)
    if existing is not None:
        if existing.get("training_sha256") != training_sha:
            raise GeneratorSetupError(
                f"{adapter_dir} holds a stage-{stage} adapter trained with other settings or data; "
                "choose another --out or delete that folder"
            )
        logger.info("stage %s: adapter already trained in %s; skipping", stage, adapter_dir)
        return StageResult(stage, adapter_dir, existing, card_sha256(adapter_dir), True, time.perf_counter() - started)
    _claim_checkpoints(checkpoints, training_sha)

    tokenizer = load_tokenizer(base.path)
    encoded, dropped = encode_samples(tokenizer, data.samples, section.max_seq_len)
    if not encoded:
        raise GeneratorSetupError(f"stage {stage}: every sample is longer than max_seq_len={section.max_seq_len}")
    model = load_base_model(config, base.path, training=section)
    model = attach_adapter(config, model, init_adapter, trainable=True)
    initial_weights = adapter_weights_sha256(model)
    dataset, collator = training_inputs(tokenizer, encoded)
    trainer = Trainer(
        model=model,
        args=training_arguments(config, section, checkpoints),
        train_dataset=dataset,
        data_collator=collator,
        compute_loss_func=answer_loss,
        callbacks=list(callbacks),
    )
    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)  # both write logs to stdout, which carries the CLI's JSON
    trainer.add_callback(StderrProgress(f"{card_kind.removesuffix('-adapter')} stage {stage}", show_progress))
    resume = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    if resume:
        logger.info("stage %s: resuming from %s", stage, resume)
    result = trainer.train(resume_from_checkpoint=resume)
    card: dict[str, Any] = {}
    if trainer.is_world_process_zero():
        trainer.save_model(str(adapter_dir))
        losses = [{"step": e["step"], "loss": e["loss"]} for e in trainer.state.log_history if "loss" in e]
        card = {
            "stage": stage,
            "config_name": config.name,
            "base_model": base.identity(base_sha),
            "init_adapter": init_info,
            "data": {
                **data.source,
                "samples": len(encoded),
                "dropped_too_long": dropped,
                "sha256": data_sha,
                "tokens": sum(len(e.input_ids) for e in encoded),
            },
            "hyperparameters": hyper,
            "config": config.to_json(),  # what a build from this adapter loads by default
            "training": {
                "global_step": trainer.state.global_step,
                "epochs": trainer.state.epoch,
                "train_loss": result.training_loss,
                "runtime_seconds": result.metrics.get("train_runtime"),
                "resumed_from": Path(resume).name if resume else None,
                "loss_history": losses,
                "initial_weights_sha256": initial_weights,
                "weights_sha256": adapter_weights_sha256(model),
            },
            "training_sha256": training_sha,
            "libraries": library_versions(),
        }
        write_card(adapter_dir, card, card_kind)
        logger.info("stage %s: saved %s (loss %.4f)", stage, adapter_dir, result.training_loss)
        card_hash = card_sha256(adapter_dir)
    else:
        card_hash = ""
    trainer.accelerator.wait_for_everyone()  # under accelerate launch, stage 2 reads what the main process wrote
    return StageResult(stage, adapter_dir, card, card_hash, False, time.perf_counter() - started, model)


def training_inputs(tokenizer: Any, encoded: Sequence[EncodedSample]) -> tuple[_ListDataset, AnswerOnlyCollator]:
    """The Trainer's dataset and collator (right padding; labels -100 on prompt and padding)."""
    return _ListDataset([e.as_features() for e in encoded]), AnswerOnlyCollator(tokenizer)


class AnswerOnlyCollator:
    """Pads like ``DataCollatorForSeq2Seq`` (labels with -100) and adds ``logits_to_keep``: the positions whose
    next token is an answer token, so the output head runs on the answers only (prompts are most of each sample;
    the head is a large share of the compute and, for Qwen3's 152k vocabulary, of the memory)."""

    def __init__(self, tokenizer: Any) -> None:
        tokenizer.padding_side = "right"  # the collator pads by the attribute; generation passes its side per call
        self.pad = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=IGNORE_INDEX)

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, Any]:
        batch = self.pad(features)
        batch["logits_to_keep"] = answer_positions(batch["labels"])
        return batch


def answer_positions(labels: torch.Tensor) -> torch.Tensor:
    """Positions ``p`` (one range for the batch) whose logits predict a labelled token ``p + 1``."""
    targets = (labels[:, 1:] != IGNORE_INDEX).any(dim=0).nonzero().flatten()
    if targets.numel() == 0:
        return torch.arange(0, 1, device=labels.device)
    return torch.arange(int(targets.min()), int(targets.max()) + 1, device=labels.device)


def answer_loss(outputs: Any, labels: torch.Tensor, num_items_in_batch: Any = None) -> torch.Tensor:
    """Cross-entropy of the kept logits against the next tokens: the model's causal LM loss, on fewer positions.

    A sum divided by ``num_items_in_batch`` (the labelled tokens of the whole accumulated batch) when the Trainer
    gives it, else the mean over this batch's labelled tokens.
    """
    logits = outputs.logits
    keep = answer_positions(labels)
    targets = labels[:, keep + 1].to(logits.device)
    total = F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
    )
    count = num_items_in_batch if num_items_in_batch is not None else (targets != IGNORE_INDEX).sum().clamp(min=1)
    return total / count


def training_arguments(config: QLoRAConfig, section: StageSection, checkpoints: Path) -> TrainingArguments:
    on_cpu = config.model.device == "cpu"
    return TrainingArguments(
        output_dir=str(checkpoints),
        max_steps=section.max_steps,
        num_train_epochs=section.epochs,
        per_device_train_batch_size=section.batch_size,
        gradient_accumulation_steps=section.grad_accum,
        learning_rate=section.learning_rate,
        lr_scheduler_type=section.lr_scheduler,
        warmup_steps=section.warmup,
        weight_decay=section.weight_decay,
        max_grad_norm=section.max_grad_norm,
        optim=section.optim,
        logging_steps=section.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=section.save_steps,
        save_total_limit=section.save_total_limit,
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=on_cpu,
        # bf16 autocast runs on CPU as on a GPU (the paper recipe rehearsed on CPU takes the same path); accelerate
        # has no fp16 autocast on CPU, so float16 on CPU trains without mixed precision (docs/generator.md)
        bf16=config.model.dtype == "bfloat16",
        fp16=not on_cpu and config.model.dtype == "float16",
        ddp_find_unused_parameters=False,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        report_to="none",
        disable_tqdm=True,  # StderrProgress draws the bar
        # gradient checkpointing is enabled on the model itself (prepare_model_for_kbit_training), not here
    )


def _claim_checkpoints(checkpoints: Path, training_sha: str) -> None:
    """Refuse to resume checkpoints made with other settings; mark the folder as this run's."""
    run_file = checkpoints / RUN_FILE
    if run_file.is_file():
        recorded = json.loads(run_file.read_text(encoding="utf-8")).get("training_sha256")
        if recorded != training_sha:
            raise GeneratorSetupError(
                f"{checkpoints} holds checkpoints of a run with other settings or data; "
                "choose another --out or delete that folder"
            )
        return
    checkpoints.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps({"training_sha256": training_sha}) + "\n", encoding="utf-8")


class _ListDataset:
    """A map-style dataset over ready feature dicts (what Trainer's DataLoader needs)."""

    def __init__(self, rows: list[dict[str, list[int]]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return self.rows[index]


class StderrProgress(TrainerCallback):
    """A tqdm bar on stderr (when wanted) and the Trainer's log lines through logging, never on stdout."""

    def __init__(self, desc: str, show: bool) -> None:
        self.desc, self.show, self.bar = desc, show, None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.show and state.is_world_process_zero:
            from tqdm import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=self.desc, file=sys.stderr)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        if self.bar is not None and "loss" in logs:
            self.bar.set_postfix(loss=f"{logs['loss']:.4f}")
        logger.info("%s step %d: %s", self.desc, state.global_step, logs)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
