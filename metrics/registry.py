"""The metric registry: one :class:`MetricSpec` per metric family, the single description of a metric.

A spec says what a family outputs (keys, display names, higher-is-better, native scale), what kind it is
(lexical, neural, evidence), which assets the official variant needs and how to install it, and how to
build it (a factory, imported lazily so that listing, evidence scoring and lexical scoring never import
torch). The scoring suite (:mod:`metrics.suite`), ``archehr assets status``, task checks and the
leaderboard's columns all read it. Adding a metric is one :func:`register_metric` call (docs/architecture.md).

This module is light: it imports no metric implementation at import time.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from harness.errors import HarnessError
from harness.tasks import Task, all_tasks, prf_keys

if TYPE_CHECKING:
    from metrics.base import Metric
    from metrics.suite import ScoringOptions

#: ``judge``: an LLM judge, never in a task's ``families`` (so never in an official score); added on request.
MetricKind = Literal["lexical", "neural", "evidence", "judge"]

#: The install command of the model stack, for neural families that cannot be imported.
ML_INSTALL = "pip install -r requirements/ml.txt"


class UnknownMetricError(HarnessError):
    pass


@dataclass(frozen=True)
class OutputSpec:
    """One output key of a family, as reports and the leaderboard show it."""

    key: str
    display: str
    higher_is_better: bool = True
    #: Native range of the value in reports (percent for every ArchEHR-QA metric).
    scale: tuple[float, float] = (0.0, 100.0)
    description: str = ""


@dataclass(frozen=True)
class Built:
    """What a factory returns: the metric object and whether its numbers are the official ones."""

    metric: Metric
    comparable: bool = True


@dataclass(frozen=True)
class MetricSpec:
    """One metric family (see the module docstring)."""

    name: str
    kind: MetricKind
    outputs: tuple[OutputSpec, ...]
    description: str
    #: Builds the metric from the scoring options (``None`` for evidence families, scored by rule).
    factory: Callable[[ScoringOptions], Built] | None = None
    #: Names in :mod:`harness.assets` the official variant needs.
    assets: tuple[str, ...] = ()
    #: How to install the code it needs, when that is an optional extra.
    install: str | None = None
    #: What the official variant needs, in words, and the CLI option that points at it (for messages).
    needs: str | None = None
    asset_option: str | None = None
    #: Evidence families: the rule of :mod:`metrics.evidence` that scores them.
    evidence_rule: str | None = None
    #: Judge families: the tasks it may be added to on request (``archehr score --judge``).
    judge_tasks: tuple[str, ...] = ()

    @property
    def output_keys(self) -> tuple[str, ...]:
        return tuple(o.key for o in self.outputs)

    @property
    def skipped_fix(self) -> str:
        """What to do when ``--lexical-only`` skipped this family."""
        needs = self.needs or ", ".join(self.assets) or "its model"
        option = f": {self.asset_option}" if self.asset_option else ""
        return f"drop --lexical-only (needs {needs}{option})"


_REGISTRY: dict[str, MetricSpec] = {}


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add a family; its output keys must not collide with another family's with a different meaning."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] != spec:
        raise ValueError(f"metric family {spec.name!r} is registered twice")
    for output in spec.outputs:
        other = _OUTPUTS.get(output.key)
        if other is not None and other != output:
            raise ValueError(f"output key {output.key!r} of {spec.name!r} is already defined differently")
    _REGISTRY[spec.name] = spec
    for output in spec.outputs:
        _OUTPUTS[output.key] = output
    return spec


_OUTPUTS: dict[str, OutputSpec] = {}


def get_metric_spec(name: str) -> MetricSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(_REGISTRY)}"
        raise UnknownMetricError(f"no metric family {name!r}; {hint}") from None


def metric_specs() -> Iterator[MetricSpec]:
    return iter(_REGISTRY.values())


def output_spec(key: str) -> OutputSpec | None:
    """The registered description of an output key (``None`` for keys no family outputs, e.g. combined)."""
    return _OUTPUTS.get(key)


def family_outputs(task: Task, family: str) -> tuple[str, ...]:
    """The keys ``family`` contributes to ``task``'s report, in the task's order."""
    produced = set(get_metric_spec(family).output_keys)
    return tuple(k for k in task.base_keys if k in produced)


def check_task(task: Task) -> None:
    """Every base output key of ``task`` comes from exactly one of its families; every family is known."""
    owners: dict[str, list[str]] = {}
    for family in task.families:
        for key in get_metric_spec(family).output_keys:
            if key in task.base_keys:
                owners.setdefault(key, []).append(family)
    problems = [f"{k}: no family outputs it" for k in task.base_keys if k not in owners]
    problems += [f"{k}: output by {', '.join(v)}" for k, v in owners.items() if len(v) > 1]
    problems += [
        f"{f}: a judge family never enters an official score" for f in task.families if _REGISTRY[f].kind == "judge"
    ]
    problems += [
        f"combined {c.key}: unknown component {p}"
        for i, c in enumerate(task.combined)
        for p in c.components
        if p not in task.base_keys and p not in task.combined_keys[:i]
    ]
    if problems:
        raise ValueError(f"task {task.id} does not fit the metric registry: {'; '.join(problems)}")


# ---------------------------------------------------------------------- factories (lazy imports)


def _bleu(options: ScoringOptions) -> Built:
    from metrics.lexical import BleuMetric

    return Built(BleuMetric())


def _rouge(options: ScoringOptions) -> Built:
    from metrics.lexical import RougeMetric

    return Built(RougeMetric())


def _sari(options: ScoringOptions) -> Built:
    from metrics.sari import SariMetric

    return Built(SariMetric())


def _bertscore(options: ScoringOptions) -> Built:
    from metrics.bertscore import BertScoreMetric

    if options.bertscore_standin:
        return Built(BertScoreMetric(None, stand_in=True), comparable=False)
    return Built(BertScoreMetric(options.bertscore_model))


def _alignscore(options: ScoringOptions) -> Built:
    from metrics.alignscore import AlignScoreMetric

    return Built(
        AlignScoreMetric(
            options.alignscore_ckpt,
            options.alignscore_base_model,
            trust_checkpoint=options.trust_checkpoint,
            truncation=options.alignscore_truncation,
        )
    )


def _medcon(options: ScoringOptions) -> Built:
    from metrics.medcon import MedconHpoMetric, MedconMetric

    if options.medcon_hpo:
        return Built(MedconHpoMetric(), comparable=False)
    return Built(MedconMetric(options.medcon_index))


def _meteor(options: ScoringOptions) -> Built:
    from metrics.meteor import MeteorMetric

    return Built(MeteorMetric(options.meteor_wordnet))


# ---------------------------------------------------------------------- the built-in families


def _prf_outputs(*prefixes: str) -> tuple[OutputSpec, ...]:
    out = []
    for key in prf_keys(*prefixes):
        prefix, _, measure = key.rpartition("_")
        words = [w.capitalize() if w in ("strict", "lenient") else w for w in prefix.split("_")]
        name = {"precision": "P", "recall": "R", "f1": "F1"}[measure]
        out.append(OutputSpec(key, f"{' '.join(words)} {name}"))
    return tuple(out)


_SENTENCE_PREFIXES = ("strict_micro", "strict_macro", "lenient_micro", "lenient_macro")

register_metric(
    MetricSpec("bleu", "lexical", (OutputSpec("bleu", "BLEU"),), "sacreBLEU, 13a tokens, per case", factory=_bleu)
)
register_metric(
    MetricSpec(
        "rouge",
        "lexical",
        tuple(
            OutputSpec(k, d)
            for k, d in (
                ("rouge1", "ROUGE-1"),
                ("rouge2", "ROUGE-2"),
                ("rougeL", "ROUGE-L"),
                ("rougeLsum", "ROUGE-Lsum"),
            )
        ),
        "ROUGE F-measures (rouge_score rules, no stemming)",
        factory=_rouge,
    )
)
register_metric(MetricSpec("sari", "lexical", (OutputSpec("sari", "SARI"),), "SARI against the source", factory=_sari))
register_metric(
    MetricSpec(
        "bertscore",
        "neural",
        (OutputSpec("bertscore", "BERTScore"),),
        "BERTScore F1, distilbert-base-uncased layer 4, baseline rescaling",
        factory=_bertscore,
        assets=("distilbert-base-uncased",),
        install=ML_INSTALL,
        needs="distilbert-base-uncased",
        asset_option="--bertscore-model DIR",
    )
)
register_metric(
    MetricSpec(
        "alignscore",
        "neural",
        (OutputSpec("alignscore", "AlignScore"),),
        "AlignScore-base, nli_sp",
        factory=_alignscore,
        assets=("alignscore-base", "roberta-base"),
        install=ML_INSTALL,
        needs="AlignScore-base.ckpt and roberta-base",
        asset_option="--alignscore-ckpt PATH",
    )
)
register_metric(
    MetricSpec(
        "medcon",
        "neural",
        (OutputSpec("medcon", "MEDCON"),),
        "MEDCON: F1 of UMLS concepts (QuickUMLS)",
        factory=_medcon,
        assets=("quickumls-index",),
        install="pip install -r requirements/medcon.txt",
        needs="a QuickUMLS index over UMLS",
        asset_option="--medcon-index DIR",
    )
)
register_metric(
    MetricSpec(
        "meteor",
        "lexical",
        (OutputSpec("meteor", "METEOR"),),
        "METEOR (nltk), WordNet synonyms when found",
        factory=_meteor,
    )
)
register_metric(
    MetricSpec(
        "evidence",
        "evidence",
        _prf_outputs(*_SENTENCE_PREFIXES),
        "precision / recall / F1 of cited sentence ids, strict (essential) and lenient",
        evidence_rule="2026-subtask2",
    )
)
register_metric(
    MetricSpec(
        "alignment",
        "evidence",
        _prf_outputs("micro", "macro"),
        "precision / recall / F1 of (answer sentence, evidence sentence) links",
        evidence_rule="2026-subtask4",
    )
)
register_metric(
    MetricSpec(
        "citations-2025",
        "evidence",
        _prf_outputs(*_SENTENCE_PREFIXES),
        "precision / recall / F1 of the 2025 answer's citations (strict: essential; lenient: + supplementary)",
        evidence_rule="2025",
    )
)


def _judge_outputs() -> tuple[OutputSpec, ...]:
    """The judge's keys, from the default rubric file (the one definition of its criteria)."""
    from pathlib import Path

    import yaml

    rubric = yaml.safe_load((Path(__file__).resolve().parent / "judge" / "rubric.yaml").read_text(encoding="utf-8"))
    outputs = [
        OutputSpec(f"judge_{c['key']}", f"{c['name']} (LLM judge, not official)", description=c["question"])
        for c in rubric["criteria"]
    ]
    outputs.append(OutputSpec("judge_mean", "Judge mean (LLM judge, not official)", description="mean of the criteria"))
    return tuple(outputs)


register_metric(
    MetricSpec(
        "llm-judge",
        "judge",
        _judge_outputs(),
        "LLM judge on a rubric (metrics/judge/rubric.yaml), percent of its scale; not official (docs/llm_judge.md)",
        needs="an OpenAI-compatible judge server",
        asset_option="--judge CONFIG.yaml",
        judge_tasks=("2026/3", "2025", "fhir/2"),
    )
)


for _task in all_tasks():
    check_task(_task)
