"""Training: fine-tune the cross-encoder on the annotated split, then tune both ensembles on it.

One training serves both systems (``qunlp-aligner`` and ``qunlp-evidence`` register the same trainer):
the cross-encoder learns from subtask-4 pairs (answer sentence, note sentence, cited?) and, unless
``subtask2.train`` is false, subtask-2 pairs (question + narrative, note sentence, essential?). Each
query contributes its positives and ``train_negatives_per_positive`` negatives per positive (at least
one), a ``hard_negative_share`` of them the lexically closest non-positives, the rest drawn at random.

The ensembles are tuned on the same split by grid search with leave-cases-out cross-validation. The
cross-encoder's scores there are out-of-fold when ``cross_fit_folds >= 2``: one fine-tune per fold on the
other folds' cases scores the held-out cases (honest). The systems then use one model: the element-wise
mean of the fold models' weights (``cross_fit_final: soup``, no extra training; the folds share the base
and the seeded head) or a refit on all cases (``refit``, one more fine-tune). With ``cross_fit_folds: 0``
one model is trained on all cases and scores them in-sample (cheap, but optimistic for the
cross-encoder's weight). The card says which.
"""

from __future__ import annotations

import logging
import random
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness import __version__
from harness.data import Case, Split, Subtask, inputs_for, load_dataset, sort_ids
from harness.errors import HarnessError
from harness.systems import TrainOptions
from systems.qunlp.aligner.artifacts import CROSS_ENCODER_DIR, ENSEMBLE, raw_scores_name, write_card
from systems.qunlp.aligner.config import COMPONENTS, AlignerConfig, resolve_config
from systems.qunlp.aligner.cross_encoder import (
    CrossEncoderScorer,
    average_models,
    base_model,
    fine_tune,
    load_scorer,
    require_device,
)
from systems.qunlp.aligner.ensemble import build_table
from systems.qunlp.aligner.queries import gold_links
from systems.qunlp.aligner.raw_scores import RawScores
from systems.qunlp.aligner.scoring import lexical_case, score_cases
from systems.qunlp.aligner.tuning import Grid, TuneResult, fold_assignment, one_hot, simplex_weights, tune

logger = logging.getLogger(__name__)

DEFAULT_OUT = "models/qunlp-aligner"
SUBTASKS = (Subtask.EVIDENCE_ALIGNMENT, Subtask.EVIDENCE_IDENTIFICATION)

Links = dict[str, set[tuple[str, str]]]
Pair = tuple[str, str]


def case_pairs(
    case: Case, subtask: Subtask, gold: set[tuple[str, str]], config: AlignerConfig
) -> list[tuple[Pair, float]]:
    """One case's labelled cross-encoder training pairs (see the module docstring)."""
    settings = config.settings(subtask)
    lex = lexical_case(case, subtask, config)
    rng = random.Random(f"{config.seed}-{int(subtask)}-{case.case_id}")
    out: list[tuple[Pair, float]] = []
    sentences = lex.queries.sentences
    for i, (qid, qtext) in enumerate(lex.queries.queries):
        positives = [j for j, (sid, _) in enumerate(sentences) if (qid, sid) in gold]
        closeness = sum(m[i] / m[i].max() if m[i].max() > 0 else m[i] for m in (lex.bm25, lex.tfidf))
        ranked = [int(j) for j in np.lexsort((np.arange(len(sentences)), -closeness)) if int(j) not in positives]
        wanted = min(len(ranked), settings.train_negatives_per_positive * max(1, len(positives)))
        hard = ranked[: round(config.hard_negative_share * wanted)]
        rest = ranked[len(hard) :]
        negatives = hard + rng.sample(rest, min(len(rest), wanted - len(hard)))
        out += [((qtext, sentences[j][1]), 1.0) for j in positives]
        out += [((qtext, sentences[j][1]), 0.0) for j in sorted(negatives)]
    return out


