"""The generator's two-stage QLoRA fine-tuning, each stage run by :func:`systems.lora.training.run_stage`.

Stage 1 learns extractive question answering on emrQA-MedSQuAD; stage 2 continues from the stage-1 adapter on
the annotated cases' clinician answers. Each stage writes ``OUT/stage<N>/adapter`` (adapter + ``adapter_card.json``)
and resumable checkpoints; rerunning the same command continues from the last checkpoint and skips complete stages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.data import Subtask, inputs_for, load_dataset
from harness.errors import Problem
from harness.systems import TrainOptions
from systems.lora.basemodel import BaseModelRef, GeneratorSetupError, prepare_base_model
from systems.lora.cards import read_card
from systems.lora.training import StageData, StageResult, run_stage
from systems.qunlp.generator.config import GeneratorConfig, config_overrides
from systems.qunlp.generator.emrqa import BadSpanError, read_stage1_corpus
from systems.qunlp.generator.prompts import case_sample, stage1_sample
from systems.qunlp.generator.resolve import CARD_KIND, default_out_dir, preflight, resolve_stage1_data

logger = logging.getLogger(__name__)

_SKIPPED_LISTED = 20  # bad answer spans listed in the adapter card (all are logged)


# ------------------------------------------------------------------ the registered trainer


def train(options: TrainOptions) -> dict[str, Any]:
    """``archehr train qunlp``: run stage 1, 2 or both; returns a JSON-able summary with ``run_config``."""
    started = time.perf_counter()
    config, stages, base = preflight(options)
    out = Path(options.out).expanduser() if options.out else default_out_dir(config, options.data, options.split)
    results = train_stages(
        config, stages, base, out, data=options.data, split=options.split, show_progress=options.show_progress
    )
    last = results[stages[-1]]
    config_file = options.config or (options.overrides or {}).get("config")
    run_config: dict[str, Any] = dict(config_overrides(options.overrides or {}))
    if config_file:
        run_config["config"] = str(Path(config_file).resolve())
    run_config["model_dir"] = str(last.adapter_dir)
    return {
        "system": "qunlp",
        "config": config.name,
        "out": str(out),
        "base_model": last.card.get("base_model"),
        "stages": {name: result.summary() for name, result in results.items()},
        "seconds": round(time.perf_counter() - started, 1),
        "run_config": run_config,
    }


def train_stages(
    config: GeneratorConfig,
    stages: Sequence[str],
    base: BaseModelRef,
    out: Path,
    *,
    data: str = "synthetic",
    split: str = "dev",
    show_progress: bool = True,
    callbacks: Sequence[Any] = (),
) -> dict[str, StageResult]:
    """Run ``stages`` in order into ``out``; stage 2 continues from ``stage2.init_adapter`` or OUT/stage1/adapter."""
    init = Path(config.stage2.init_adapter) if config.stage2.init_adapter else out / "stage1" / "adapter"
    if "2" in stages and "1" not in stages and read_card(init, CARD_KIND) is None:
        raise GeneratorSetupError(
            f"stage 2 continues from the stage-1 adapter, and {init} holds none: run --stage 1 first "
            "(or --stage all), or --set stage2.init_adapter=DIR"
        )
    base_sha = prepare_base_model(base)
    results: dict[str, StageResult] = {}
    for stage in stages:
        if stage == "1":
            stage_data = stage1_data(config, resolve_stage1_data(config))
        else:
            stage_data = stage2_data(config, data, split)
        results[stage] = run_stage(
            stage,
            config,
            base,
            base_sha,
            stage_data,
            out,
            init if stage == "2" else None,
            card_kind=CARD_KIND,
            show_progress=show_progress,
            callbacks=callbacks,
        )
    return results


# ------------------------------------------------------------------ data


def stage1_data(config: GeneratorConfig, path: str) -> StageData:
    try:
        corpus = read_stage1_corpus(path, config.stage1.limit, bad_spans=config.stage1.bad_spans)
    except BadSpanError as exc:
        hint = "--set stage1.bad_spans=skip leaves such questions out (each one logged and counted in the card)"
        raise BadSpanError([*exc.problems, Problem(hint)]) from None
    examples = corpus.examples
    if not examples:
        raise GeneratorSetupError(f"stage 1 corpus {path} holds no examples")
    samples = [stage1_sample(e, config.prompt) for e in examples]
    unanswerable = sum(1 for e in examples if not e.answerable)
    source = {"corpus": path, "limit": config.stage1.limit, "unanswerable": unanswerable}
    if corpus.skipped:
        source["skipped_bad_spans"] = {
            "count": len(corpus.skipped),
            "first": [p.to_json() for p in corpus.skipped[:_SKIPPED_LISTED]],
        }
    return StageData(samples, source)


def stage2_data(config: GeneratorConfig, data: str, split_name: str) -> StageData:
    split = load_dataset(data).split(split_name)
    if not split.keys:
        raise GeneratorSetupError(f"stage 2 trains on clinician answers, and {data}/{split_name} has no key file")
    samples = []
    for case in inputs_for(split, Subtask.ANSWER_GENERATION):
        sample = case_sample(case, config.prompt, split.keys.get(case.case_id))
        if sample.answer is None:
            logger.warning("case %s has no clinician_answer_without_citations; not used in stage 2", case.case_id)
            continue
        samples.append(sample)
    if not samples:
        raise GeneratorSetupError(f"stage 2: no case in {data}/{split_name} has clinician_answer_without_citations")
    return StageData(samples, {"data": data, "split": split_name, "case_ids": [s.id for s in samples]})
