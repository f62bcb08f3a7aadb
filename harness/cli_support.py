"""Helpers shared by the CLI commands: JSON on stdout, one-line errors on stderr, exit codes.

Exit codes: 0 ok, 1 a failed check (bad input, validation failed, reproduce FAIL), 2 a usage error.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from harness.data.model import parse_id_ranges
from harness.errors import HarnessError, InputError
from harness.tasks import Task, UnknownTaskError, editions, get_task, task_ids

EXIT_OK = 0
EXIT_FAILED_CHECK = 1
EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., Any])


def print_json(obj: Any) -> None:
    """Machine-readable output: one JSON document on stdout."""
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False))


def report_errors(func: F) -> F:
    """Turn a :class:`HarnessError` into its one-line message(s) on stderr and exit code 1, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(EXIT_FAILED_CHECK)
        except HarnessError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILED_CHECK)

    return wrapper  # type: ignore[return-value]


def resolve_task(task_id: str | None, year: str | None, subtask: int | None, *, required: bool = True) -> Task | None:
    """The task named by ``--task``, or by its aliases ``--year``/``--subtask`` (``None``: not named and not
    ``required``). A usage error when they disagree or name no task."""
    if task_id is not None:
        task = _get_task(task_id)
        if (year is not None and year != task.edition) or (subtask is not None and subtask != task.number):
            raise click.UsageError(f"--task {task.id} disagrees with --year/--subtask; give --task alone")
        return task
    year = year or "2026"
    if year == "2025":
        if subtask is not None:
            raise click.UsageError("--subtask is not used with --year 2025 (the 2025 task has no subtasks)")
        return _get_task("2025")
    if subtask is None:
        if required:
            raise click.UsageError(f"name the task: --task {year}/N (or --year {year} --subtask N)")
        return None
    return _get_task(f"{year}/{subtask}")


def _get_task(task_id: str) -> Task:
    try:
        return get_task(task_id)
    except UnknownTaskError as exc:
        raise click.UsageError(str(exc)) from None


def task_options(*, required: bool = True) -> Callable[[F], F]:
    """``--task ID`` (e.g. ``2026/3``, ``2025``) with its aliases ``--year``/``--subtask``; the command gets
    ``task`` (a :class:`~harness.tasks.Task`, or ``None`` when not named and not ``required``)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, task_id: str | None, year: str | None, subtask: int | None, **kwargs: Any) -> Any:
            return func(*args, task=resolve_task(task_id, year, subtask, required=required), **kwargs)

        options = (
            click.option("--task", "task_id", default=None, help=f"Task id: {', '.join(task_ids())}."),
            click.option(
                "--year", type=click.Choice(editions()), default=None, help="Alias: the task's edition (default 2026)."
            ),
            click.option("--subtask", type=click.IntRange(1), default=None, help="Alias: the task's number."),
        )
        return _chain(*options)(wrapper)  # type: ignore[return-value]

    return decorate


def data_options(func: F) -> F:
    """``--data DIR|synthetic --split NAME``."""
    func = click.option("--split", required=True, help="Split folder name, e.g. dev, test, test-2026.")(func)
    return click.option(
        "--data", required=True, help="Data folder in the official layout, or 'synthetic' for the bundled dataset."
    )(func)


def _chain(*options: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator applying ``options``, listed in ``--help`` in the given order."""

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def config_options(config_help: str = "YAML config overrides.") -> Callable[[F], F]:
    """``--config FILE`` (into ``config_file``) and ``--set KEY=VALUE`` (repeatable, into ``settings``)."""
    return _chain(
        click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), help=config_help),
        click.option("--set", "settings", multiple=True, help="One config override KEY=VALUE (repeatable)."),
    )


def run_options(ids_option: Callable[[F], F]) -> Callable[[F], F]:
    """The options of a run command: ``--out DIR``, ``ids_option`` (the command's subset of cases),
    :func:`config_options`, ``--batch-size N``."""
    return _chain(
        click.option(
            "--out", type=click.Path(file_okay=False), required=True, help="Output folder (run store + submission)."
        ),
        ids_option,
        config_options(),
        click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True),
    )


def parse_config_overrides(config_file: str | None, settings: tuple[str, ...]) -> dict[str, Any]:
    """A YAML config file (a mapping), then ``--set KEY=VALUE`` pairs on top, values read as YAML."""
    overrides: dict[str, Any] = {}
    if config_file:
        loaded = yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise InputError.one("config must be a YAML mapping", file=config_file)
        overrides.update(loaded)
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--set takes KEY=VALUE, got {item!r}")
        overrides[name.strip()] = yaml.safe_load(value)
    return overrides


def _parse_case_ids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    try:
        return parse_id_ranges(list(values))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def case_ids_option(verb: str) -> Callable[[F], F]:
    """``--case-ids 21-120 5`` (repeatable), parsed into a list of ids, or ``None`` when not given."""
    return click.option(
        "--case-ids",
        "case_ids",
        multiple=True,
        callback=_parse_case_ids,
        help=f"{verb} only these cases, as the scorers' --case_ids_to_score (e.g. '21-120' or '1-3 5'; repeatable).",
    )