def training_pairs(
    cases: Mapping[Subtask, Sequence[Case]], gold: Mapping[Subtask, Links], config: AlignerConfig, case_ids: set[str]
) -> tuple[list[Pair], list[float]]:
    pairs: list[Pair] = []
    labels: list[float] = []
    for subtask in SUBTASKS:
        if not config.settings(subtask).train:
            continue
        for case in cases[subtask]:
            if case.case_id in case_ids:
                for pair, label in case_pairs(case, subtask, gold[subtask].get(case.case_id, set()), config):
                    pairs.append(pair)
                    labels.append(label)
    return pairs, labels


def grid_for(config: AlignerConfig, subtask: Subtask, weights: tuple[Mapping[str, float], ...]) -> Grid:
    return Grid(
        weights,
        config.bm25_fraction_grid,
        config.threshold_grid,
        config.settings(subtask).k_grid,
        config.min_links_grid,
    )


def tune_all(raw: RawScores, gold: Links, config: AlignerConfig, subtask: Subtask) -> dict[str, TuneResult]:
    """The ensemble and each component alone, tuned on ``raw`` with leave-cases-out CV."""
    table = build_table(raw, scope=config.normalise_scope)
    present = [c for c in COMPONENTS if c in raw.components]
    grids = {ENSEMBLE: simplex_weights(present, config.weight_step)} | {c: one_hot(c) for c in present}
    return {
        name: tune(
            table, gold, grid_for(config, subtask, w), subtask=int(subtask), folds=config.cv_folds, seed=config.seed
        )
        for name, w in grids.items()
    }


def _cross_fit(
    cases: Mapping[Subtask, Sequence[Case]],
    gold: Mapping[Subtask, Links],
    config: AlignerConfig,
    case_ids: list[str],
    folder: Path,
) -> tuple[dict[Subtask, RawScores], list[Path], list[dict[str, Any]]]:
    """Per fold, fine-tune on the other folds' cases into ``folder/fold<i>`` and score this fold's cases."""
    folds = fold_assignment(len(case_ids), config.cross_fit_folds, config.seed + 1)
    assignment = {case_id: int(fold) for case_id, fold in zip(case_ids, folds, strict=True)}
    raw = {s: RawScores(int(s)) for s in SUBTASKS}
    paths: list[Path] = []
    trainings: list[dict[str, Any]] = []
    for fold in sorted(set(assignment.values())):
        held = {c for c, f in assignment.items() if f == fold}
        pairs, labels = training_pairs(cases, gold, config, set(case_ids) - held)
        path = folder / f"fold{fold}"
        trainings.append({"fold": fold, "held_out": sort_ids(held)} | fine_tune(pairs, labels, config, path))
        scorer = load_scorer(path, config)
        for subtask in SUBTASKS:
            raw[subtask].merge(score_cases([c for c in cases[subtask] if c.case_id in held], subtask, config, scorer))
        paths.append(path)
    return raw, paths, trainings


def _annotated_split(options: TrainOptions) -> Split:
    split = load_dataset(options.data).split(options.split)
    if not split.keys:
        raise HarnessError(
            f"split {options.split!r} of {options.data} has no key: the aligner trains on annotated cases"
        )
    return split


