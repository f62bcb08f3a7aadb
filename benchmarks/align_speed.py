"""Subtask-4 alignment speed: the aligner's path against naive per-case cross-encoder scoring of every pair.

Resamples the synthetic cases (dev + test, seeded, renumbered 1..N) to N cases (147, the size of the
2026 subtask-4 test set), then, in the same process:

- optimised: the registered system as ``archehr run`` uses it (lexical prefilter to the top candidates,
  one batched length-sorted cross-encoder pass per batch of cases, inference mode, int8 when configured);
- fp32: the same without int8 quantisation (what quantisation contributes);
- naive: every (answer sentence, note sentence) pair through the fp32 cross-encoder, one case at a time
  (sentence-transformers' default batch of 32; the same thread count as the others);

and scores all three with the same tuned ensemble parameters. Also times BM25 with rank-bm25 and bm25s.
Prints a human summary on stderr and JSON on stdout. Not a test: figures vary with the machine's load.

    HF_HUB_OFFLINE=1 python benchmarks/align_speed.py [--model-dir DIR] [--cases 147] [--case-batch 8] [--set K=V]

Without ``--model-dir`` an aligner is first trained with the CPU demo config and the ``--set`` overrides
(timed separately; e.g. ``--set cross_fit_final=refit``).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from harness.data import Case, CaseKey, Subtask, inputs_for, load_dataset
from harness.systems import TrainOptions
from systems.qunlp.aligner.artifacts import AlignerModel
from systems.qunlp.aligner.config import resolve_config
from systems.qunlp.aligner.cross_encoder import CrossEncoderScorer
from systems.qunlp.aligner.ensemble import EnsembleParams, apply, build_table, link_sets
from systems.qunlp.aligner.evaluation import score_links
from systems.qunlp.aligner.lexical import bm25_scores
from systems.qunlp.aligner.queries import gold_links
from systems.qunlp.aligner.raw_scores import RawScores, raw_scores_from_predictions
from systems.qunlp.aligner.scoring import score_cases
from systems.qunlp.aligner.system import build_aligner

SUBTASK = Subtask.EVIDENCE_ALIGNMENT
CONFIG = Path(__file__).resolve().parents[1] / "systems" / "qunlp" / "configs" / "aligner.yaml"


def resample(n: int, seed: int) -> tuple[list[Case], dict[str, CaseKey]]:
    """``n`` synthetic cases drawn with replacement from dev + test, renumbered 1..n."""
    synthetic = load_dataset("synthetic")
    pool = [
        (case, split.keys[case.case_id]) for split in synthetic.splits.values() for case in inputs_for(split, SUBTASK)
    ]
    rng = random.Random(seed)
    cases, keys = [], {}
    for i in range(n):
        case, key = rng.choice(pool)
        case_id = str(i + 1)
        cases.append(replace(case, case_id=case_id))
        keys[case_id] = replace(key, case_id=case_id)
    return cases, keys


def timed(func: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", help="A trained aligner; default: train one with the CPU demo config first.")
    parser.add_argument("--cases", type=int, default=147)
    parser.add_argument("--case-batch", type=int, default=8, help="Cases per predict call (the run store's default).")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip-naive", action="store_true", help="Only the optimised paths.")
    parser.add_argument("--set", dest="settings", action="append", default=[], help="Training config KEY=VALUE.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    report: dict[str, Any] = {"cases": args.cases, "case_batch": args.case_batch}

    with tempfile.TemporaryDirectory(prefix="align-speed-") as tmp:
        model_dir = args.model_dir
        if model_dir is None:
            from systems.qunlp.aligner.training import train_aligner

            overrides = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.settings)}
            options = TrainOptions(config=str(CONFIG), overrides=overrides, out=tmp)
            summary, wall, cpu = timed(lambda: train_aligner(options))
            model_dir = summary["model_dir"]
            report["training"] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "seconds": summary["seconds"]}
        model = AlignerModel.load(model_dir)
        config = resolve_config({}, base=model.card["config"])
        params = model.params(SUBTASK)
        ce_alone = model.params(SUBTASK, "cross_encoder")
        d = config.defaults  # untuned, cross-encoder weight 0.5: shows pruning's effect when the tuned weight is ~0
        weighted = EnsembleParams(
            {"bm25": d.bm25, "tfidf": d.tfidf, "cross_encoder": d.cross_encoder}, d.bm25_fraction, d.threshold, d.k, 1
        )
        cases, keys = resample(args.cases, args.seed)
        gold = gold_links(keys, [c.case_id for c in cases], SUBTASK)
        report["answer_sentences"] = sum(len(c.answer_sentences or ()) for c in cases)
        report["all_pairs"] = sum(len(c.answer_sentences or ()) * len(c.sentences or ()) for c in cases)
        report["ensemble_params"] = params.to_json()

        def system_path(quantize: bool) -> RawScores:
            system = build_aligner("qunlp-aligner", {"model_dir": model_dir, "quantize": quantize})
            predictions = []
            for start in range(0, len(cases), args.case_batch):
                predictions += system.predict(cases[start : start + args.case_batch], SUBTASK)
            return raw_scores_from_predictions(predictions, int(SUBTASK))

        def naive_path() -> RawScores:
            naive_config = replace(config, quantize=False)
            scorer = CrossEncoderScorer.load(
                model.cross_encoder_dir(), max_length=config.max_length, batch_size=32, threads=config.torch_threads
            )
            raw = RawScores(int(SUBTASK))
            for case in cases:
                raw.merge(score_cases([case], SUBTASK, naive_config, scorer, top_n=0))
            return raw

        paths = {"optimised": lambda: system_path(config.quantize), "fp32": lambda: system_path(False)}
        if not args.skip_naive:
            paths["naive"] = naive_path
        for name, run in paths.items():
            raw, wall, cpu = timed(run)
            table = build_table(raw, scope=config.normalise_scope, case_ids=[c.case_id for c in cases])
            scores = score_links(link_sets(apply(table, params)[1]), gold, int(SUBTASK))
            ce_scores = score_links(link_sets(apply(table, ce_alone)[1]), gold, int(SUBTASK))
            weighted_scores = score_links(link_sets(apply(table, weighted)[1]), gold, int(SUBTASK))
            scored = sum(len(s) for qs in raw.components["cross_encoder"].values() for s in qs.values())
            report[name] = {
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "ce_pairs": scored,
                **scores.to_json(),
                "cross_encoder_alone_micro_f1": round(ce_scores.f1, 2),
                "ce_weighted_defaults_micro_f1": round(weighted_scores.f1, 2),
            }
            print(
                f"{name:>9}: {wall:6.1f} s wall, {cpu:6.1f} s cpu, {scored} pairs, micro-F1 {scores.f1:.2f}"
                f" (cross-encoder alone {ce_scores.f1:.2f}, untuned CE-weighted {weighted_scores.f1:.2f})",
                file=sys.stderr,
            )

    texts = [([a.text for a in c.answer_sentences or ()], [s.text for s in c.sentences or ()]) for c in cases]
    for backend in ("rank_bm25", "bm25s"):
        _, wall, _ = timed(lambda b=backend: [bm25_scores(q, s, backend=b) for q, s in texts])
        report[f"bm25_{backend}_s"] = round(wall, 3)
    if "naive" in report:
        report["speedup_wall"] = round(report["naive"]["wall_s"] / report["optimised"]["wall_s"], 2)
        report["speedup_cpu"] = round(report["naive"]["cpu_s"] / report["optimised"]["cpu_s"], 2)
        report["f1_gap_points"] = round(report["optimised"]["micro_f1"] - report["naive"]["micro_f1"], 2)
        report["ce_weighted_f1_gap_points"] = round(
            report["optimised"]["ce_weighted_defaults_micro_f1"] - report["naive"]["ce_weighted_defaults_micro_f1"], 2
        )
        report["targets"] = {
            "le_60s": report["optimised"]["wall_s"] <= 60,
            "ge_3x": report["speedup_wall"] >= 3,
            "f1_within_0.5": abs(report["f1_gap_points"]) <= 0.5,
        }
        print(
            f"speed-up {report['speedup_wall']}x wall ({report['speedup_cpu']}x cpu), "
            f"F1 gap {report['f1_gap_points']:+.2f} points; BM25 rank-bm25 {report['bm25_rank_bm25_s']} s, "
            f"bm25s {report['bm25_bm25s_s']} s",
            file=sys.stderr,
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
