"""Prompted-LLM cost on the local server: throughput at concurrency 1 vs 8, and self-consistency n=1 vs n=5.

Starts the local server (``archehr llm serve``: SmolLM2-135M-Instruct under ``transformers serve`` on 127.0.0.1;
or uses ``--base-url`` with ``--model``), then

1. sends ``--requests`` distinct short chat requests (``--max-tokens`` each, nothing cached) one at a time and
   8 at a time: requests/s, completion tokens/s, mean latency, and the ratio 8 vs 1;
2. runs ``llm-prompt`` on the synthetic test split for subtasks 2 and 4 with ``samples=1`` (greedy) and
   ``samples=5`` (temperature 0.7, vote threshold 0.6), each with a fresh response cache: requests, tokens,
   wall time, the official scores (subtask 2 strict micro-F1, subtask 4 micro-F1) side by side, and the cost
   ratio n=5 / n=1. A 135M model scores low: the figures are what they are.

Run: ``PYTHONPATH=. python benchmarks/llm_speed.py [--requests 16] [--max-tokens 32] [--cases N]``;
JSON on stdout, one human line per figure on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS = [
    "In one sentence, what does a {} do?",
    "Give one short tip for a patient recovering from {}.",
]
TOPICS = ["cardiologist", "nurse", "pharmacist", "surgery", "pneumonia", "a fracture", "radiologist", "a stroke"]


def throughput(base_url: str, model: str, n: int, max_tokens: int, concurrency: int, seed: int) -> dict[str, Any]:
    from llmkit.backends import ChatRequest, OpenAIBackend, messages
    from llmkit.client import LLMClient

    client = LLMClient(OpenAIBackend(base_url, model, timeout_s=600.0), None, concurrency=concurrency)
    requests = [
        ChatRequest(
            messages(None, PROMPTS[i % 2].format(TOPICS[i % len(TOPICS)])),
            max_tokens=max_tokens,
            temperature=0.7,
            seed=seed,
            sample_index=i,
        )
        for i in range(n)
    ]
    start = time.perf_counter()
    completions = client.complete_many(requests)
    wall = time.perf_counter() - start
    tokens = sum(c.completion_tokens for c in completions)
    return {
        "concurrency": concurrency,
        "requests": n,
        "completion_tokens": tokens,
        "seconds": round(wall, 2),
        "requests_per_s": round(n / wall, 3),
        "completion_tokens_per_s": round(tokens / wall, 2),
        "mean_latency_s": round(sum(c.latency_s for c in completions) / n, 2),
    }


def self_consistency(
    base_url: str,
    model: str,
    subtask: int,
    samples: int,
    cases: int,
    max_tokens: int,
    parse_retries: int,
    workdir: Path,
) -> dict[str, Any]:
    from harness.data import Subtask, inputs_for, load_dataset
    from harness.tasks import get_task
    from metrics.scoring import ScoringOptions, score_submission
    from submissions import build_entries
    from systems.llm_prompt.config import SPEC
    from systems.llm_prompt.system import LLMPromptSystem

    split = load_dataset("synthetic").split("test")
    chosen = inputs_for(split, Subtask(subtask), split.case_ids()[:cases])
    config = SPEC.load(
        {
            "base_url": base_url,
            "model": model,
            "samples": samples,
            "sc_temperature": 0.7,
            "vote_threshold": 0.6,
            "max_tokens": max_tokens,
            "concurrency": 4,
            "timeout_s": 600.0,
            "parse_retries": parse_retries,
        }
    )
    system = LLMPromptSystem(config, cache_path=workdir / f"cache-{subtask}-{samples}.jsonl")
    start = time.perf_counter()
    predictions = {p.case_id: p for p in system.predict(chosen, Subtask(subtask))}
    wall = time.perf_counter() - start
    ids = [c.case_id for c in chosen]
    entries = build_entries({k: p.prediction for k, p in predictions.items()}, ids, subtask=subtask)
    report = score_submission(
        entries, split, get_task(f"2026/{subtask}"), case_ids=ids, options=ScoringOptions(lexical_only=True)
    )
    key = "strict_micro_f1" if subtask == 2 else "micro_f1"
    usage = system.client.usage
    invalid = sum(1 for p in predictions.values() if p.meta.get("invalid"))
    return {
        "subtask": subtask,
        "samples": samples,
        "cases": len(ids),
        "requests": usage.requests,
        "completion_tokens": usage.completion_tokens,
        "prompt_tokens": usage.prompt_tokens,
        "seconds": round(wall, 2),
        "score_key": key,
        "score": report.scores.get(key),
        "scores": report.scores,
        "invalid_cases": invalid,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default=None, help="use this server instead of starting the local one")
    parser.add_argument("--model", default=None, help="model name on --base-url")
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=32, help="completion tokens per throughput request")
    parser.add_argument("--sc-max-tokens", type=int, default=64, help="completion tokens per llm-prompt request")
    parser.add_argument("--parse-retries", type=int, default=0, help="llm-prompt parse_retries (0: count invalid)")
    parser.add_argument("--cases", type=int, default=12, help="synthetic test cases for self-consistency (max 12)")
    parser.add_argument("--threads", type=int, default=None, help="server CPU threads (default: all cores)")
    parser.add_argument("--throughput-only", action="store_true", help="skip the self-consistency comparison")
    args = parser.parse_args()

    from llmkit.server import LocalServer, free_port

    server = None
    base_url, model = args.base_url, args.model
    if base_url is None:
        server = LocalServer(port=free_port(), threads=args.threads).start()
        base_url, model = server.base_url, server.model
        print(f"local server up in {server.startup_s:.1f} s at {base_url}", file=sys.stderr)
    assert model is not None, "--model is required with --base-url"
    result: dict[str, Any] = {
        "server": "local transformers serve (SmolLM2-135M-Instruct)" if server else base_url,
        "startup_s": None if server is None else round(server.startup_s or 0, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    try:
        runs = []
        for concurrency in (1, 8):
            run = throughput(base_url, model, args.requests, args.max_tokens, concurrency, seed=concurrency)
            runs.append(run)
            print(
                f"concurrency {concurrency}: {run['requests_per_s']} req/s, {run['completion_tokens_per_s']} tok/s, "
                f"mean latency {run['mean_latency_s']} s ({run['requests']} requests, {run['seconds']} s)",
                file=sys.stderr,
            )
        result["throughput"] = runs
        result["throughput_ratio_8_vs_1"] = round(
            runs[1]["completion_tokens_per_s"] / runs[0]["completion_tokens_per_s"], 2
        )
        print(f"tokens/s ratio concurrency 8 vs 1: {result['throughput_ratio_8_vs_1']}", file=sys.stderr)

        if args.throughput_only:
            return
        sc = []
        with tempfile.TemporaryDirectory(prefix="llm-speed-") as tmp:
            for subtask in (2, 4):
                pair = [
                    self_consistency(
                        base_url, model, subtask, n, args.cases, args.sc_max_tokens, args.parse_retries, Path(tmp)
                    )
                    for n in (1, 5)
                ]
                one, five = pair
                for run in pair:
                    print(
                        f"subtask {subtask} n={run['samples']}: {run['score_key']} {run['score']}, "
                        f"{run['requests']} requests, {run['completion_tokens']} completion tokens, "
                        f"{run['seconds']} s, {run['invalid_cases']} invalid case(s)",
                        file=sys.stderr,
                    )
                cost = round(five["seconds"] / one["seconds"], 2) if one["seconds"] else None
                delta = (
                    None if one["score"] is None or five["score"] is None else round(five["score"] - one["score"], 2)
                )
                print(f"subtask {subtask}: n=5 costs {cost}x the time of n=1; F1 change {delta}", file=sys.stderr)
                sc.append({"subtask": subtask, "n1": one, "n5": five, "time_ratio_n5_vs_n1": cost, "f1_change": delta})
        result["self_consistency"] = sc
    finally:
        if server is not None:
            server.stop()
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
