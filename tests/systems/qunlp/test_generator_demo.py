"""The cpu-demo config end to end on SmolLM2-135M-Instruct (slow: two training stages and 12 answers on CPU)."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest

import systems.qunlp.generator as generator
from harness.data import SYNTHETIC, Subtask, inputs_for, load_dataset
from harness.systems import TrainOptions

logger = logging.getLogger(__name__)

MARKER = re.compile(r"\[\s*S?\d+(\s*[,-]\s*S?\d+)*\s*\]|\|\s*\d+(\s*,\s*\d+)*\s*\||\(S\d+\)|</?think>")


@pytest.mark.slow
def test_cpu_demo_trains_both_stages_and_answers_the_test_split(tmp_path) -> None:
    started = time.perf_counter()
    summary = generator.train(TrainOptions(out=str(tmp_path / "qunlp"), show_progress=False))
    trained = time.perf_counter()
    json.dumps(summary)
    assert summary["config"] == "cpu-demo" and set(summary["stages"]) == {"1", "2"}
    assert summary["base_model"]["name"] == "SmolLM2-135M-Instruct"
    for stage in summary["stages"].values():
        assert not stage["skipped"] and stage["steps"] > 0
    system = generator.build(summary["run_config"])
    split = load_dataset(SYNTHETIC).split("test")
    cases = inputs_for(split, Subtask.ANSWER_GENERATION)
    predictions = list(system.predict(cases, Subtask.ANSWER_GENERATION))
    done = time.perf_counter()
    assert [p.case_id for p in predictions] == [c.case_id for c in cases]
    for prediction in predictions:
        text = prediction.prediction
        assert text.strip() and len(text.split()) <= 75 and "\n" not in text
        assert not MARKER.search(text), text
    logger.warning(
        "cpu-demo: train %.1f s (stage 1 %.1f s, stage 2 %.1f s), generate %d answers %.1f s",
        trained - started,
        summary["stages"]["1"]["seconds"],
        summary["stages"]["2"]["seconds"],
        len(predictions),
        done - trained,
    )
    rerun = generator.train(TrainOptions(out=str(tmp_path / "qunlp"), show_progress=False))
    assert all(stage["skipped"] for stage in rerun["stages"].values())
