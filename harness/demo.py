"""``archehr demo``: the main job on the bundled synthetic data.

Runs each registered demo system on the synthetic test split for the subtasks it answers,
writes and validates each ``submission.json``, packages ``submission.zip`` and scores it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from harness.data import SYNTHETIC, Subtask, inputs_for, load_dataset
from harness.pipeline import run_system

logger = logging.getLogger(__name__)

DEMO_SPLIT = "test"
#: (system, subtasks) run by the demo, in order.
DEMO_SYSTEMS: tuple[tuple[str, tuple[int, ...]], ...] = (("baseline", (1, 2, 3, 4)),)


def run_demo(out: Path) -> dict[str, Any]:
    """Run the demo into ``out``; returns a JSON-able summary (one entry per system and subtask)."""
    from metrics.scoring import ScoringOptions, score_submission
    from submissions import package_zip, read_submission

    started = time.perf_counter()
    split = load_dataset(SYNTHETIC).split(DEMO_SPLIT)
    results = []
    for system, subtasks in DEMO_SYSTEMS:
        for number in subtasks:
            subtask = Subtask(number)
            folder = out / system / f"subtask{number}"
            logger.info("demo: %s subtask %d on synthetic/%s", system, number, DEMO_SPLIT)
            summary = run_system(system, split, inputs_for(split, subtask), subtask, folder, show_progress=True)
            zip_path = package_zip(Path(summary["submission"]), folder / "submission.zip")
            report = score_submission(
                read_submission(zip_path), split, subtask=number, year="2026", options=ScoringOptions.demo()
            )
            report_path = report.write(folder / "score.json")
            results.append(
                {
                    **summary,
                    "zip": str(zip_path),
                    "report": str(report_path),
                    "overall_score": report.overall_score,
                    "partial": report.partial,
                }
            )
    return {
        "data": f"{SYNTHETIC}/{DEMO_SPLIT}",
        "out": str(out),
        "runs": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
