"""``archehr score``: score a submission file against a split's key with the official rules.

Prints the score report as JSON on stdout (and writes it with ``--out``), each validation warning and
unavailable metric as one line on stderr; exit 0 when scored (a partial report included), 1 when the
submission or the key is refused (one line per problem), 2 on a usage error.
"""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli_support import (
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


def _load_split(data: str, split: str) -> Split:
    try:
        return load_dataset(data).split(split)
    except KeyError as exc:
        raise InputError.one(str(exc.args[0]), file=data, field="split") from None


def _read(path: Path) -> object:
    from submissions.io import read_submission

    return read_submission(path)


@click.command("score")
@click.argument("submission", type=click.Path(dir_okay=False, path_type=Path))
@data_options
@task_options()
@case_ids_option("Score")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report here (atomic).")
@click.option("--lexical-only", is_flag=True, help="Skip BERTScore, AlignScore and MEDCON (overall becomes partial).")
@click.option("--bertscore-model", type=click.Path(file_okay=False), help="Local distilbert-base-uncased folder.")
@click.option(
    "--bertscore-standin", is_flag=True, help="Use the packaged MiniLM instead (never comparable to the leaderboard)."
)
@click.option("--alignscore-ckpt", type=click.Path(dir_okay=False), help="AlignScore-base.ckpt file.")
@click.option("--alignscore-base", type=click.Path(file_okay=False), help="Local roberta-base folder for AlignScore.")
@click.option("--trust-checkpoint", is_flag=True, help="Allow full unpickling of the AlignScore checkpoint.")
@click.option("--medcon-index", type=click.Path(file_okay=False), help="QuickUMLS index folder built over UMLS.")
@click.option("--medcon-hpo", is_flag=True, help="Use MEDCON-HPO, an approximate open vocabulary (never comparable).")
@report_errors
def score_command(
    submission: Path,
    data: str,
    split: str,
    task: Task,
    case_ids: list[str] | None,
    out: Path | None,
    lexical_only: bool,
    bertscore_model: str | None,
    bertscore_standin: bool,
    alignscore_ckpt: str | None,
    alignscore_base: str | None,
    trust_checkpoint: bool,
    medcon_index: str | None,
    medcon_hpo: bool,
) -> None:
    """Score SUBMISSION (submission.json or a zip holding it) against --data/--split."""
    from metrics.scoring import ScoringOptions, score_submission

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
    entries = _read(submission)
    report = score_submission(
        entries,
        _load_split(data, split),
        task,
        case_ids=case_ids,
        options=options,
        file=str(submission),
    )
    if out is not None:
        report.write(out)
    print_json(report.to_json())
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for family, why in report.unavailable.items():
        click.echo(f"unavailable: {family}: {why.reason} (fix: {why.fix})", err=True)
