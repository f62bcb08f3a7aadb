"""Training the two adapters with the shared QLoRA stage runner (Trainer, label masking, cards, resume).

Task 1 ("relevance") learns to answer "yes"/"no" to (question, item) prompts on the gold labels; task 2
("answer") learns the reference answer from the question and the gold relevant items. Each task gets its own
adapter on the same 4-bit base model — training one adapter on task 1 and then on task 2 makes it forget
task 1 (``archehr fhir forgetting`` measures it) — written to ``OUT/<task>/stage<N>/adapter`` by
:func:`systems.lora.training.run_stage` (task 1 in stage slot 1, task 2 in slot 2), with its card and
resumable checkpoints.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.data import Case, CaseKey, Split, Subtask, inputs_for, load_dataset
from harness.systems import TrainOptions
from systems.classify_generate.config import ClassifyGenerateConfig, config_overrides, load_config
from systems.classify_generate.data import answer_examples, relevance_examples
from systems.classify_generate.prompts import classifier_messages, generator_messages
from systems.lora import basemodel
from systems.lora.basemodel import BaseModelRef, GeneratorSetupError, generator_cache, prepare_base_model
from systems.lora.prompts import ChatSample
from systems.lora.training import StageData, StageResult, run_stage

logger = logging.getLogger(__name__)

TASKS = ("relevance", "answer")
#: The generator stage whose section slot (and folder name) each task's training uses.
TASK_STAGE = {"relevance": "1", "answer": "2"}
STAGE_CHOICES: dict[str, tuple[str, ...]] = {"1": ("relevance",), "2": ("answer",), "all": TASKS}
CARD_KIND = "classify-generate-adapter"  # the ``kind`` of this system's adapter cards


def adapter_path(out: Path, task: str) -> Path:
    """Where :func:`train_task` writes ``task``'s adapter under ``out``."""
    return out / task / f"stage{TASK_STAGE[task]}" / "adapter"


def check_setup(config: ClassifyGenerateConfig) -> BaseModelRef:
    """The base model after checking it and the device (one error naming all that is missing)."""
    return basemodel.check_setup(config.model, f"classify-generate ({config.name})")


def default_out_dir(config: ClassifyGenerateConfig, data: str, split: str) -> Path:
    """``<cache>/qunlp-generator/classify-generate/<config name>-<hash of config, data, split>``."""
    where = data if data == "synthetic" else str(Path(data).expanduser().resolve())
    key = hashlib.sha256(f"{config.sha256()}|{where}|{split}".encode()).hexdigest()[:12]
    return generator_cache() / "classify-generate" / f"{config.name}-{key}"


# ----------------------------------------------------------------------------- samples


def relevance_samples(
    cases: Sequence[Case], keys: Mapping[str, CaseKey], config: ClassifyGenerateConfig
) -> list[ChatSample]:
    r = config.relevance
    examples = relevance_examples(
        cases,
        keys,
        mode=r.question,
        item_chars=r.item_chars,
        positive_labels=r.positive_labels,
        skip_labels=r.skip_labels,
        negatives_per_positive=r.negatives_per_positive,
        seed=config.seed,
    )
    return [
        ChatSample(f"{e.case_id}:{e.item.id}", tuple(classifier_messages(e.question, e.item)), e.label)
        for e in examples
    ]


def answer_samples(
    cases: Sequence[Case], keys: Mapping[str, CaseKey], config: ClassifyGenerateConfig
) -> list[ChatSample]:
    r = config.relevance
    examples = answer_examples(cases, keys, mode=r.question, item_chars=r.item_chars, positive_labels=r.positive_labels)
    cap = r.max_items if r.max_items > 0 else None
    return [ChatSample(e.case_id, tuple(generator_messages(e.question, e.items[:cap])), e.answer) for e in examples]


def training_split(split: Split) -> tuple[list[Case], Mapping[str, CaseKey]]:
    if not split.keys:
        raise GeneratorSetupError(f"classify-generate trains on gold labels, and split {split.name} has no key")
    return inputs_for(split, Subtask.EVIDENCE_IDENTIFICATION), split.keys


# ----------------------------------------------------------------------------- training


def train_task(
    task: str,
    config: ClassifyGenerateConfig,
    base: BaseModelRef,
    base_sha: str,
    split: Split,
    out: Path,
    *,
    init_adapter: Path | None = None,
    show_progress: bool = True,
) -> StageResult:
    """Train (or resume, or skip when complete) ``task``'s adapter under ``out``; ``init_adapter`` continues an
    existing adapter instead of starting a fresh one (the sequential fine-tuning experiment)."""
    cases, keys = training_split(split)
    builder = relevance_samples if task == "relevance" else answer_samples
    samples = builder(cases, keys, config)
    if not samples:
        raise GeneratorSetupError(f"{task}: no training sample in split {split.name}")
    source = {"task": task, "split": split.name, "data": split.source.folder, "cases": len(cases)}
    data = StageData(samples, source)
    logger.info("classify-generate %s: %d samples from %d cases", task, len(samples), len(cases))
    return run_stage(
        TASK_STAGE[task],
        config,
        base,
        base_sha,
        data,
        out / task,
        init_adapter,
        card_kind=CARD_KIND,
        show_progress=show_progress,
    )


def train(options: TrainOptions) -> dict[str, Any]:
    """``archehr train classify-generate [--stage 1|2|all]``; ``run_config`` feeds ``archehr run``."""
    if options.stage not in STAGE_CHOICES:
        raise GeneratorSetupError(
            f"classify-generate has stages 1 (relevance), 2 (answer) and all, not {options.stage!r}"
        )
    config = load_config(options.overrides, options.config)
    base = check_setup(config)
    split = load_dataset(options.data).split(options.split)
    out = Path(options.out).expanduser() if options.out else default_out_dir(config, options.data, options.split)
    started = time.perf_counter()
    base_sha = prepare_base_model(base)
    results = {
        task: train_task(task, config, base, base_sha, split, out, show_progress=options.show_progress)
        for task in STAGE_CHOICES[options.stage]
    }
    run_config: dict[str, Any] = dict(config_overrides(options.overrides))
    config_file = options.config or options.overrides.get("config")
    if config_file:
        run_config["config"] = str(Path(config_file).resolve())
    run_config["model_dir"] = str(out)
    return {
        "system": "classify-generate",
        "config": config.name,
        "out": str(out),
        "base_model": base.identity(base_sha),
        "tasks": {task: result.summary() for task, result in results.items()},
        "seconds": round(time.perf_counter() - started, 1),
        "run_config": run_config,
    }
