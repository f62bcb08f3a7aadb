"""``archehr validate`` and ``archehr submit``: check a submission, package it for upload.

Both print the validation report as JSON on stdout and each error or warning as one line on
stderr; exit 0 when valid, 1 when not (warnings alone never fail), 2 on a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.cli_support import (
    EXIT_FAILED_CHECK,
    case_ids_option,
    data_options,
    print_json,
    report_errors,
    task_options,
)
from harness.data.loader import load_dataset
from harness.data.model import Split
from harness.errors import InputError
from harness.tasks import Task
from submissions.io import package_zip, read_submission
from submissions.validate import ValidationReport, validate_submission


def _load_split(data: str, split: str) -> Split:
    try:
        return load_dataset(data).split(split)
    except KeyError as exc:
        raise InputError.one(str(exc.args[0]), file=data, field="split") from None


def _emit(report: ValidationReport, **extra: object) -> None:
    print_json({**report.to_json(), **extra})
    for problem in report.errors:
        click.echo(f"error: {problem}", err=True)
    for problem in report.warnings:
        click.echo(f"warning: {problem}", err=True)


@click.command("validate")
@click.argument("submission", type=click.Path(dir_okay=False, path_type=Path))
@data_options
@task_options()
@case_ids_option("Check")
@report_errors
def validate_command(submission: Path, data: str, split: str, task: Task, case_ids: list[str] | None) -> None:
    """Check SUBMISSION (submission.json or a zip holding it) against a split, reporting every problem."""
    entries = read_submission(submission)
    report = validate_submission(entries, _load_split(data, split), task, file=str(submission), case_ids=case_ids)
    _emit(report)
    if not report.ok:
        sys.exit(EXIT_FAILED_CHECK)


@click.command("submit")
@click.argument("submission", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Zip to write, with submission.json at its root.",
)
@click.option("--data", default=None, help="Data folder or 'synthetic': validate fully against --split.")
@click.option("--split", default=None, help="Split folder name, e.g. test-2026 (with --data).")
@task_options(required=False)
@report_errors
def submit_command(submission: Path, out: Path, data: str | None, split: str | None, task: Task | None) -> None:
    """Validate SUBMISSION (a submission.json) and write the upload zip, only when it is valid.

    With --data and --split the check is complete; without them only the structure is checked.
    """
    if (data is None) != (split is None):
        raise click.UsageError("--data and --split go together")
    if data is not None and task is None:
        raise click.UsageError("name the task: --task 2026/N (or --year 2026 --subtask N)")
    if submission.resolve() == out.resolve():
        raise click.UsageError("--out must not be the submission itself")
    entries = read_submission(submission, allow_zip=False)
    target = None if data is None or split is None else _load_split(data, split)
    report = validate_submission(entries, target, task, file=str(submission))
    if not report.ok:
        _emit(report, zip=None)
        sys.exit(EXIT_FAILED_CHECK)
    written = package_zip(submission, out)
    _emit(report, zip=str(written))
