"""``archehr validate`` and ``archehr submit``: check a submission, package it for upload.

Both print the validation report on stdout (text on a terminal, JSON otherwise) and each error or warning as one line on
stderr; exit 0 when valid, 1 when not (warnings alone never fail), 2 on a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from harness.cli_support import (
    EXIT_FAILED_CHECK,
    Output,
    case_ids_option,
    data_options,
    load_split,
    output_options,
    render_text,
    report_errors,
    task_options,
)
from harness.tasks import Task
from submissions.io import package_zip, read_submission
from submissions.validate import ValidationReport, validate_submission


def _emit(output: Output, report: ValidationReport, **extra: object) -> None:
    data = {**report.to_json(), **extra}
    output.emit(data, lambda decimals: _validation_text(data, decimals))
    for problem in report.errors:
        click.echo(f"error: {problem}", err=True)
    for problem in report.warnings:
        click.echo(f"warning: {problem}", err=True)


def _validation_text(data: dict[str, Any], decimals: int) -> str:
    """``valid``/``INVALID`` with the counts; the problems themselves go to stderr, one line each."""
    head = "valid" if data.get("valid", data.get("ok")) else "INVALID"
    rest = {k: v for k, v in data.items() if k not in {"errors", "warnings", "valid", "ok"}}
    counts = f"{len(data.get('errors') or [])} error(s), {len(data.get('warnings') or [])} warning(s)"
    return "\n".join([f"{head}: {counts}", render_text(rest, decimals)])


@click.command("validate")
@click.argument("submission", type=click.Path(dir_okay=False, path_type=Path))
@data_options
@task_options()
@case_ids_option("Check")
@output_options()
@report_errors
def validate_command(
    submission: Path, data: str, split: str, task: Task, case_ids: list[str] | None, output: Output
) -> None:
    """Check SUBMISSION (submission.json or a zip holding it) against a split, reporting every problem."""
    entries = read_submission(submission)
    report = validate_submission(entries, load_split(data, split), task, file=str(submission), case_ids=case_ids)
    _emit(output, report)
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
@click.option(
    "--structure-only",
    is_flag=True,
    help="Without --data: accept a check of the structure only (case set and ids not checked against the key).",
)
@task_options(required=False)
@output_options()
@report_errors
def submit_command(
    submission: Path,
    out: Path,
    data: str | None,
    split: str | None,
    structure_only: bool,
    task: Task | None,
    output: Output,
) -> None:
    """Validate SUBMISSION (a submission.json) and write the upload zip, only when it is valid.

    With --data and --split the check is complete. Without them only the structure can be checked, which
    does not catch missing, extra or unknown cases: the command then writes nothing and exits 1, unless
    --structure-only says that is what you want.
    """
    if (data is None) != (split is None):
        raise click.UsageError("--data and --split go together")
    if data is not None:
        if task is None:
            raise click.UsageError("name the task: --task 2026/N (or --year 2026 --subtask N)")
        if structure_only:
            raise click.UsageError("--structure-only is for a check without --data")
    if submission.resolve() == out.resolve():
        raise click.UsageError("--out must not be the submission itself")
    entries = read_submission(submission, allow_zip=False)
    target = None if data is None or split is None else load_split(data, split)
    report = validate_submission(entries, target, task, file=str(submission))
    checked = "structure only, not checked against the key" if target is None else "complete"
    if not report.ok:
        _emit(output, report, checked=checked, zip=None)
        sys.exit(EXIT_FAILED_CHECK)
    if target is None and not structure_only:
        _emit(output, report, ok=False, checked=checked, zip=None)
        click.echo(
            f"error: file {submission}: structure only, not checked against the key (missing, extra or unknown"
            " cases are not caught); give --data and --split to check it fully, or --structure-only to zip it anyway",
            err=True,
        )
        sys.exit(EXIT_FAILED_CHECK)
    written = package_zip(submission, out)
    _emit(output, report, checked=checked, zip=str(written))
    if target is None:
        click.echo(f"warning: file {submission}: structure only, not checked against the key", err=True)
