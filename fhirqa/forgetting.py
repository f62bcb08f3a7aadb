"""The sequential fine-tuning experiment (arXiv 2501.13687, §"sequential fine-tuning") on the FHIR track.

On the ``train`` split, with the classify-generate training code:

1. ``relevance``: a fresh adapter trained on task 1 (yes/no relevance per resource);
2. ``sequential``: that adapter trained further on task 2 (answers), as one model learning both in turn;
3. ``answer``: a fresh adapter trained on task 2 only (the separate-adapters design).

On the evaluation split, task-1 scores (P/R/F1 over resource ids, :func:`fhirqa.scoring.score_fhir`) of the
untuned base model, of the task-1 adapter (before) and of the sequential adapter (after task 2), and task-2
METEOR of the answers each adapter writes from the gold relevant resources (so task 2 is measured apart from
task 1's errors). One base model carries all adapters (peft named adapters, switched per evaluation).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fhirqa.dataset import load_fhir_dataset, to_split
from fhirqa.model import FhirTask
from fhirqa.scoring import score_fhir
from harness.data import Split, Subtask, inputs_for

logger = logging.getLogger(__name__)

BASE = "base"  # the untuned base model (adapters disabled)


@dataclass(frozen=True)
class ForgettingOptions:
    data: str
    out: str
    train_split: str = "train"
    eval_split: str = "test"
    config: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    max_questions: int | None = None  # evaluate on the first N questions of the evaluation split
    wordnet: str = "auto"
    show_progress: bool = True


def run_forgetting(options: ForgettingOptions) -> dict[str, Any]:
    """Train the three adapters (resumable, skipped when complete) and evaluate; returns a JSON-able summary."""
    from systems.classify_generate.config import load_config
    from systems.classify_generate.training import train_task
    from systems.qunlp.generator.basemodel import prepare_base_model
    from systems.qunlp.generator.resolve import preflight_build

    started = time.perf_counter()
    config = load_config(options.overrides, options.config)
    base = preflight_build(config.generator_config())
    dataset = load_fhir_dataset(options.data)
    train = to_split(dataset, options.train_split)
    questions = [q.question_id for q in dataset.split(options.eval_split)][: options.max_questions]
    evaluation = to_split(dataset, options.eval_split, questions)
    out = Path(options.out)
    base_sha = prepare_base_model(base)

    def fit(task: str, folder: Path, init: Path | None = None) -> Path:
        result = train_task(
            task, config, base, base_sha, train, folder, init_adapter=init, show_progress=options.show_progress
        )
        return result.adapter_dir

    adapters = {"relevance": fit("relevance", out)}
    adapters["sequential"] = fit("answer", out / "sequential", adapters["relevance"])
    adapters["answer"] = fit("answer", out)
    trained_at = time.perf_counter()
    evaluator = _Evaluator(config, base.path, adapters, evaluation)
    task1 = {name: evaluator.relevance(name) for name in (BASE, "relevance", "sequential")}
    task2 = {name: evaluator.answers(name, options.wordnet) for name in (BASE, "answer", "sequential")}
    f1 = {name: r["scores"]["strict_micro_f1"] for name, r in task1.items()}
    return {
        "experiment": "sequential fine-tuning (task 1 then task 2) vs separate adapters",
        "config": config.name,
        "base_model": base.identity(base_sha),
        "train_split": options.train_split,
        "eval_split": options.eval_split,
        "eval_questions": len(questions),
        "adapters": {name: str(path) for name, path in adapters.items()},
        "task1_micro_f1": f1,
        "task1_forgetting": round(f1["relevance"] - f1["sequential"], 2),
        "task1": task1,
        "task2_meteor_gold_items": {name: r["scores"]["meteor"] for name, r in task2.items()},
        "task2": task2,
        "meteor_signature": next(iter(task2.values()))["signatures"]["meteor"],
        "seconds": {"training": round(trained_at - started, 1), "total": round(time.perf_counter() - started, 1)},
    }


class _Evaluator:
    """One base model carrying every adapter; evaluates one adapter at a time."""

    def __init__(self, config: Any, model_dir: Path, adapters: Mapping[str, Path], split: Split) -> None:
        from systems.classify_generate.data import view
        from systems.qunlp.generator.modeling import attach_adapter, load_base_model, load_tokenizer

        self.config = config
        self.split = split
        self.tokenizer = load_tokenizer(model_dir)
        gen = config.generator_config()
        names = list(adapters)
        model = attach_adapter(gen, load_base_model(gen, model_dir), adapters[names[0]], trainable=False)
        self.names = {names[0]: "default"}
        for name in names[1:]:
            model.load_adapter(str(adapters[name]), adapter_name=name)
            self.names[name] = name
        self.model = model.eval()
        self.cases = inputs_for(split, Subtask.EVIDENCE_IDENTIFICATION)
        self.views = [view(c, config.relevance.question, config.relevance.item_chars) for c in self.cases]

    def _adapter(self, name: str) -> Any:
        if name == BASE:
            return self.model.disable_adapter()
        self.model.set_adapter(self.names[name])
        return nullcontext()

    def relevance(self, name: str) -> dict[str, Any]:
        from systems.classify_generate.relevance import select, yes_probabilities
        from systems.classify_generate.system import relevance_prompts

        r = self.config.relevance
        groups = [relevance_prompts(self.tokenizer, v) for v in self.views]
        with self._adapter(name):
            scored = yes_probabilities(self.model, self.tokenizer, groups, batch_size=r.batch_size)
        entries = [
            {
                "case_id": v.case_id,
                "prediction": select(
                    [i.id for i in v.items], probs, threshold=r.threshold, min_items=r.min_items, max_items=r.max_items
                ),
            }
            for v, probs in zip(self.views, scored, strict=True)
        ]
        return _summary(score_fhir(entries, self.split, FhirTask.RELEVANCE))

    def answers(self, name: str, wordnet: str) -> dict[str, Any]:
        from systems.classify_generate.system import answer_prompt, postprocess
        from systems.qunlp.generator.generation import HFBackend

        keys = self.split.keys or {}
        prompts = [answer_prompt(self.tokenizer, v, keys[v.case_id].ids_with("essential")) for v in self.views]
        with self._adapter(name):
            raw = HFBackend(self.config.generator_config(), self.model, self.tokenizer).generate(prompts)
        entries = [
            {"case_id": v.case_id, "prediction": postprocess(text, self.config)[0]}
            for v, text in zip(self.views, raw, strict=True)
        ]
        report = _summary(score_fhir(entries, self.split, FhirTask.ANSWER, wordnet=wordnet))
        report["examples"] = [e["prediction"] for e in entries[:3]]
        return report


def _summary(report: Any) -> dict[str, Any]:
    return {
        "scores": {k: round(v, 2) for k, v in report.scores.items() if v is not None},
        "signatures": report.signatures,
    }


def format_table(summary: Mapping[str, Any]) -> Sequence[str]:
    """Plain-text rows of the summary's figures (for logs and docs)."""
    f1, meteor = summary["task1_micro_f1"], summary["task2_meteor_gold_items"]
    rows = [
        f"{'model':<34}{'task-1 micro-F1':>16}{'task-2 METEOR':>15}",
        f"{'untuned base':<34}{f1[BASE]:>16.2f}{meteor[BASE]:>15.2f}",
        f"{'separate: task-1 adapter':<34}{f1['relevance']:>16.2f}{'—':>15}",
        f"{'separate: task-2 adapter':<34}{'—':>16}{meteor['answer']:>15.2f}",
        f"{'sequential: task 1 then task 2':<34}{f1['sequential']:>16.2f}{meteor['sequential']:>15.2f}",
    ]
    return rows
