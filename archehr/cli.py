"""The ``archehr`` command line: JSON on stdout, logs and progress on stderr.

Exit codes: 0 ok, 1 a failed check (bad input, validation failed), 2 a usage error.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from archehr.assets_cli import assets_group
from archehr.fhir_cli import fhir_group
from archehr.leaderboard_cli import leaderboard_group, reproduce_command
from archehr.pipeline import run_system
from archehr.score_cli import score_command
from archehr.submission_cli import submit_command, validate_command
from harness import __version__
from harness.cli_support import (
    GuardedGroup,
    case_ids_option,
    config_options,
    data_options,
    parse_config_overrides,
    print_json,
    report_errors,
    run_options,
    strip_control,
)
from harness.data import Subtask, inputs_for, load_dataset
from harness.data.checks import check_split
from harness.data.stats import dataset_stats
from harness.errors import InputError, Problem
from harness.systems import TrainOptions, get_trainer, list_systems, system_commands


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archehr")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Evaluation and submission harness for the ArchEHR-QA shared task."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


# ------------------------------------------------------------------ data


@cli.group()
def data() -> None:
    """Check and describe data folders (official layout, or 'synthetic')."""


@data.command("validate")
@click.argument("folder")
@report_errors
def data_validate(folder: str) -> None:
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
    print_json(
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
        sys.exit(1)


@data.command("stats")
@click.argument("folder")
@report_errors
def data_stats(folder: str) -> None:
    """Counts per split: cases, note sentences, relevance labels, answer sentences."""
    print_json(dataset_stats(load_dataset(folder)))


# ------------------------------------------------------------------ systems and runs


@cli.command("systems")
def systems_command() -> None:
    """List the registered systems (name, subtasks, description)."""
    print_json([entry.to_json() for entry in list_systems()])


@cli.command("run")
@click.argument("system")
@data_options
@click.option("--subtask", type=click.IntRange(1, 4), required=True, help="2026 subtask (1-4).")
@run_options(case_ids_option("Run"))
@report_errors
def run_command(
    system: str,
    data: str,
    split: str,
    subtask: int,
    out: str,
    case_ids: list[str] | None,
    config_file: str | None,
    settings: tuple[str, ...],
    batch_size: int,
    fresh: bool,
) -> None:
    """Run SYSTEM on a split; writes predictions (resumable) and OUT/submission.json."""
    cases_split = load_dataset(data).split(split)
    cases = inputs_for(cases_split, Subtask(subtask), case_ids)
    summary = run_system(
        system,
        cases_split,
        cases,
        Subtask(subtask),
        Path(out),
        config=parse_config_overrides(config_file, settings),
        batch_size=batch_size,
        show_progress=True,
        fresh=fresh,
    )
    print_json(summary)


@cli.command("train")
@click.argument("system")
@config_options("The system's YAML config.")
@click.option("--stage", default="all", show_default=True, help="Training stage, where the system has stages.")
@click.option("--out", type=click.Path(file_okay=False), help="Output folder for models and their cards.")
@click.option("--data", default="synthetic", show_default=True, help="Data folder, or 'synthetic'.")
@click.option("--split", default="dev", show_default=True, help="Annotated split to train on.")
@report_errors
def train_command(
    system: str, config_file: str | None, settings: tuple[str, ...], stage: str, out: str | None, data: str, split: str
) -> None:
    """Train SYSTEM (resumable where the system supports it); prints a JSON summary."""
    trainer = get_trainer(system)
    options = TrainOptions(config_file, parse_config_overrides(None, settings), stage, out, data, split)
    print_json(trainer(options))


cli.add_command(validate_command)
cli.add_command(submit_command)
cli.add_command(score_command)
cli.add_command(assets_group)
cli.add_command(leaderboard_group)
cli.add_command(reproduce_command)
cli.add_command(fhir_group)
for _command in system_commands():  # commands the registered systems declare (e.g. the aligner's ablate)
    cli.add_command(_command)


@cli.command("demo")
@click.option("--out", type=click.Path(file_okay=False), default="demo-output", show_default=True)
@click.option("--only", multiple=True, help="Run only these demo systems (repeatable), e.g. --only baseline.")
@report_errors
def demo_command(out: str, only: tuple[str, ...]) -> None:
    """The main job on the bundled synthetic data: train, run, write submissions, score, leaderboard.

    JSON summary on stdout; the leaderboard table and the path of its HTML page on stderr.
    """
    from rich.console import Console

    from archehr.demo import run_demo
    from leaderboard.api import load_tables
    from leaderboard.render_text import render_tables
    from leaderboard.store import LeaderboardStore

    summary = run_demo(Path(out), only=only)
    print_json(summary)
    console = Console(stderr=True)
    with LeaderboardStore(summary["leaderboard"]["db"]) as store:
        render_tables(load_tables(store), console, signatures=False)
    console.print(f"Leaderboard page: {summary['leaderboard']['html']}")


def main() -> None:  # console-script entry point
    cli()


if __name__ == "__main__":
    main()
