"""``archehr score``: score a submission file against a split's key with the official rules.

Prints the score report on stdout (a table on a terminal, JSON otherwise; ``--format``) and writes it with
``--out``; each validation warning (and in JSON mode each unavailable metric) as one line on stderr; exit 0
when scored (a partial report included), 1 when the submission or the key is refused (one line per problem),
2 on a usage error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from archehr.report_text import score_table
from harness.cli_support import (
    Output,
    case_ids_option,
    data_options,
    load_split,
    output_options,
    report_errors,
    safe_text,
    task_options,
    third_party_prints_to_log,
)
from harness.tasks import Task

if TYPE_CHECKING:
    from metrics.report import ScoreReport
    from metrics.suite import ScoringOptions

F = TypeVar("F", bound=Callable[..., Any])


def _read(path: Path) -> object:
    from submissions.io import read_submission

    return read_submission(path)


def scoring_options(func: F) -> F:
    """The scoring options (every command that scores shares them); the command gets ``scoring``, a
    :class:`~metrics.suite.ScoringOptions` (a contradictory combination is a usage error)."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        lexical_only: bool,
        bertscore_model: str | None,
        bertscore_standin: bool,
        alignscore_ckpt: str | None,
        alignscore_base: str | None,
        trust_checkpoint: bool,
        medcon_index: str | None,
        medcon_hpo: bool,
        **kwargs: Any,
    ) -> Any:
        from metrics.suite import ScoringOptions

        try:
            options = ScoringOptions(
                lexical_only=lexical_only,
                bertscore_model=bertscore_model,
                bertscore_standin=bertscore_standin,
                alignscore_ckpt=alignscore_ckpt,
                alignscore_base_model=alignscore_base,
                trust_checkpoint=trust_checkpoint,
                medcon_index=medcon_index,
                medcon_hpo=medcon_hpo,
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        return func(*args, scoring=options, **kwargs)

    options = (
        click.option(
            "--lexical-only", is_flag=True, help="Skip BERTScore, AlignScore and MEDCON (overall becomes partial)."
        ),
        click.option("--bertscore-model", type=click.Path(file_okay=False), help="distilbert-base-uncased folder."),
        click.option(
            "--bertscore-standin",
            is_flag=True,
            help="Use the packaged MiniLM instead (never comparable to the leaderboard).",
        ),
        click.option("--alignscore-ckpt", type=click.Path(dir_okay=False), help="AlignScore-base.ckpt file."),
        click.option(
            "--alignscore-base", type=click.Path(file_okay=False), help="Local roberta-base folder for AlignScore."
        ),
        click.option("--trust-checkpoint", is_flag=True, help="Allow full unpickling of the AlignScore checkpoint."),
        click.option("--medcon-index", type=click.Path(file_okay=False), help="QuickUMLS index folder over UMLS."),
        click.option(
            "--medcon-hpo", is_flag=True, help="Use MEDCON-HPO, an approximate open vocabulary (never comparable)."
        ),
    )
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def report_stderr_notes(report: ScoreReport, output: Output) -> None:
    """Validation warnings on stderr; in JSON mode also each unavailable metric family once (the text table
    shows them itself)."""
    for warning in report.warnings:
        click.echo(f"warning: {safe_text(warning)}", err=True)
    if output.format == "json":
        for family, why in report.unavailable.items():
            click.echo(safe_text(f"unavailable: {family}: {why.reason} (fix: {why.fix})"), err=True)


@click.command("score")
@click.argument("submission", type=click.Path(dir_okay=False, path_type=Path))
@data_options
@task_options()
@case_ids_option("Score")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report here (atomic).")
@scoring_options
@click.option(
    "--judge",
    "judge_config",
    type=click.Path(exists=True, dir_okay=False),
    help="Add LLM-judge columns from this judge config (never official; docs/llm_judge.md).",
)
@output_options()
@report_errors
def score_command(
    submission: Path,
    data: str,
    split: str,
    task: Task,
    case_ids: list[str] | None,
    out: Path | None,
    scoring: ScoringOptions,
    judge_config: str | None,
    output: Output,
) -> None:
    """Score SUBMISSION (submission.json or a zip holding it) against --data/--split."""
    from archehr.judge_cli import apply_judge, check_judge_task, judge_text
    from metrics.scoring import score_submission

    if judge_config is not None:
        check_judge_task(task)
    entries = _read(submission)
    with third_party_prints_to_log():
        report = score_submission(
            entries,
            load_split(data, split),
            task,
            case_ids=case_ids,
            options=scoring,
            file=str(submission),
        )
    if judge_config is not None:
        report = apply_judge(
            report, entries, load_split(data, split), task, judge_config, out=out, submission=submission
        )
    if out is not None:
        report.write(out)
    data_out = report.to_json()
    output.emit(data_out, lambda decimals: score_table(data_out, decimals) + judge_text(data_out, decimals))
    report_stderr_notes(report, output)
