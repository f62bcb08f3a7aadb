"""Ablation: BM25 alone, TF-IDF alone, the cross-encoder alone and the ensemble on one annotated split.

Each row uses the parameters tuned for it on the training split (stored in the model's card), applied to
the same raw scores, so the rows differ only in the components they combine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data import Subtask, inputs_for, load_dataset
from harness.errors import HarnessError
from systems.qunlp.aligner.artifacts import ENSEMBLE, AlignerModel
from systems.qunlp.aligner.config import COMPONENTS, resolve_config
from systems.qunlp.aligner.cross_encoder import load_scorer
from systems.qunlp.aligner.ensemble import EnsembleParams, apply, build_table, link_sets
from systems.qunlp.aligner.evaluation import MicroScores, score_links
from systems.qunlp.aligner.queries import gold_links
from systems.qunlp.aligner.raw_scores import RawScores
from systems.qunlp.aligner.scoring import score_cases

ROWS = (*COMPONENTS, ENSEMBLE)


@dataclass(frozen=True)
class AblationRow:
    name: str
    scores: MicroScores
    params: EnsembleParams
    cv_f1: float | None = None  # cross-validated micro-F1 on the training split, from the card

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self.scores.to_json(),
            "dev_cv_micro_f1": self.cv_f1,
            "params": self.params.to_json(),
        }


def ablate(
    raw: RawScores,
    gold: Mapping[str, set[tuple[str, str]]],
    params: Mapping[str, EnsembleParams],
    *,
    scope: str = "case",
    cv_f1: Mapping[str, float] | None = None,
) -> list[AblationRow]:
    """Score each row's decisions on ``raw`` against ``gold`` (micro P/R/F1 over ``gold``'s cases)."""
    table = build_table(raw, scope=scope, case_ids=list(gold))
    rows = []
    for name, row_params in params.items():
        _, links = apply(table, row_params)
        scores = score_links(link_sets(links), gold, raw.subtask)
        rows.append(AblationRow(name, scores, row_params, (cv_f1 or {}).get(name)))
    return rows


def ablation_table(model_dir: str | Path, data: str, split_name: str, subtask: int = 4) -> dict[str, Any]:
    """Score a split with a trained model and return the ablation table (JSON-able)."""
    model = AlignerModel.load(model_dir)
    config = resolve_config({}, base=model.card["config"])
    split = load_dataset(data).split(split_name)
    if not split.keys:
        raise HarnessError(f"split {split_name!r} of {data} has no key: the ablation needs gold links")
    subtask = Subtask(subtask)
    cases = inputs_for(split, subtask)
    gold = gold_links(split.keys, [c.case_id for c in cases], subtask)
    raw = score_cases(cases, subtask, config, load_scorer(model.cross_encoder_dir(), config))
    rows = ablate(
        raw,
        gold,
        {name: model.params(subtask, name) for name in ROWS},
        scope=config.normalise_scope,
        cv_f1={name: model.tuned(subtask, name)["cv"]["micro_f1"] for name in ROWS},
    )
    return {
        "system": "qunlp-aligner" if subtask == Subtask.EVIDENCE_ALIGNMENT else "qunlp-evidence",
        "subtask": int(subtask),
        "data": data,
        "split": split_name,
        "cases": len(cases),
        "model_dir": str(model_dir),
        "cross_encoder_sha256": model.card["cross_encoder"]["sha256"],
        "tuning_scores": model.card["cross_encoder"]["tuning_scores"],
        "metric": "micro P/R/F1 over links, percent (2026 empty-set conventions)",
        "rows": [row.to_json() for row in rows],
    }


def format_table(table: Mapping[str, Any]) -> str:
    """A fixed-width text table of :func:`ablation_table`'s rows."""
    lines = [
        f"{table['system']} on {table['data']}/{table['split']} ({table['cases']} cases, subtask {table['subtask']})",
        f"{'component':<14}{'P':>8}{'R':>8}{'F1':>8}{'dev CV F1':>11}{'predicted':>11}{'gold':>6}",
    ]
    for row in table["rows"]:
        cv = "" if row["dev_cv_micro_f1"] is None else f"{row['dev_cv_micro_f1']:.2f}"
        lines.append(
            f"{row['name']:<14}{row['micro_precision']:>8.2f}{row['micro_recall']:>8.2f}{row['micro_f1']:>8.2f}"
            f"{cv:>11}{row['predicted']:>11}{row['gold']:>6}"
        )
    return "\n".join(lines)
