"""Training memory and speed of the QU-NLP generator: 4-bit NF4 QLoRA vs float32 LoRA on the cpu-demo model.

Runs the real stage-1 training code (``systems.qunlp.generator.training.train_stages``: Trainer, peft LoRA on
every linear projection) twice in one benchmark run, once per variant, each in a fresh child process so that
peak memory is measured per variant:

- ``qlora-4bit``: the cpu-demo config as is (bitsandbytes NF4, double quantisation, float32 compute);
- ``lora-fp32``: the same with ``quantization.load_in_4bit=false`` (float32 base weights).

Per variant: the weights' footprint (``model.get_memory_footprint()``), the resident memory (RSS, sampled every
5 ms) after the imports, after loading the model, and at its peak during training, and the seconds per
optimiser step (median over the steps after the first; process CPU time beside wall time, the steadier figure on
a shared machine). "Training memory" is the peak RSS minus the RSS after the imports (Python, torch and
transformers themselves are the same in both variants). So that RSS measures tensors rather than the page cache
or the allocator's high-water mark, the children copy the weights out of the safetensors memory map before
training and run with glibc's ``MALLOC_MMAP_THRESHOLD_=65536`` (large blocks returned to the system when freed).

Both variants run with activation (gradient) checkpointing off (the cpu-demo setting) and on (the paper.yaml
and QLoRA setting), four children in all (``--checkpointing off|on|both``).

Target (2 CPU cores): the 4-bit training memory at most half of the float32 one.
Run: ``PYTHONPATH=. python benchmarks/train_memory.py [--steps N] [--seq-chars C]``; JSON on stdout, one human
line per figure on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_RATIO = 0.5
VARIANTS = {"qlora-4bit": True, "lora-fp32": False}
CHECKPOINTING = {"off": False, "on": True}  # activation (gradient) checkpointing: cpu-demo off, paper.yaml on


def rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler(threading.Thread):
    """Samples the process RSS every few milliseconds; ``peak`` since the last ``reset``."""

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak, self._halt = interval, rss_bytes(), threading.Event()

    def reset(self) -> None:
        self.peak = rss_bytes()

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return max(self.peak, rss_bytes())


def materialise(model: Any) -> None:
    """Copy every weight into process memory and drop the safetensors memory map.

    transformers reads weights through a memory map: float32 weights stay file-backed (resident only once
    touched) and a 4-bit load leaves the whole file mapped and resident; either way RSS would measure the page
    cache, not the model. Owned copies make both variants count their weights the same way.
    """
    import ctypes
    import gc

    for param in model.parameters():
        param.data = param.data.clone()
    for module in model.modules():
        for name, buffer in list(module.named_buffers(recurse=False)):
            module.register_buffer(name, buffer.clone())
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def child(variant: str, checkpointing: bool, steps: int, seq_chars: int) -> dict[str, Any]:
    """One variant in this process: load, train ``steps`` stage-1 steps, report memory and step times."""
    import torch
    from transformers import TrainerCallback

    from systems.qunlp.generator.config import load_config
    from systems.qunlp.generator.resolve import preflight_build
    from systems.qunlp.generator.training import train_stages

    after_imports = rss_bytes()
    sampler = PeakSampler()
    sampler.start()
    config = load_config(
        {
            "quantization.load_in_4bit": VARIANTS[variant],
            "prompt.max_context_chars": seq_chars,
            "stage1.limit": steps * 2,
            "stage1.max_steps": steps,
            "stage1.batch_size": 2,
            "stage1.save_steps": 10_000,  # the final save only
            "stage1.logging_steps": 10_000,
            "stage1.gradient_checkpointing": checkpointing,
        }
    )
    base = preflight_build(config)
    marks: dict[str, Any] = {"step_wall": [], "step_cpu": []}

    class Probe(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs) -> None:
            materialise(model)
            marks["after_load"] = rss_bytes()
            marks["footprint"] = int(model.get_memory_footprint())
            marks["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
            sampler.reset()

        def on_step_begin(self, args, state, control, **kwargs) -> None:
            marks["t"] = (time.perf_counter(), time.process_time())

        def on_step_end(self, args, state, control, **kwargs) -> None:
            wall, cpu = marks.pop("t")
            marks["step_wall"].append(time.perf_counter() - wall)
            marks["step_cpu"].append(time.process_time() - cpu)

        def on_train_end(self, args, state, control, **kwargs) -> None:
            marks["train_peak"] = sampler.peak

    with tempfile.TemporaryDirectory() as out:
        result = train_stages(config, ("1",), base, Path(out), show_progress=False, callbacks=[Probe()])["1"]
    overall_peak = sampler.stop()
    tokens = result.card["data"]["tokens"]
    later_wall, later_cpu = marks["step_wall"][1:] or marks["step_wall"], marks["step_cpu"][1:] or marks["step_cpu"]
    return {
        "variant": variant,
        "load_in_4bit": VARIANTS[variant],
        "gradient_checkpointing": checkpointing,
        "torch_threads": torch.get_num_threads(),
        "steps": len(marks["step_wall"]),
        "tokens": tokens,
        "trainable_parameters": marks["trainable"],
        "weights_footprint_mb": round(marks["footprint"] / 2**20, 1),
        "rss_after_imports_mb": round(after_imports / 2**20, 1),
        "rss_after_load_mb": round(marks["after_load"] / 2**20, 1),
        "rss_peak_training_mb": round(marks["train_peak"] / 2**20, 1),
        "rss_peak_overall_mb": round(overall_peak / 2**20, 1),
        "training_memory_mb": round((marks["train_peak"] - after_imports) / 2**20, 1),
        "activations_and_optimiser_mb": round((marks["train_peak"] - marks["after_load"]) / 2**20, 1),
        "seconds_per_step": round(statistics.median(later_wall), 3),
        "cpu_seconds_per_step": round(statistics.median(later_cpu), 3),
        "final_loss": result.card["training"]["train_loss"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=6, help="optimiser steps per variant (batch 2)")
    parser.add_argument("--seq-chars", type=int, default=160, help="stage-1 note window (prompt.max_context_chars)")
    parser.add_argument("--checkpointing", choices=["off", "on", "both"], default="both")
    parser.add_argument("--child", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--child-checkpointing", choices=sorted(CHECKPOINTING), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        gc_on = CHECKPOINTING[args.child_checkpointing]
        print(json.dumps(child(args.child, gc_on, args.steps, args.seq_chars)))
        return
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        # glibc: allocations over 64 KiB (every tensor that matters) are mapped and unmapped one by one, so RSS
        # follows the live tensors instead of the allocator's high-water mark
        "MALLOC_MMAP_THRESHOLD_": "65536",
        "MALLOC_TRIM_THRESHOLD_": "0",
    }
    settings = list(CHECKPOINTING) if args.checkpointing == "both" else [args.checkpointing]
    comparisons = {}
    for setting in settings:
        results = {}
        for variant in VARIANTS:
            command = [sys.executable, __file__, "--child", variant, "--child-checkpointing", setting]
            command += ["--steps", str(args.steps), "--seq-chars", str(args.seq_chars)]
            done = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True)
            results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        q, f = results["qlora-4bit"], results["lora-fp32"]
        ratio = q["training_memory_mb"] / f["training_memory_mb"]
        comparisons[f"checkpointing_{setting}"] = {
            "variants": results,
            "ratios": {
                "training_memory_4bit_over_fp32": round(ratio, 3),
                "weights_footprint_4bit_over_fp32": round(q["weights_footprint_mb"] / f["weights_footprint_mb"], 3),
                "seconds_per_step_4bit_over_fp32": round(q["seconds_per_step"] / f["seconds_per_step"], 3),
                "cpu_seconds_per_step_4bit_over_fp32": round(q["cpu_seconds_per_step"] / f["cpu_seconds_per_step"], 3),
            },
            "target_met": ratio <= TARGET_RATIO,
        }
    report = {
        "benchmark": "qunlp generator training memory (cpu-demo model, stage-1 batches of 2)",
        "load_average_1min": os.getloadavg()[0],
        "comparisons": comparisons,
        "target": f"training memory 4-bit <= {TARGET_RATIO} x fp32",
    }
    print(json.dumps(report, indent=1))
    for name, comparison in comparisons.items():
        for variant, r in comparison["variants"].items():
            memory = f"training memory {r['training_memory_mb']} MB"
            memory += f" (activations + optimiser {r['activations_and_optimiser_mb']} MB)"
            speed = f"{r['seconds_per_step']} s/step ({r['cpu_seconds_per_step']} CPU s/step)"
            print(f"{name} {variant}: weights {r['weights_footprint_mb']} MB, {memory}, {speed}", file=sys.stderr)
        ratio = comparison["ratios"]["training_memory_4bit_over_fp32"]
        verdict = "OK" if comparison["target_met"] else "MISSED"
        print(f"{name}: 4-bit / fp32 training memory {ratio:.2f} (target <= {TARGET_RATIO}) {verdict}", file=sys.stderr)


if __name__ == "__main__":
    main()
