"""The ``archehr`` command line: results on stdout (text on a terminal, JSON otherwise), logs and progress
on stderr.

Exit codes: 0 ok, 1 a failed check (bad input, validation failed), 2 a usage error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from archehr.assets_cli import assets_group
from archehr.eval_cli import eval_command, run_task
from archehr.fhir_cli import fhir_group
from archehr.judge_cli import judge_group
from archehr.leaderboard_cli import leaderboard_group, reproduce_command
from archehr.pipeline import brief, run_system
from archehr.score_cli import score_command
from archehr.submission_cli import submit_command, validate_command
from harness import __version__
from harness.cli_support import (
    EXIT_FAILED_CHECK,
    GuardedGroup,
    Output,
    case_ids_option,
    config_options,
    configure_logging,
    data_options,
    load_split,
    output_options,
    parse_config_overrides,
    render_text,
    report_errors,
    run_options,
    show_progress,
    strip_control,
    system_argument,
    table,
    task_options,
    third_party_prints_to_log,
)
from harness.data import inputs_for, load_dataset
from harness.data.checks import check_split
from harness.data.stats import dataset_stats
from harness.errors import InputError, Problem
from harness.systems import (
    ENV_SYSTEM_MODULES,
    TrainOptions,
    get_trainer,
    list_systems,
    load_system_file,
    system_commands,
    system_files_from_env,
)
from harness.tasks import Task
from llmkit.cli import llm_group


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archehr")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="Errors only on stderr: no progress bars, no warnings.")
@click.option(
    "--system-module",
    "system_modules",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help=f"A Python file registering systems (repeatable; also ${ENV_SYSTEM_MODULES}, {os.pathsep}-separated).",
)
@report_errors
def cli(verbose: int, quiet: bool, system_modules: tuple[str, ...]) -> None:
    """Evaluation and submission harness for the ArchEHR-QA shared task.

    Results on stdout (a table on a terminal, JSON otherwise; --format), logs and progress on stderr.
    Exit codes: 0 ok, 1 a failed check, 2 a usage error.
    """
    if verbose and quiet:
        raise click.UsageError("-v and -q go against each other; give one")
    configure_logging(verbose, quiet)
    for path in [*system_files_from_env(), *system_modules]:
        load_system_file(path)


# ------------------------------------------------------------------ data


@cli.group()
def data() -> None:
    """Check and describe data folders (official layout, or 'synthetic')."""


@data.command("validate")
@click.argument("folder")
@output_options()
@report_errors
def data_validate(folder: str, output: Output) -> None:
    """Load every split of FOLDER and check offsets, labels and citations; exit 1 on any error."""
    dataset = load_dataset(folder)
    errors: list[Problem] = []
    warnings: list[Problem] = []
    counts: dict[str, int | None] = {}
    for name in dataset.splits:
        try:  # one malformed split is reported and the others are still checked
            split = dataset.split(name)
        except InputError as exc:
            errors += exc.problems
            counts[name] = None
            continue
        counts[name] = len(split.cases)
        report = check_split(split)
        errors += report.errors
        warnings += report.warnings
    output.emit(
        {
            "valid": not errors,
            "root": dataset.root,
            "splits": counts,
            "errors": [p.to_json() for p in errors],
            "warnings": [p.to_json() for p in warnings],
        }
    )
    for problem in errors:
        click.echo(f"error: {strip_control(str(problem))}", err=True)
    for problem in warnings:
        click.echo(f"warning: {strip_control(str(problem))}", err=True)
    if errors:
        sys.exit(EXIT_FAILED_CHECK)


@data.command("stats")
@click.argument("folder")
@output_options()
@report_errors
def data_stats(folder: str, output: Output) -> None:
    """Counts per split: cases, note sentences, relevance labels, answer sentences."""
    output.emit(dataset_stats(load_dataset(folder)))


# ------------------------------------------------------------------ systems and runs


@cli.command("systems")
@output_options()
def systems_command(output: Output) -> None:
    """List the registered systems (name, subtasks, description)."""
    rows = [entry.to_json() for entry in list_systems()]
    output.emit(rows, lambda decimals: "\n".join(table(rows, decimals, ["name", "subtasks", "description"])))


@cli.command("run")
@system_argument
@data_options
@task_options()
@run_options(case_ids_option("Run"))
@output_options()
@report_errors
def run_command(
    system: str,
    data: str,
    split: str,
    task: Task,
    out: str,
    case_ids: list[str] | None,
    config_file: str | None,
    settings: tuple[str, ...],
    batch_size: int,
    fresh: bool,
    output: Output,
) -> None:
    """Run SYSTEM on a split; writes predictions (resumable) and OUT/submission.json."""
    subtask = run_task(task)
    cases_split = load_split(data, split)
    cases = inputs_for(cases_split, subtask, case_ids)
    with third_party_prints_to_log():
        summary = run_system(
            system,
            cases_split,
            cases,
            subtask,
            Path(out),
            config=parse_config_overrides(config_file, settings),
            batch_size=batch_size,
            show_progress=show_progress(),
            fresh=fresh,
        )
    output.emit(summary, lambda decimals: render_text(brief(summary), decimals))


@cli.command("train")
@system_argument
@config_options("The system's YAML config.")
@click.option("--stage", default="all", show_default=True, help="Training stage, where the system has stages.")
@click.option(
    "--model-dir",
    "--out",
    "out",
    type=click.Path(file_okay=False),
    help="Folder for the trained models and their cards (what run/eval take as --model-dir).",
)
@click.option("--data", default="synthetic", show_default=True, help="Data folder, or 'synthetic'.")
@click.option("--split", default="dev", show_default=True, help="Annotated split to train on.")
@output_options()
@report_errors
def train_command(
    system: str,
    config_file: str | None,
    settings: tuple[str, ...],
    stage: str,
    out: str | None,
    data: str,
    split: str,
    output: Output,
) -> None:
    """Train SYSTEM (resumable where the system supports it); prints a summary."""
    trainer = get_trainer(system)
    options = TrainOptions(
        config_file, parse_config_overrides(None, settings), stage, out, data, split, show_progress=show_progress()
    )
    with third_party_prints_to_log():
        summary = trainer(options)
    output.emit(summary)


cli.add_command(eval_command)
cli.add_command(validate_command)
cli.add_command(submit_command)
cli.add_command(score_command)
cli.add_command(assets_group)
cli.add_command(leaderboard_group)
cli.add_command(reproduce_command)
cli.add_command(fhir_group)
cli.add_command(llm_group)
cli.add_command(judge_group)
for _command in system_commands():  # commands the registered systems declare (e.g. the aligner's ablate)
    cli.add_command(_command)


@cli.command("demo")
@click.option("--out", type=click.Path(file_okay=False), default="demo-output", show_default=True)
@click.option("--only", multiple=True, help="Run only these demo systems (repeatable), e.g. --only baseline.")
@output_options()
@report_errors
def demo_command(out: str, only: tuple[str, ...], output: Output) -> None:
    """The main job on the bundled synthetic data: train, run, write submissions, score, leaderboard.

    The summary on stdout; the leaderboard table and the path of its HTML page on stderr.
    """
    from rich.console import Console

    from archehr.demo import run_demo
    from leaderboard.api import load_tables
    from leaderboard.render_text import render_tables
    from leaderboard.store import LeaderboardStore

    with third_party_prints_to_log():
        summary = run_demo(Path(out), only=only)
    output.emit(summary)
    console = Console(stderr=True)
    with LeaderboardStore(summary["leaderboard"]["db"]) as store:
        render_tables(load_tables(store), console, signatures=False)
    console.print(f"Leaderboard page: {summary['leaderboard']['html']}")


def main() -> None:  # console-script entry point
    cli()


if __name__ == "__main__":
    main()
