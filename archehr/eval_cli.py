"""``archehr eval``: one command from a system to its score (lm-eval's habit).

Runs the system (resumable run store), validates and writes ``OUT/submission.json``, packages
``OUT/submission.zip``, scores with the official rules into ``OUT/score.json`` and, with ``--leaderboard``,
adds the report to the board. Prints the score table and the paths (text on a terminal, JSON otherwise).
Exit codes: 0 scored (a partial score included), 1 a failed check (invalid predictions, bad data), 2 usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from archehr.judge_cli import judge_option
from archehr.pipeline import run_system
from archehr.report_text import headline, score_table
from archehr.score_cli import report_stderr_notes, scoring_options
from harness.cli_support import (
    Output,
    case_ids_option,
    data_options,
    load_split,
    output_options,
    parse_config_overrides,
    report_errors,
    run_options,
    show_progress,
    system_argument,
    task_options,
    third_party_prints_to_log,
)
from harness.data import Subtask, inputs_for
from harness.tasks import Task

if TYPE_CHECKING:
    from metrics.suite import ScoringOptions

#: Where ``eval`` writes without ``--out`` (formatted with the system name, the task's slug and the split).
DEFAULT_OUT = "runs/{system}/{task}/{split}"
ZIP_FILE = "submission.zip"
SCORE_FILE = "score.json"
#: ``--leaderboard`` given without a value: the default board (``$ARCHEHR_LEADERBOARD_DB`` or ./.archehr/…).
_DEFAULT_BOARD = "\0default"


def run_task(task: Task) -> Subtask:
    """The 2026 subtask a registered system answers for ``task`` (``run`` and ``eval`` run 2026 subtasks)."""
    if task.subtask is None or task.edition != "2026":
        hint = "; the FHIR track runs with `archehr fhir run`" if task.edition == "fhir" else ""
        raise click.UsageError(f"systems run the 2026 subtasks (--task 2026/1 … 2026/4), not {task.id}{hint}")
    return task.subtask


@click.command("eval")
@system_argument
@data_options
@task_options()
@run_options(case_ids_option("Evaluate"), out_default=DEFAULT_OUT)
@scoring_options
@judge_option
@click.option(
    "--leaderboard",
    "board",
    is_flag=False,
    flag_value=_DEFAULT_BOARD,
    default=None,
    metavar="[DB]",
    help="Add the score report to a leaderboard (DB, or without a value the default board).",
)
@output_options()
@report_errors
def eval_command(
    system: str,
    data: str,
    split: str,
    task: Task,
    out: str | None,
    case_ids: list[str] | None,
    config_file: str | None,
    settings: tuple[str, ...],
    batch_size: int,
    fresh: bool,
    scoring: ScoringOptions,
    judge_config: str | None,
    board: str | None,
    output: Output,
) -> None:
    """Run SYSTEM on a split, validate, write submission.json and submission.zip, score into score.json."""
    from archehr.judge_cli import apply_judge, check_judge_task
    from metrics.scoring import SubmissionScorer
    from submissions.io import package_zip, read_submission

    subtask = run_task(task)
    if judge_config is not None:
        check_judge_task(task)
    target = load_split(data, split)
    cases = inputs_for(target, subtask, case_ids)
    folder = Path(out or DEFAULT_OUT.format(system=system, task=task.slug, split=target.name))
    with third_party_prints_to_log():
        # The scorer first: a key it refuses fails the command before any prediction is computed.
        scorer = SubmissionScorer(target, task, case_ids=[c.case_id for c in cases], options=scoring)
        summary = run_system(
            system,
            target,
            cases,
            subtask,
            folder,
            config=parse_config_overrides(config_file, settings),
            batch_size=batch_size,
            show_progress=show_progress(),
            fresh=fresh,
        )
        submission = Path(summary["submission"])
        zip_path = package_zip(submission, folder / ZIP_FILE)
        entries = read_submission(submission)
        report = scorer.score(entries, file=str(submission), system=summary["system_card"])
        if judge_config is not None:
            out_file = folder / SCORE_FILE
            report = apply_judge(report, entries, target, task, judge_config, out=out_file, submission=submission)
    score_path = report.write(folder / SCORE_FILE)
    result: dict[str, Any] = {
        "system": system,
        "task": task.id,
        "split": target.name,
        "cases": summary["cases"],
        "reused": summary["reused"],
        "fingerprint": summary["fingerprint"],
        "files": {
            "predictions": summary["predictions"],
            "submission": str(submission),
            "zip": str(zip_path),
            "score": str(score_path),
        },
        "leaderboard": _add_to_board(score_path, board) if board is not None else None,
        "score": report.to_json(),
    }
    label, value, lacks = headline(result["score"])
    result["headline"] = {"key": report.overall_key, "value": value, "label": label, "lacks": lacks or None}
    output.emit(result, lambda decimals: _text(result, decimals))
    report_stderr_notes(report, output)


def _add_to_board(score_path: Path, board: str) -> dict[str, Any]:
    from leaderboard.api import add_reports
    from leaderboard.store import LeaderboardStore

    with LeaderboardStore(None if board == _DEFAULT_BOARD else board) as store:
        (added,) = add_reports(store, [score_path])
        return {"db": str(store.path), "entry_id": added.entry.id, "added": added.added}


def _text(result: dict[str, Any], decimals: int) -> str:
    lines = [score_table(result["score"], decimals), ""]
    reused = f", {result['reused']} reused from the run store" if result["reused"] else ""
    lines.append(f"{result['cases']} cases{reused}; fingerprint {result['fingerprint'][:12]}")
    for name, path in result["files"].items():
        lines.append(f"{name:>11}: {path}")
    board = result["leaderboard"]
    if board is not None:
        state = "added as" if board["added"] else "already on the board as"
        lines.append(f"leaderboard: {state} #{board['entry_id']} in {board['db']} (archehr leaderboard show)")
    return "\n".join(lines)
