"""Generation speed of the QU-NLP generator: batched (left padding) vs one prompt at a time, same model, same run.

Builds the ``qunlp`` system with the cpu-demo config (SmolLM2-135M-Instruct in 4-bit NF4; the untuned base model
unless ``--model-dir`` names a trained generator), renders the prompts of the synthetic test cases, and
generates greedily with the real backend (``systems.qunlp.generator.generation.HFBackend``) twice on the same
loaded model: all prompts in one batch, then one prompt per call. Every answer runs to exactly
``--new-tokens`` tokens (end of turn suppressed through ``min_new_tokens``) so both paths produce the same
number of tokens. Reports tokens per second (wall clock, with process CPU time beside it; the 1-minute load
average too) and the ratio.

Target (2 CPU cores): batched at least 2x the tokens/s of one-at-a-time.
Run: ``PYTHONPATH=. python benchmarks/generate_speed.py [--cases N] [--new-tokens T] [--model-dir DIR]``;
JSON on stdout, one human line per figure on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_SPEEDUP = 2.0


def timed(backend: Any, prompts: list[str]) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    completions = backend.generate(prompts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    tokens = sum(len(c.token_ids) for c in completions)
    return {
        "calls": -(-len(prompts) // backend.config.batch_size),
        "tokens": tokens,
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "tokens_per_second": round(tokens / wall, 2),
        "tokens_per_cpu_second": round(tokens / cpu, 2),
        "token_ids": [list(c.token_ids) for c in completions],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=8, help="synthetic test cases (at most 12)")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--model-dir", default="none", help="a trained generator (train --out), or none (untuned base)")
    parser.add_argument(
        "--keep-4bit", action="store_true", help="generate with the 4-bit weights (cpu-demo dequantises them once)"
    )
    args = parser.parse_args()

    import torch

    from harness.data import SYNTHETIC, Subtask, inputs_for, load_dataset
    from systems.lora.generation import HFBackend
    from systems.qunlp.generator.system import build_generator

    split = load_dataset(SYNTHETIC).split("test")
    cases = inputs_for(split, Subtask.ANSWER_GENERATION)[: args.cases]
    overrides = {"model_dir": args.model_dir, "batch_size": len(cases), "max_new_tokens": args.new_tokens}
    if args.keep_4bit:
        overrides["generation.dequantize"] = False
    system = build_generator(overrides)
    prompts = system.prompts(cases)
    batched = system.backend
    batched.generation_config.min_new_tokens = args.new_tokens  # equal work: every answer runs to the budget
    single = HFBackend(system.config, batched.model, batched.tokenizer)
    single.config = replace(single.config, batch_size=1)
    single.generation_config = batched.generation_config
    batched.generate(prompts[:1])  # warm-up (lazy initialisation inside torch and bitsandbytes)

    one_batch = timed(batched, prompts)
    one_by_one = timed(single, prompts)
    speedup = one_batch["tokens_per_second"] / one_by_one["tokens_per_second"]
    same = one_batch.pop("token_ids") == one_by_one.pop("token_ids")
    report = {
        "benchmark": "qunlp generator: batched vs one-at-a-time greedy generation (cpu-demo model)",
        "model": system.card.components["base_model"],
        "weights": "nf4" if not system.config.generation.dequantize else "nf4 dequantised to float32 once",
        "adapter": system.card.components["adapter"],
        "prompts": len(prompts),
        "prompt_tokens": [len(batched.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts],
        "new_tokens_per_answer": args.new_tokens,
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],
        "batched": one_batch,
        "one_at_a_time": one_by_one,
        "same_tokens": same,
        "speedup": round(speedup, 2),
        "cpu_speedup": round(one_batch["tokens_per_cpu_second"] / one_by_one["tokens_per_cpu_second"], 2),
        "target": f"batched >= {TARGET_SPEEDUP} x one-at-a-time tokens/s",
        "target_met": speedup >= TARGET_SPEEDUP,
    }
    print(json.dumps(report, indent=1))
    for name in ("batched", "one_at_a_time"):
        r = report[name]
        print(
            f"{name}: {r['tokens']} tokens in {r['seconds']} s = {r['tokens_per_second']} tokens/s "
            f"({r['tokens_per_cpu_second']} per CPU s, {r['calls']} generate calls)",
            file=sys.stderr,
        )
    verdict = "OK" if report["target_met"] else "MISSED"
    print(f"speed-up {speedup:.1f}x (target >= {TARGET_SPEEDUP}x) {verdict}; same tokens: {same}", file=sys.stderr)


if __name__ == "__main__":
    main()
