"""``archehr score``: score submissions against a split's key with the official rules.

One submission file: prints its score report as JSON on stdout (and writes it with ``--out FILE.json``).
Several (files, zips or folders of them): one process, one key, every metric prepared once on the
references (:mod:`metrics.many`); ``--out DIR`` writes one report per submission (``DIR/<name>.json``),
stdout gets a JSON summary (one row per submission, paths of the reports) and stderr a text table.
``--leaderboard DB`` adds every report to a leaderboard database. Each validation warning and unavailable
metric is one line on stderr; exit 0 when scored (partial reports included), 1 when a submission or the
key is refused (one line per problem, nothing written), 2 on a usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from harness.cli_support import (
    case_ids_option,
    data_options,
    print_json,
    report_errors,
    require_subtask,
    subtask_option,
    year_option,
)
from harness.data.loader import load_dataset
from harness.data.model import Split
from harness.errors import InputError
from metrics.alignscore import TRUNCATION_MODES


def _load_split(data: str, split: str) -> Split:
    try:
        return load_dataset(data).split(split)
    except KeyError as exc:
        raise InputError.one(str(exc.args[0]), file=data, field="split") from None


@click.command("score")
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@data_options
@subtask_option
@year_option
@case_ids_option("Score")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="One submission: write its report to this FILE.json. Several (or a folder): a DIR for one report each.",
)
@click.option(
    "--leaderboard",
    "leaderboard_db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also add every report to this leaderboard database.",
)
@click.option("--lexical-only", is_flag=True, help="Skip BERTScore, AlignScore and MEDCON (overall becomes partial).")
@click.option("--bertscore-model", type=click.Path(file_okay=False), help="Local distilbert-base-uncased folder.")
@click.option(
    "--bertscore-standin", is_flag=True, help="Use the packaged MiniLM instead (never comparable to the leaderboard)."
)
@click.option("--alignscore-ckpt", type=click.Path(dir_okay=False), help="AlignScore-base.ckpt file.")
@click.option("--alignscore-base", type=click.Path(file_okay=False), help="Local roberta-base folder for AlignScore.")
@click.option("--trust-checkpoint", is_flag=True, help="Allow full unpickling of the AlignScore checkpoint.")
@click.option(
    "--alignscore-truncation",
    type=click.Choice(TRUNCATION_MODES),
    default="official",
    show_default=True,
    help="Fallback when a claim is too long: the official whole batch of 8, or only that pair (own signature).",
)
@click.option("--medcon-index", type=click.Path(file_okay=False), help="QuickUMLS index folder built over UMLS.")
@click.option("--medcon-hpo", is_flag=True, help="Use MEDCON-HPO, an approximate open vocabulary (never comparable).")
@report_errors
def score_command(
    submissions: tuple[Path, ...],
    data: str,
    split: str,
    subtask: int | None,
    year: str,
    case_ids: list[str] | None,
    out: Path | None,
    leaderboard_db: Path | None,
    lexical_only: bool,
    bertscore_model: str | None,
    bertscore_standin: bool,
    alignscore_ckpt: str | None,
    alignscore_base: str | None,
    trust_checkpoint: bool,
    alignscore_truncation: str,
    medcon_index: str | None,
    medcon_hpo: bool,
) -> None:
    """Score SUBMISSIONS (submission.json files, zips holding one, or folders of them) against --data/--split."""
    from metrics.many import read_submissions, score_many
    from metrics.scoring import ScoringOptions, SubmissionScorer

    if year == "2025" and subtask is not None:
        raise click.UsageError("--subtask is not used with --year 2025 (the 2025 task has no subtasks)")
    require_subtask(subtask, year)
    many = len(submissions) > 1 or any(p.is_dir() for p in submissions)
    if out is not None and many and out.suffix.lower() == ".json":
        raise click.UsageError("--out must be a folder when several submissions are scored (one report each)")
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
    named = read_submissions(submissions)
    scorer = SubmissionScorer(_load_split(data, split), subtask=subtask, year=year, case_ids=case_ids, options=options)
    reports = score_many(scorer, named)
    paths = _write_reports(named, reports, out, many)
    if leaderboard_db is not None:
        _add_to_leaderboard(leaderboard_db, named, reports, paths)
    if many:
        _print_summary(named, reports, paths)
    else:
        print_json(reports[0].to_json())
    for sub, report in zip(named, reports, strict=True):
        prefix = f"{sub.name}: " if many else ""
        for warning in report.warnings:
            click.echo(f"warning: {prefix}{warning}", err=True)
    for family, why in _unavailable(reports).items():
        click.echo(f"unavailable: {family}: {why.reason} (fix: {why.fix})", err=True)


def _write_reports(named: list[Any], reports: list[Any], out: Path | None, many: bool) -> list[Path | None]:
    if out is None:
        return [None] * len(reports)
    if not many and (out.suffix.lower() == ".json" or not out.is_dir()):
        return [reports[0].write(out)]
    return [report.write(out / f"{sub.name}.json") for sub, report in zip(named, reports, strict=True)]


def _add_to_leaderboard(db: Path, named: list[Any], reports: list[Any], paths: list[Path | None]) -> None:
    """Add every report (all checked first: nothing is added when one cannot be)."""
    from leaderboard.ingest import entry_from_report, find_run_card
    from leaderboard.store import LeaderboardStore

    prepared, problems = [], []
    for sub, report, path in zip(named, reports, paths, strict=True):
        data = report.to_json()
        card = find_run_card(sub.path, report.split, report.subtask)
        try:
            entry = entry_from_report(data, system=None if card else sub.name, source=str(path or sub.path))
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        prepared.append((entry, data))
    if problems:
        raise InputError(problems)
    with LeaderboardStore(db) as store:
        for entry, data in prepared:
            result = store.add(entry, data)
            note = "added" if result.added else "already on the board"
            click.echo(f"leaderboard: {entry.system} {note} as #{result.entry.id} in {db}", err=True)


def _print_summary(named: list[Any], reports: list[Any], paths: list[Path | None]) -> None:
    from metrics.many import format_summary_text, summary_rows

    rows = summary_rows(named, reports)
    for row, path in zip(rows, paths, strict=True):
        row["report"] = None if path is None else str(path)
    print_json({"submissions": rows})
    click.echo(format_summary_text(rows), err=True)


def _unavailable(reports: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for report in reports:
        for family, why in report.unavailable.items():
            out.setdefault(family, why)
    return out
