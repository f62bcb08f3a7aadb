"""``archehr score``: score submissions against a split's key with the official rules.

One submission: prints its score report on stdout (a table on a terminal, JSON otherwise; ``--format``) and
writes it with ``--out FILE.json``. Several (files, zips or folders of them): one process, one key, every
metric prepared once on the references (:mod:`metrics.many`); ``--out DIR`` writes one report per submission
(``DIR/<name>.json``) and stdout gets the summary (one row per submission). ``--leaderboard DB`` adds every
report to a leaderboard. Each validation warning (and in JSON mode each unavailable metric) is one line on
stderr; exit 0 when scored (partial reports included), 1 when a submission or the key is refused (one line per
problem, nothing written), 2 on a usage error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from archehr.judge_cli import judge_option
from archehr.leaderboard_cli import leaderboard_db_option
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
from harness.errors import InputError
from harness.tasks import Task
from metrics.alignscore import TRUNCATION_MODES

if TYPE_CHECKING:
    from metrics.many import NamedSubmission
    from metrics.report import ScoreReport
    from metrics.suite import ScoringOptions

F = TypeVar("F", bound=Callable[..., Any])


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
        alignscore_truncation: str,
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
                alignscore_truncation=alignscore_truncation,
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
        click.option(
            "--alignscore-truncation",
            type=click.Choice(TRUNCATION_MODES),
            default="official",
            show_default=True,
            help="Fallback when a claim is too long: the official whole batch of 8, or only that pair (own signature).",
        ),
        click.option("--medcon-index", type=click.Path(file_okay=False), help="QuickUMLS index folder over UMLS."),
        click.option(
            "--medcon-hpo", is_flag=True, help="Use MEDCON-HPO, an approximate open vocabulary (never comparable)."
        ),
    )
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def report_stderr_notes(report: ScoreReport, output: Output, *, prefix: str = "", unavailable: bool = True) -> None:
    """Validation warnings on stderr; in JSON mode also each unavailable metric family once (the text table
    shows them itself)."""
    for warning in report.warnings:
        click.echo(f"warning: {prefix}{safe_text(warning)}", err=True)
    if output.format == "json" and unavailable:
        for family, why in report.unavailable.items():
            click.echo(safe_text(f"unavailable: {family}: {why.reason} (fix: {why.fix})"), err=True)


@click.command("score")
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@data_options
@task_options()
@case_ids_option("Score")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="One submission: write its report to this FILE.json. Several (or a folder): a DIR for one report each.",
)
@leaderboard_db_option(
    "Also add every report to this leaderboard database (labelled by the submission's folder or file name)."
)
@scoring_options
@judge_option
@output_options()
@report_errors
def score_command(
    submissions: tuple[Path, ...],
    data: str,
    split: str,
    task: Task,
    case_ids: list[str] | None,
    out: Path | None,
    leaderboard_db: Path | None,
    scoring: ScoringOptions,
    judge_config: str | None,
    output: Output,
) -> None:
    """Score SUBMISSIONS (submission.json files, zips holding one, or folders of them) against --data/--split."""
    from archehr.judge_cli import apply_judge, check_judge_task, judge_text
    from metrics.many import format_summary_text, read_submissions, score_many, summary_rows
    from metrics.scoring import SubmissionScorer

    if judge_config is not None:
        check_judge_task(task)
    many = len(submissions) > 1 or any(p.is_dir() for p in submissions)
    if out is not None and many and out.suffix.lower() == ".json":
        raise click.UsageError("--out must be a folder when several submissions are scored (one report each)")
    named = read_submissions(submissions)
    target = load_split(data, split)
    with third_party_prints_to_log():
        scorer = SubmissionScorer(target, task, case_ids=case_ids, options=scoring)
        reports = score_many(scorer, named)
    if judge_config is not None:  # the judge's cache lies next to the single report, else next to each submission
        reports = [
            apply_judge(report, sub.entries, target, task, judge_config, out=None if many else out, submission=sub.path)
            for sub, report in zip(named, reports, strict=True)
        ]
    paths = _write_reports(named, reports, out, many)
    if leaderboard_db is not None:
        _add_to_leaderboard(leaderboard_db, named, reports, paths)
    if many:
        rows = summary_rows(named, reports)
        for row, path in zip(rows, paths, strict=True):
            row["report"] = None if path is None else str(path)
        output.emit({"submissions": rows}, lambda decimals: format_summary_text(rows))
    else:
        data_out = reports[0].to_json()
        output.emit(data_out, lambda decimals: score_table(data_out, decimals) + judge_text(data_out, decimals))
    for index, (sub, report) in enumerate(zip(named, reports, strict=True)):
        report_stderr_notes(report, output, prefix=f"{sub.name}: " if many else "", unavailable=index == 0)


def _write_reports(
    named: Sequence[NamedSubmission], reports: Sequence[ScoreReport], out: Path | None, many: bool
) -> list[Path | None]:
    if out is None:
        return [None] * len(reports)
    if not many and (out.suffix.lower() == ".json" or not out.is_dir()):
        return [reports[0].write(out)]
    return [report.write(out / f"{sub.name}.json") for sub, report in zip(named, reports, strict=True)]


def _add_to_leaderboard(
    db: Path, named: Sequence[NamedSubmission], reports: Sequence[ScoreReport], paths: Sequence[Path | None]
) -> None:
    """Add every report (all checked first: nothing is added when one cannot be)."""
    from leaderboard.api import add_prepared
    from leaderboard.ingest import entry_from_report
    from leaderboard.store import LeaderboardStore

    prepared, problems = [], []
    for sub, report, path in zip(named, reports, paths, strict=True):
        data = report.to_json()
        try:
            label = None if report.system else sub.name
            prepared.append((entry_from_report(data, system=label, source=str(path or sub.path)), data))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    with LeaderboardStore(db) as store:
        for result in add_prepared(store, prepared):
            note = "added" if result.added else "already on the board"
            click.echo(f"leaderboard: {result.entry.system} {note} as #{result.entry.id} in {db}", err=True)
