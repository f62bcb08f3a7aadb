"""``archehr demo``: the main job on the bundled synthetic data.

For each registered system that declares a demo plan (:class:`harness.systems.DemoPlan`): train it on the
synthetic dev split with its CPU config (where it has one), run it on the synthetic test split for its
subtasks, write and validate each ``submission.json``, package ``submission.zip``, score it (lexical metrics, plus
the packaged stand-ins for BERTScore and MEDCON, labelled as such; AlignScore is reported
unavailable unless its checkpoint is supplied), then add every report to the local leaderboard
and render its HTML page.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from archehr.pipeline import run_system
from harness.cli_support import show_progress
from harness.config import CONFIG_KEY
from harness.data import SYNTHETIC, Subtask, inputs_for, load_dataset
from harness.errors import HarnessError
from harness.systems import SystemEntry, TrainOptions, get_trainer, list_systems
from harness.tasks import get_task

logger = logging.getLogger(__name__)

DEMO_SPLIT = "test"
#: One batch holds the whole synthetic test split (12 cases), so generators make a single pass.
DEMO_BATCH_SIZE = 16
TRAIN_SPLIT = "dev"


def demo_plan(only: tuple[str, ...] = ()) -> list[SystemEntry]:
    """The registered systems with a demo plan (``only``: those named), each after the system it is trained by."""
    entries = [e for e in list_systems() if e.demo is not None and (not only or e.name in only)]
    unknown = sorted(set(only) - {e.name for e in entries})
    if unknown:
        known = ", ".join(e.name for e in list_systems() if e.demo is not None)
        raise HarnessError(f"no demo system named {', '.join(unknown)} (demo systems: {known})")
    return sorted(entries, key=lambda e: (e.demo is not None and e.demo.trained_by is not None, e.name))


def _train(entry: SystemEntry, out: Path) -> dict[str, Any]:
    assert entry.demo is not None and entry.demo.train_config is not None
    started = time.perf_counter()
    logger.info("demo: training %s on synthetic/%s", entry.name, TRAIN_SPLIT)
    options = TrainOptions(
        config=str(entry.demo.train_config), out=str(out / "models" / entry.name), data=SYNTHETIC, split=TRAIN_SPLIT
    )
    summary = get_trainer(entry.name)(options)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def run_demo(out: Path, *, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run the demo into ``out`` (``only``: a subset of system names); returns a JSON-able summary."""
    from leaderboard import add_reports_and_render
    from metrics.scoring import ScoringOptions, SubmissionScorer
    from submissions import package_zip, read_submission

    started = time.perf_counter()
    split = load_dataset(SYNTHETIC).split(DEMO_SPLIT)
    scorers: dict[tuple[int, tuple[str, ...] | None], SubmissionScorer] = {}
    trained: dict[str, dict[str, Any]] = {}
    runs: list[dict[str, Any]] = []
    for system in demo_plan(only):
        plan = system.demo
        assert plan is not None
        if plan.train_config is not None:
            trained[system.name] = _train(system, out)
        run_config = dict(trained.get(plan.trained_by or system.name, {}).get("run_config", {}))
        if plan.run_config is not None:
            run_config[CONFIG_KEY] = str(plan.run_config)
        with plan.service() if plan.service is not None else nullcontext({}) as service_config:
            for number in plan.subtasks:
                subtask = Subtask(number)
                folder = out / system.name / f"subtask{number}"
                logger.info("demo: %s subtask %d on synthetic/%s", system.name, number, DEMO_SPLIT)
                step_started = time.perf_counter()
                summary = run_system(
                    system.name,
                    split,
                    inputs_for(split, subtask, plan.case_ids),
                    subtask,
                    folder,
                    config={**run_config, **service_config},
                    batch_size=DEMO_BATCH_SIZE,
                    show_progress=show_progress(),
                )
                zip_path = package_zip(Path(summary["submission"]), folder / "submission.zip")
                scorer_key = (number, plan.case_ids)
                if scorer_key not in scorers:
                    task = get_task(f"2026/{number}")
                    scorers[scorer_key] = SubmissionScorer(
                        split, task, case_ids=plan.case_ids, options=ScoringOptions.demo()
                    )
                report = scorers[scorer_key].score(
                    read_submission(zip_path), file=str(zip_path), system=summary["system_card"]
                )
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
