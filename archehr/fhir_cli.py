"""``archehr fhir …``: the FHIR patient-record QA track (register with ``cli.add_command(fhir_group)``).

- ``fhir data build --out DIR`` (synthetic, seeded) or ``--bundles DIR [--questions FILE]`` (your own);
- ``fhir data stats DIR``;
- ``fhir run SYSTEM --data DIR --split test --task fhir/1|fhir/2 --out RUN`` (any registered system answering the
  matching ArchEHR-QA subtask: task 1 ↔ subtask 2, task 2 ↔ subtask 3);
- ``fhir score SUBMISSION --data DIR --split test --task fhir/1|fhir/2 [--out REPORT]``;
- ``fhir forgetting --data DIR --out DIR``: the sequential fine-tuning experiment.

Results on stdout (text on a terminal, JSON otherwise; ``--format``), logs on stderr;
exit 0 ok, 1 a failed check (bad input, refused submission), 2 usage.
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import click

from archehr.report_text import score_table
from fhirqa.model import FhirDataset, FhirTask
from harness.cli_support import (
    Output,
    config_options,
    output_options,
    parse_config_overrides,
    render_text,
    report_errors,
    run_options,
    safe_text,
    show_progress,
    system_argument,
    third_party_prints_to_log,
)
from harness.errors import InputError


@click.group("fhir")
def fhir_group() -> None:
    """The FHIR patient-record QA track: relevant resources (task 1) and answers (task 2)."""


_FHIR_TASKS = {"1": 1, "2": 2, "fhir/1": 1, "fhir/2": 2}


def _task_option(func: Any) -> Any:
    """``--task fhir/1|fhir/2`` (the task ids of every other command; ``1``/``2`` accepted), an int for the command."""

    def parse(ctx: click.Context, param: click.Parameter, value: str) -> int:
        return _FHIR_TASKS[value]

    return click.option(
        "--task",
        type=click.Choice(list(_FHIR_TASKS)),
        required=True,
        callback=parse,
        help="fhir/1: relevant resource ids; fhir/2: answer text (1 and 2 accepted).",
    )(func)


def _question_ids_option(verb: str) -> Any:
    """``--case-ids`` (alias ``--question-ids``): repeatable, space- or comma-separated, like every command."""
    return click.option(
        "--case-ids",
        "--question-ids",
        "question_ids",
        multiple=True,
        help=f"{verb} only these questions (ids, space or comma separated; repeatable).",
    )


def _data_option(func: Any) -> Any:
    func = click.option("--split", required=True, help="Split folder, e.g. train, dev, test.")(func)
    return click.option(
        "--data", required=True, type=click.Path(file_okay=False), help="FHIR track data folder (fhir data build)."
    )(func)


def _question_ids(values: tuple[str, ...]) -> list[str] | None:
    return [p for v in values for p in v.replace(",", " ").split()] or None


def _load(data: str) -> FhirDataset:
    from fhirqa.dataset import load_fhir_dataset

    return load_fhir_dataset(data)


# ----------------------------------------------------------------------------- data


@fhir_group.group("data")
def data_group() -> None:
    """Build and describe FHIR track data folders."""


@data_group.command("build")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Data folder to write.")
@click.option("--seed", type=int, default=13, show_default=True, help="Seed of everything generated.")
@click.option("--patients", type=click.IntRange(3), default=30, show_default=True, help="Synthetic patients.")
@click.option("--questions-per-patient", type=click.IntRange(1), default=6, show_default=True)
@click.option("--bundles", type=click.Path(exists=True, file_okay=False), help="Your FHIR bundles (e.g. Synthea).")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), help="Your questions file (with --bundles).")
@click.option("--split", "default_split", default="test", show_default=True, help="Split of questions naming none.")
@output_options()
@report_errors
def data_build(
    out: str,
    seed: int,
    patients: int,
    questions_per_patient: int,
    bundles: str | None,
    questions: str | None,
    default_split: str,
    output: Output,
) -> None:
    """Write a data folder: synthetic bundles (carebundle), or your bundles with generated or given questions."""
    from fhirqa.build import BuildOptions, build_from_bundles, build_synthetic

    if questions and not bundles:
        raise click.UsageError("--questions needs --bundles")
    if Path(out).exists() and any(Path(out).iterdir()):
        raise click.UsageError(f"{out} exists and is not empty; choose a new folder")
    options = BuildOptions(seed=seed, patients=patients, questions_per_patient=questions_per_patient)
    if bundles:
        dataset = build_from_bundles(out, bundles, options, questions, default_split)
    else:
        dataset = build_synthetic(out, options)
    output.emit({"root": dataset.root, **_stats(dataset)})


@data_group.command("stats")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@output_options()
@report_errors
def data_stats(folder: str, output: Output) -> None:
    """Counts per split: questions, records, categories, relevant resources per question."""
    output.emit({"root": folder, **_stats(_load(folder))})


def _stats(dataset: FhirDataset) -> dict[str, Any]:
    types = Counter(i.resource_type for r in dataset.records.values() for i in r.items)
    sizes = [len(r.items) for r in dataset.records.values()]
    splits = {}
    for name, questions in dataset.splits.items():
        relevant = [len(q.relevant_ids) for q in questions if q.relevant_ids is not None]
        splits[name] = {
            "questions": len(questions),
            "records": len({q.record_id for q in questions}),
            "annotated": sum(q.annotated for q in questions),
            "categories": dict(sorted(Counter(q.category or "none" for q in questions).items())),
            "relevant_per_question": _summary(relevant),
            "no_relevant_resource": sum(1 for n in relevant if n == 0),
        }
    return {
        "manifest": dict(dataset.manifest),
        "records": len(dataset.records),
        "items_per_record": _summary(sizes),
        "resource_types": dict(sorted(types.items())),
        "splits": splits,
    }


def _summary(values: list[int]) -> dict[str, float] | None:
    if not values:
        return None
    return {"mean": round(statistics.fmean(values), 2), "min": min(values), "max": max(values)}


# ----------------------------------------------------------------------------- run and score


@fhir_group.command("run")
@system_argument
@_data_option
@_task_option
@run_options(_question_ids_option("Run"))
@output_options()
@report_errors
def run_command(
    system: str,
    data: str,
    split: str,
    task: int,
    out: str,
    question_ids: tuple[str, ...],
    config_file: str | None,
    settings: tuple[str, ...],
    batch_size: int,
    fresh: bool,
    output: Output,
) -> None:
    """Run SYSTEM on a FHIR split; writes predictions (resumable) and OUT/submission.json."""
    from archehr.pipeline import brief, run_system
    from fhirqa.dataset import to_split
    from harness.data import inputs_for

    fhir_task = FhirTask(task)
    chosen = _question_ids(question_ids)
    harness_split = _split(data, split, chosen, to_split)
    cases = inputs_for(harness_split, fhir_task.subtask)
    with third_party_prints_to_log():
        summary = run_system(
            system,
            harness_split,
            cases,
            fhir_task.subtask,
            Path(out),
            config=parse_config_overrides(config_file, settings),
            batch_size=batch_size,
            show_progress=show_progress(),
            fresh=fresh,
        )
    result = {"track": "fhir", "task": task, **summary}
    output.emit(result, lambda decimals: render_text(brief(result), decimals))


def _split(data: str, split: str, chosen: list[str] | None, to_split: Any) -> Any:
    dataset = _load(data)
    try:
        return to_split(dataset, split, chosen)
    except KeyError as exc:
        raise InputError.one(str(exc.args[0]), file=data, field="split") from None


@fhir_group.command("score")
@click.argument("submission", type=click.Path(dir_okay=False, path_type=Path))
@_data_option
@_task_option
@_question_ids_option("Score")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report here (atomic).")
@click.option(
    "--wordnet",
    default="auto",
    show_default=True,
    help="METEOR synonyms: 'auto' (Debian wordnet-base when installed), 'none', or a WordNet 3.0 folder.",
)
@output_options()
@report_errors
def score_command(
    submission: Path,
    data: str,
    split: str,
    task: int,
    question_ids: tuple[str, ...],
    out: Path | None,
    wordnet: str,
    output: Output,
) -> None:
    """Score SUBMISSION (submission.json or a zip holding it): task 1 P/R/F1 over resource ids, task 2 METEOR."""
    from fhirqa.dataset import to_split
    from fhirqa.scoring import score_fhir
    from submissions.io import read_submission

    chosen = _question_ids(question_ids)
    harness_split = _split(data, split, None, to_split)
    report = score_fhir(
        read_submission(submission),
        harness_split,
        FhirTask(task),
        question_ids=chosen,
        wordnet=wordnet,
        file=str(submission),
    )
    if out is not None:
        report.write(out)
    for warning in report.warnings:
        click.echo(f"warning: {safe_text(warning)}", err=True)
    data_out = report.to_json()
    output.emit(data_out, lambda decimals: score_table(data_out, decimals))


@fhir_group.command("forgetting")
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False), help="FHIR track data folder.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for the adapters (resumable).")
@click.option("--train-split", default="train", show_default=True)
@click.option("--eval-split", default="test", show_default=True)
@click.option(
    "--tune-split",
    default="dev",
    show_default=True,
    help="Split where each model's task-1 threshold is tuned ('none': the config threshold only).",
)
@config_options(config_help="classify-generate YAML.")
@click.option("--max-questions", type=click.IntRange(1), default=None, help="Evaluate on the first N questions.")
@click.option("--wordnet", default="auto", show_default=True, help="METEOR synonyms: auto, none, or a folder.")
@output_options()
@report_errors
def forgetting_command(
    data: str,
    out: str,
    train_split: str,
    eval_split: str,
    tune_split: str,
    config_file: str | None,
    settings: tuple[str, ...],
    max_questions: int | None,
    wordnet: str,
    output: Output,
) -> None:
    """Train one adapter on task 1 then task 2, and separate adapters; report task-1 scores (F1, average
    precision, ROC AUC) before and after, and task-2 METEOR."""
    from experiments.forgetting import ForgettingOptions, format_table, run_forgetting

    options = ForgettingOptions(
        data,
        out,
        train_split=train_split,
        eval_split=eval_split,
        tune_split=None if tune_split.lower() == "none" else tune_split,
        config=config_file,
        overrides=parse_config_overrides(None, settings),
        max_questions=max_questions,
        wordnet=wordnet,
    )
    with third_party_prints_to_log():
        summary = run_forgetting(options)
    if output.format == "json":
        for row in format_table(summary):
            click.echo(row, err=True)
    output.emit(summary, lambda decimals: "\n".join(format_table(summary)))