def _cross_encoder(
    cases: Mapping[Subtask, Sequence[Case]],
    gold: Mapping[Subtask, Links],
    config: AlignerConfig,
    case_ids: list[str],
    out: Path,
    scratch: Path,
) -> tuple[dict[str, Any], dict[Subtask, RawScores], CrossEncoderScorer]:
    """The cross-encoder the systems will use, its card entry, and the tuning split's raw scores."""
    user = config.cross_encoder_dir()
    if user:
        path = Path(user).expanduser().resolve()
        scorer = load_scorer(path, config)
        raw = {s: score_cases(cases[s], s, config, scorer) for s in SUBTASKS}
        return {"path": str(path), "source": "user", "trainings": [], "tuning_scores": "user-named model"}, raw, scorer
    final = out / CROSS_ENCODER_DIR
    if final.exists():
        shutil.rmtree(final)
    entry: dict[str, Any] = {"path": CROSS_ENCODER_DIR, "source": "fine-tuned", "base_model": base_model(config)}
    if config.cross_fit_folds >= 2:
        raw, paths, trainings = _cross_fit(cases, gold, config, case_ids, scratch)
        entry["tuning_scores"] = f"out-of-fold ({len(paths)} folds)"
        if config.cross_fit_final == "refit":
            pairs, labels = training_pairs(cases, gold, config, set(case_ids))
            trainings.append({"fold": None} | fine_tune(pairs, labels, config, final))
            entry["final"] = "refit on all cases"
        else:
            average_models(paths, final)
            entry["final"] = f"mean of the {len(paths)} fold models' weights"
    else:
        pairs, labels = training_pairs(cases, gold, config, set(case_ids))
        trainings = [{"fold": None} | fine_tune(pairs, labels, config, final)]
        raw = {}
        entry |= {"tuning_scores": "in-sample", "final": "trained on all cases"}
    scorer = load_scorer(final, config)
    if not raw:
        raw = {s: score_cases(cases[s], s, config, scorer) for s in SUBTASKS}
    return entry | {"trainings": trainings}, raw, scorer


def train_aligner(options: TrainOptions) -> dict[str, Any]:
    """Fine-tune (or take the user's) cross-encoder, tune both ensembles, write the model folder."""
    started = time.perf_counter()
    overrides = dict(options.overrides)
    if options.config:
        overrides = {"config": options.config, **overrides}
    config = resolve_config(overrides)
    require_device(config.device)  # before any work
    out = Path(options.out or DEFAULT_OUT).resolve()
    out.mkdir(parents=True, exist_ok=True)
    split = _annotated_split(options)
    cases = {s: inputs_for(split, s) for s in SUBTASKS}
    case_ids = split.case_ids()
    gold = {s: gold_links(split.keys or {}, case_ids, s) for s in SUBTASKS}

    with tempfile.TemporaryDirectory(prefix="aligner-train-") as scratch:
        entry, raw, scorer = _cross_encoder(cases, gold, config, case_ids, out, Path(scratch))
    entry["sha256"] = scorer.sha256
    seconds = {"cross_encoder": round(time.perf_counter() - started, 1)}

    tick = time.perf_counter()
    subtasks_card: dict[str, Any] = {}
    for subtask in SUBTASKS:
        results = tune_all(raw[subtask], gold[subtask], config, subtask)
        name = raw_scores_name(split.name, subtask)
        raw[subtask].save(out / name)
        subtasks_card[str(int(subtask))] = {"raw_scores": name} | {k: r.to_json() for k, r in results.items()}
    seconds["tune"] = round(time.perf_counter() - tick, 1)
    seconds["total"] = round(time.perf_counter() - started, 1)

    card = {
        "harness_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": config.to_json(),
        "cross_encoder": entry,
        "tuning": {"data": str(options.data), "split": split.name, "cases": case_ids, "cv_folds": config.cv_folds},
        "subtasks": subtasks_card,
        "seconds": seconds,
    }
    card_path = write_card(out, card)
    logger.info("wrote %s in %.1f s", card_path, seconds["total"])
    return {
        "system": "qunlp-aligner",
        "model_dir": str(out),
        "card": str(card_path),
        "cross_encoder": {k: entry.get(k) for k in ("source", "sha256", "tuning_scores", "final")},
        "subtasks": {
            s: {
                k: {"params": v["params"], "cv_micro_f1": v["cv"]["micro_f1"]}
                for k, v in c.items()
                if k != "raw_scores"
            }
            for s, c in subtasks_card.items()
        },
        "seconds": seconds,
        "run_config": {"model_dir": str(out)},
    }
