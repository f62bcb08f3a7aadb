"""The sequential fine-tuning experiment (arXiv 2501.13687, §"sequential fine-tuning") on the FHIR track.

On the ``train`` split, with the classify-generate training code:

1. ``relevance``: a fresh adapter trained on task 1 (yes/no relevance per resource);
2. ``sequential``: that adapter trained further on task 2 (answers), as one model learning both in turn;
3. ``answer``: a fresh adapter trained on task 2 only (the separate-adapters design).

On the evaluation split, task-1 scores of the untuned base model, of the task-1 adapter (before) and of the
sequential adapter (after task 2): P/R/F1 over resource ids (:func:`fhirqa.scoring.score_fhir`) at the
config's threshold and at a threshold tuned on the tuning split (``dev``; each model its own), and the
threshold-free average precision and ROC AUC of P(yes) over all (question, resource) pairs
(:mod:`metrics.ranking`) — so a model that ranks well but sits on the wrong side of a fixed threshold is
still seen. Task 2: METEOR of the answers each adapter writes from the gold relevant resources (task 2
measured apart from task 1's errors). The differences the experiment is about (task-1 F1 before - after,
task-2 METEOR separate - sequential) come with paired bootstrap confidence intervals over the questions.
One base model carries all adapters (peft named adapters, switched per evaluation).
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
    tune_split: str | None = "dev"  # where each model's threshold is tuned (None: config threshold only)
    config: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    max_questions: int | None = None  # evaluate on the first N questions of the evaluation split
    wordnet: str = "auto"
    show_progress: bool = True


def run_forgetting(options: ForgettingOptions) -> dict[str, Any]:
    """Train the three adapters (resumable, skipped when complete) and evaluate; returns a JSON-able summary."""
    from systems.classify_generate.config import load_config
    from systems.classify_generate.training import check_setup, train_task
    from systems.lora.basemodel import prepare_base_model

    started = time.perf_counter()
    config = load_config(options.overrides, options.config)
    base = check_setup(config)
    dataset = load_fhir_dataset(options.data)
    train = to_split(dataset, options.train_split)
    questions = [q.question_id for q in dataset.split(options.eval_split)][: options.max_questions]
    evaluation = to_split(dataset, options.eval_split, questions)
    tuning = to_split(dataset, options.tune_split) if options.tune_split else None
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
    evaluator = _Evaluator(config, base.path, adapters, evaluation, tuning, options.show_progress)
    task1 = {name: evaluator.relevance(name) for name in (BASE, "relevance", "sequential")}
    task2 = {name: evaluator.answers(name, options.wordnet) for name in (BASE, "answer", "sequential")}
    f1 = {name: r["scores"]["strict_micro_f1"] for name, r in task1.items()}
    ranking = {name: r["ranking"] for name, r in task1.items()}
    return {
        "experiment": "sequential fine-tuning (task 1 then task 2) vs separate adapters",
        "config": config.name,
        "base_model": base.identity(base_sha),
        "train_split": options.train_split,
        "eval_split": options.eval_split,
        "tune_split": options.tune_split,
        "eval_questions": len(questions),
        "adapters": {name: str(path) for name, path in adapters.items()},
        "task1_micro_f1": f1,
        "task1_forgetting": round(f1["relevance"] - f1["sequential"], 2),
        "task1_ranking": ranking,
        "task1_forgetting_average_precision": _difference(ranking, "average_precision"),
        "task1": task1,
        "task2_meteor_gold_items": {name: r["scores"]["meteor"] for name, r in task2.items()},
        "paired_tests": evaluator.paired_tests(),
        "task2": task2,
        "meteor_signature": next(iter(task2.values()))["signatures"]["meteor"],
        "seconds": {"training": round(trained_at - started, 1), "total": round(time.perf_counter() - started, 1)},
    }


def _difference(ranking: Mapping[str, Mapping[str, Any]], key: str) -> float | None:
    before, after = ranking["relevance"].get(key), ranking["sequential"].get(key)
    return None if before is None or after is None else round(before - after, 2)


class _Evaluator:
    """One base model carrying every adapter; evaluates one adapter at a time."""

    def __init__(
        self,
        config: Any,
        model_dir: Path,
        adapters: Mapping[str, Path],
        split: Split,
        tuning: Split | None,
        show_progress: bool = True,
    ) -> None:
        from systems.lora.modeling import attach_adapter, load_base_model, load_tokenizer

        self.config = config
        self.split = split
        self.tuning = tuning
        self.show_progress = show_progress
        self.reports: dict[tuple[str, str], Any] = {}  # (measure, model) → ScoreReport, for the paired tests
        self.tokenizer = load_tokenizer(model_dir)
        names = list(adapters)
        model = attach_adapter(config, load_base_model(config, model_dir), adapters[names[0]], trainable=False)
        self.names = {names[0]: "default"}
        for name in names[1:]:
            model.load_adapter(str(adapters[name]), adapter_name=name)
            self.names[name] = name
        self.model = model.eval()
        self.views = self._views(split)
        self.tuning_views = self._views(tuning) if tuning is not None else []

    def _views(self, split: Split) -> list[Any]:
        from systems.classify_generate.data import view

        r = self.config.relevance
        return [view(c, r.question, r.item_chars) for c in inputs_for(split, Subtask.EVIDENCE_IDENTIFICATION)]

    def _adapter(self, name: str) -> Any:
        if name == BASE:
            return self.model.disable_adapter()
        self.model.set_adapter(self.names[name])
        return nullcontext()

    def _probabilities(self, name: str, split: Split, views: Sequence[Any]) -> list[list[float]]:
        from tqdm import tqdm

        from systems.classify_generate.relevance import yes_probabilities
        from systems.classify_generate.system import relevance_prompts

        out: list[list[float]] = []
        with (
            self._adapter(name),
            tqdm(
                total=len(views),
                desc=f"task 1 · {name} · {split.name}",
                unit="question",
                disable=not self.show_progress,
            ) as bar,
        ):
            for view in views:  # one question at a time, for the progress bar (its prompts are one group anyway)
                groups = [relevance_prompts(self.tokenizer, view)]
                out += yes_probabilities(
                    self.model, self.tokenizer, groups, batch_size=self.config.relevance.batch_size
                )
                bar.update()
        return out

    def _score(self, probabilities: Sequence[Sequence[float]], threshold: float) -> Any:
        from systems.classify_generate.relevance import select

        r = self.config.relevance
        entries = [
            {
                "case_id": v.case_id,
                "prediction": select(
                    [i.id for i in v.items], probs, threshold=threshold, min_items=r.min_items, max_items=r.max_items
                ),
            }
            for v, probs in zip(self.views, probabilities, strict=True)
        ]
        return score_fhir(entries, self.split, FhirTask.RELEVANCE)

    def relevance(self, name: str) -> dict[str, Any]:
        """Task-1 scores of one model: at the config threshold, at its tuned threshold, and threshold-free."""
        from metrics.ranking import average_precision, best_threshold, roc_auc

        probabilities = self._probabilities(name, self.split, self.views)
        self.reports[("f1", name)] = scored = self._score(probabilities, self.config.relevance.threshold)
        report = _summary(scored)
        labels, scores = _pairs(self.split, self.views, probabilities)
        report["ranking"] = {
            "pairs": len(labels),
            "positives": sum(labels),
            "average_precision": _round(average_precision(labels, scores)),
            "roc_auc": _round(roc_auc(labels, scores)),
        }
        if self.tuning is not None:
            views = self.tuning_views
            choice = best_threshold(*_pairs(self.tuning, views, self._probabilities(name, self.tuning, views)))
            if choice is not None:
                self.reports[("f1_tuned", name)] = tuned_report = self._score(probabilities, choice.threshold)
                tuned = tuned_report.scores
                report["ranking"] |= {
                    "tuned_threshold": choice.threshold,
                    "tuning_f1": round(choice.f1, 2),
                    "micro_f1_at_tuned_threshold": round(tuned["strict_micro_f1"], 2),
                    "macro_f1_at_tuned_threshold": round(tuned["strict_macro_f1"], 2),
                }
        return report

    def paired_tests(self) -> dict[str, Any]:
        """Paired bootstrap tests of the differences the experiment is about (those whose reports exist)."""
        return {
            test: _paired_test(self.reports[(measure, a)], self.reports[(measure, b)], key)
            for test, measure, key, a, b in _PAIRED
            if (measure, a) in self.reports and (measure, b) in self.reports
        }

    def answers(self, name: str, wordnet: str) -> dict[str, Any]:
        from systems.classify_generate.system import answer_prompt, postprocess
        from systems.lora.generation import HFBackend

        keys = self.split.keys or {}
        prompts = [answer_prompt(self.tokenizer, v, keys[v.case_id].ids_with("essential")) for v in self.views]
        with self._adapter(name):
            raw = HFBackend(self.config, self.model, self.tokenizer).generate(prompts)
        entries = [
            {"case_id": v.case_id, "prediction": postprocess(text, self.config)[0]}
            for v, text in zip(self.views, raw, strict=True)
        ]
        self.reports[("meteor", name)] = scored = score_fhir(entries, self.split, FhirTask.ANSWER, wordnet=wordnet)
        report = _summary(scored)
        report["examples"] = [e["prediction"] for e in entries[:3]]
        return report


_PAIRED = (  # (name, measure, key, model A, model B): A - B over the evaluation questions
    ("task1_f1_before_minus_after", "f1", "strict_micro_f1", "relevance", "sequential"),
    ("task1_f1_tuned_before_minus_after", "f1_tuned", "strict_micro_f1", "relevance", "sequential"),
    ("task2_meteor_separate_minus_sequential", "meteor", "meteor", "answer", "sequential"),
)


def _paired_test(a: Any, b: Any, key: str) -> dict[str, Any]:
    """Paired bootstrap of A - B on ``key`` over the questions (:mod:`leaderboard.significance`)."""
    from leaderboard.significance import Leaf, paired_bootstrap, statistic_for

    questions = sorted(a.per_case[key])

    def rows(report: Any) -> list[Any]:
        return [report.per_case[key][q] for q in questions]

    statistic = statistic_for(a.aggregations[key], a.signatures[key])
    result = paired_bootstrap(Leaf.of(rows(a), rows(b), statistic, key)).to_json()
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}


def _pairs(
    split: Split, views: Sequence[Any], probabilities: Sequence[Sequence[float]]
) -> tuple[list[bool], list[float]]:
    """Gold label and P(yes) of every (question, resource) pair of ``split``."""
    keys = split.keys or {}
    labels: list[bool] = []
    scores: list[float] = []
    for v, probs in zip(views, probabilities, strict=True):
        gold = set(keys[v.case_id].ids_with("essential"))
        labels += [i.id in gold for i in v.items]
        scores += list(probs)
    return labels, scores


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _summary(report: Any) -> dict[str, Any]:
    return {
        "scores": {k: round(v, 2) for k, v in report.scores.items() if v is not None},
        "signatures": report.signatures,
    }


def format_table(summary: Mapping[str, Any]) -> Sequence[str]:
    """Plain-text rows of the summary's figures (for logs and docs)."""
    f1, meteor, ranking = summary["task1_micro_f1"], summary["task2_meteor_gold_items"], summary["task1_ranking"]

    def cell(value: Any, width: int) -> str:
        return f"{value:>{width}.2f}" if isinstance(value, int | float) else f"{'—':>{width}}"

    def task1(name: str) -> str:
        r = ranking[name]
        return (
            cell(f1[name], 10)
            + cell(r.get("micro_f1_at_tuned_threshold"), 10)
            + cell(r.get("average_precision"), 8)
            + cell(r.get("roc_auc"), 8)
        )

    blank = f"{'—':>10}{'—':>10}{'—':>8}{'—':>8}"
    return [
        f"{'model':<34}{'F1@thr':>10}{'F1@tuned':>10}{'AP':>8}{'AUC':>8}{'METEOR':>9}",
        f"{'untuned base':<34}{task1(BASE)}{cell(meteor[BASE], 9)}",
        f"{'separate: task-1 adapter':<34}{task1('relevance')}{'—':>9}",
        f"{'separate: task-2 adapter':<34}{blank}{cell(meteor['answer'], 9)}",
        f"{'sequential: task 1 then task 2':<34}{task1('sequential')}{cell(meteor['sequential'], 9)}",
        *(
            f"{name}: {t['delta']:+.2f} (95% CI {t['ci_low']:+.2f} to {t['ci_high']:+.2f}, p {t['p_value']:.3f})"
            for name, t in summary.get("paired_tests", {}).items()
        ),
    ]
