"""``archehr demo``: the main job on the bundled synthetic data.

For each system of :data:`DEMO_PLAN`: train it on the synthetic dev split with its CPU config
(where it has a trainer), run it on the synthetic test split for its subtasks, write and
validate each ``submission.json``, package ``submission.zip``, score it (lexical metrics, plus
the packaged stand-ins for BERTScore and MEDCON, labelled as such; AlignScore is reported
unavailable unless its checkpoint is supplied), then add every report to the local leaderboard
and render its HTML page.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archehr.pipeline import run_system
from harness.cli_support import show_progress
from harness.data import SYNTHETIC, Subtask, inputs_for, load_dataset
from harness.systems import TrainOptions, get_trainer
from harness.tasks import get_task

logger = logging.getLogger(__name__)

DEMO_SPLIT = "test"
#: One batch holds the whole synthetic test split (12 cases), so generators make a single pass.
DEMO_BATCH_SIZE = 16
TRAIN_SPLIT = "dev"
_SYSTEMS = Path(__file__).resolve().parents[1] / "systems"


@dataclass(frozen=True)
class DemoSystem:
    """One system of the demo: its subtasks, and the trainer config it is trained with (if any)."""

    name: str
    subtasks: tuple[int, ...]
    train_config: Path | None = None
    trained_by: str | None = None  # reuse another demo system's training output


DEMO_PLAN: tuple[DemoSystem, ...] = (
    DemoSystem("baseline", (1, 2, 3, 4)),
    DemoSystem("qunlp-aligner", (4,), _SYSTEMS / "qunlp" / "configs" / "aligner.yaml"),
    DemoSystem("qunlp-evidence", (2,), trained_by="qunlp-aligner"),
    DemoSystem("qunlp", (3,), _SYSTEMS / "qunlp" / "configs" / "cpu-demo.yaml"),
    DemoSystem("classify-generate", (2, 3), _SYSTEMS / "classify_generate" / "configs" / "cpu-demo.yaml"),
)


def _train(system: DemoSystem, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    logger.info("demo: training %s on synthetic/%s", system.name, TRAIN_SPLIT)
    options = TrainOptions(
        config=str(system.train_config), out=str(out / "models" / system.name), data=SYNTHETIC, split=TRAIN_SPLIT
    )
    summary = get_trainer(system.name)(options)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def run_demo(out: Path, *, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run the demo into ``out`` (``only``: a subset of system names); returns a JSON-able summary."""
    from leaderboard import add_reports_and_render
    from metrics.scoring import ScoringOptions, SubmissionScorer
    from submissions import package_zip, read_submission

    started = time.perf_counter()
    split = load_dataset(SYNTHETIC).split(DEMO_SPLIT)
    scorers: dict[int, SubmissionScorer] = {}
    trained: dict[str, dict[str, Any]] = {}
    runs: list[dict[str, Any]] = []
    for system in DEMO_PLAN:
        if only and system.name not in only:
            continue
        if system.train_config is not None:
            trained[system.name] = _train(system, out)
        run_config = trained.get(system.trained_by or system.name, {}).get("run_config", {})
        for number in system.subtasks:
            subtask = Subtask(number)
            folder = out / system.name / f"subtask{number}"
            logger.info("demo: %s subtask %d on synthetic/%s", system.name, number, DEMO_SPLIT)
            step_started = time.perf_counter()
            summary = run_system(
                system.name,
                split,
                inputs_for(split, subtask),
                subtask,
                folder,
                config=run_config,
                batch_size=DEMO_BATCH_SIZE,
                show_progress=show_progress(),
            )
            zip_path = package_zip(Path(summary["submission"]), folder / "submission.zip")
            if number not in scorers:
                scorers[number] = SubmissionScorer(split, get_task(f"2026/{number}"), options=ScoringOptions.demo())
            report = scorers[number].score(read_submission(zip_path), file=str(zip_path), system=summary["system_card"])
            report_path = report.write(folder / "score.json")
            runs.append(
                {
                    **summary,
                    "zip": str(zip_path),
                    "report": str(report_path),
                    "overall_score": report.overall_score,
                    "partial": report.partial,
                    "seconds": round(time.perf_counter() - step_started, 1),
                }
            )
    board = add_reports_and_render([Path(r["report"]) for r in runs], out / "leaderboard.sqlite", out / "leaderboard")
    return {
        "data": f"{SYNTHETIC}/{DEMO_SPLIT}",
        "out": str(out),
        "training": trained,
        "runs": runs,
        "leaderboard": {"db": board["db"], "html": board["html"]},
        "seconds": round(time.perf_counter() - started, 1),
    }
