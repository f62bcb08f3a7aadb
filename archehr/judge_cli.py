"""``archehr judge …`` and ``archehr score --judge``: the LLM judge (not official; docs/llm_judge.md).

``bias`` judges the same answers blind and non-blind and prints the non-blind minus blind difference with its
paired bootstrap interval (per system, and self minus others when the judge's own system is among them);
``agree`` compares a report's judge scores with reference ratings (Spearman, Cohen's kappa) and with the
official per-case metrics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from archehr.leaderboard_cli import leaderboard_db_option
from harness.cli_support import (
    GuardedGroup,
    Output,
    case_ids_option,
    data_options,
    load_split,
    output_options,
    report_errors,
    safe_text,
    task_options,
)
from harness.tasks import Task
from leaderboard.bias import BIAS_EXPERIMENT

if TYPE_CHECKING:
    from metrics.report import ScoreReport

MEAN_KEY = "judge_mean"


#: ``--judge CONFIG.yaml`` of every command that scores (``score``, ``eval``): the command gets ``judge_config``.
judge_option = click.option(
    "--judge",
    "judge_config",
    type=click.Path(exists=True, dir_okay=False),
    help="Add LLM-judge columns from this judge config (never official; docs/llm_judge.md).",
)


def check_judge_task(task: Task) -> None:
    """A usage error for a task the judge does not read (before anything is scored)."""
    from metrics.judge.core import JUDGE_TASKS

    if task.id not in JUDGE_TASKS:
        raise click.UsageError(f"--judge applies to answer tasks ({', '.join(JUDGE_TASKS)}), not --task {task.id}")


def apply_judge(
    report: ScoreReport, entries: Any, split: Any, task: Task, config_path: str, *, out: Path | None, submission: Path
) -> ScoreReport:
    """``archehr score --judge CONFIG``: the report with its judge section; the cache next to ``out`` (else the
    submission) unless the config names a cache folder."""
    from metrics.judge import judge_report, load_config

    config = load_config(config_path)
    cache_dir = (out or submission).resolve().parent
    return judge_report(report, entries, split, task, config, cache_dir=cache_dir, file=str(submission))


def judge_text(report: Mapping[str, Any], decimals: int = 2) -> str:
    """The judge section as text lines ("" without one)."""
    section = report.get("judge")
    if not section:
        return ""
    lines = ["", f"LLM judge (not official) · protocol {section['protocol']} · {section['signature']}"]
    names = {key: section["display"].get(key, key) for key in section["scores"]}
    width = max(map(len, names.values()), default=0)
    for key, value in section["scores"].items():
        shown = "—" if value is None else f"{value:.{decimals}f}"
        lines.append(f"  {names[key]:<{width}}  {shown}")
    lines.append(
        f"  valid cases {section['n_valid']} of {section['n_cases']};"
        f" invalid: {', '.join(section['invalid']) or 'none'}"
    )
    return safe_text("\n".join(lines))


@click.group("judge", cls=GuardedGroup)
def judge_group() -> None:
    """The LLM judge (never official): the bias experiment and agreement with reference ratings."""


def _named(values: Sequence[str]) -> list[tuple[str, Path]]:
    out = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep:
            path, name = value, Path(value).resolve().parent.name
        if not name:
            raise click.UsageError(f"{value!r}: give NAME=SUBMISSION")
        out.append((name, Path(path)))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise click.UsageError(f"system names must differ ({', '.join(names)}); give NAME=SUBMISSION")
    return out


def _rows(result: Any) -> dict[str, float | None]:
    return result.per_case()[MEAN_KEY]


def _difference(
    a: Mapping[str, float | None], b: Mapping[str, float | None], resamples: int, seed: int
) -> dict[str, Any]:
    """Paired bootstrap of mean(a) - mean(b) over the cases valid on both sides."""
    from leaderboard.significance import Leaf, paired_bootstrap

    cases = [c for c in a if a[c] is not None and b.get(c) is not None]
    dropped = len(a) - len(cases)
    if not cases:
        return {"n_cases": 0, "dropped": dropped, "delta": None}
    result = paired_bootstrap(
        Leaf.of([a[c] for c in cases], [b[c] for c in cases], name=MEAN_KEY), resamples=resamples, seed=seed
    )
    return {**result.to_json(), "dropped": dropped}


def bias_experiment(
    judge: Any, systems: Sequence[tuple[str, list[Any]]], *, resamples: int, seed: int
) -> dict[str, Any]:
    """Each system's answers judged blind and non-blind by the same judge; the non-blind minus blind difference
    per system, and (when the judge's own system is among them and another is too) self minus others."""
    from metrics.judge import author_for

    per_system: dict[str, Any] = {}
    deltas: dict[str, dict[str, float | None]] = {}
    for name, items in systems:
        blind = judge.pointwise(items)
        told = judge.pointwise(items, author_for(judge.config, name))
        b, n = _rows(blind), _rows(told)
        deltas[name] = {c: None if b[c] is None or n[c] is None else n[c] - b[c] for c in b}
        per_system[name] = {
            "is_judge": bool(told.author and told.author.is_judge),
            "blind": blind.scores()[MEAN_KEY],
            "non_blind": told.scores()[MEAN_KEY],
            "invalid": {"blind": list(blind.invalid), "non_blind": list(told.invalid)},
            "non_blind_minus_blind": _difference(n, b, resamples, seed),
        }
    self_name = judge.config.judge_system_name
    self_vs_other = None
    others = [s for s in deltas if s != self_name]
    if self_name in deltas and others:
        mine = deltas[self_name]
        theirs: dict[str, float | None] = {}
        for case in mine:
            values = [deltas[o][case] for o in others if deltas[o].get(case) is not None]
            theirs[case] = float(np.mean(values)) if values else None
        self_vs_other = {"self": self_name, "others": others, **_difference(mine, theirs, resamples, seed)}
    return {
        "not_official": True,
        "experiment": BIAS_EXPERIMENT,
        "judge": judge.signature("blind"),
        "judge_non_blind": judge.signature("non-blind"),
        "judge_system_name": self_name,
        "systems": per_system,
        "self_minus_other": self_vs_other,
    }


def _bias_text(result: Mapping[str, Any], decimals: int) -> str:
    def interval(d: Mapping[str, Any]) -> str:
        if d.get("delta") is None:
            return "no case valid in both protocols"
        return (
            f"{d['delta']:+.{decimals}f} [{d['ci_low']:+.{decimals}f}, {d['ci_high']:+.{decimals}f}] "
            f"({d['confidence']:.0%} paired bootstrap, p={d['p_value']:.3g}, {d['n_cases']} cases,"
            f" {d['dropped']} dropped)"
        )

    lines = ["LLM judge bias (not official): non-blind minus blind, judge mean in percent", f"judge: {result['judge']}"]
    for name, row in result["systems"].items():
        tag = " (the judge's own system)" if row["is_judge"] else ""
        lines.append(f"  {name}{tag}: {interval(row['non_blind_minus_blind'])}")
    if result["self_minus_other"] is not None:
        lines.append(f"self minus others: {interval(result['self_minus_other'])}")
    return safe_text("\n".join(lines))


@judge_group.command("bias")
@click.argument("submissions", nargs=-1, required=True)
@data_options
@task_options()
@case_ids_option("Judge")
@click.option(
    "--judge", "config_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Judge config YAML."
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the result JSON here (atomic)."
)
@leaderboard_db_option(
    "Also add the result to this leaderboard database (its own table: LLM judge bias, not official)."
)
@click.option("--resamples", type=click.IntRange(100), default=10_000, show_default=True)
@click.option("--seed", type=int, default=12345, show_default=True, help="Bootstrap seed.")
@output_options()
@report_errors
def bias_command(
    submissions: tuple[str, ...],
    data: str,
    split: str,
    task: Task,
    case_ids: list[str] | None,
    config_path: str,
    out: Path | None,
    leaderboard_db: Path | None,
    resamples: int,
    seed: int,
    output: Output,
) -> None:
    """Judge each SUBMISSION (NAME=PATH; NAME defaults to the file's folder name) blind and non-blind."""
    from archehr.leaderboard_cli import add_bias_results
    from harness.atomic import atomic_write_text
    from leaderboard.ingest import bias_from_result
    from leaderboard.store import LeaderboardStore
    from metrics.judge import Judge, answer_texts, judge_items, load_config
    from submissions.io import read_submission

    check_judge_task(task)
    named = _named(submissions)
    target = load_split(data, split)
    wanted = list(case_ids) if case_ids else [c.case_id for c in target.cases]
    config = load_config(config_path)
    systems = []
    for name, path in named:
        answers = answer_texts(task, read_submission(path), wanted, str(path))
        systems.append((name, judge_items(task, target, answers)))
    judge = Judge.open(config, (out or named[0][1]).resolve().parent)
    try:
        result = bias_experiment(judge, systems, resamples=resamples, seed=seed)
    finally:
        judge.close()
    result.update(task=task.id, split=target.name, case_ids=wanted)
    # checked as `leaderboard add` checks a result file, before anything is written
    experiment = None if leaderboard_db is None else bias_from_result(result, source=None if out is None else str(out))
    if out is not None:
        atomic_write_text(out, json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    if leaderboard_db is not None and experiment is not None:
        with LeaderboardStore(leaderboard_db) as store:
            (added,) = add_bias_results(store, [experiment])
        if added.added:
            click.echo(
                f"leaderboard: judge bias experiment added as #{added.experiment.id} in {leaderboard_db}", err=True
            )
    output.emit(result, lambda decimals: _bias_text(result, decimals))


@judge_group.command("agree")
@click.argument("report_path", metavar="REPORT", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reference", type=click.Path(dir_okay=False, path_type=Path), help="Ratings CSV: case_id,score.")
@click.option("--key", default=MEAN_KEY, show_default=True, help="The judge key compared with the ratings.")
@output_options()
@report_errors
def agree_command(report_path: Path, reference: Path | None, key: str, output: Output) -> None:
    """Agreement of REPORT's judge scores with reference ratings and with its official per-case metrics."""
    from metrics.judge.agreement import cohen_kappa, read_ratings, spearman
    from metrics.judge.core import on_scale
    from metrics.report import ScoreReport

    report = ScoreReport.read(report_path)
    section = report.judge
    if not section:
        raise click.UsageError(f"{report_path} has no judge section (score it with --judge CONFIG)")
    if key not in section["per_case"]:
        raise click.UsageError(f"--key {key}: the judge section has {', '.join(section['per_case'])}")
    judge = {c: v for c, v in section["per_case"][key].items() if v is not None}
    result: dict[str, Any] = {"key": key, "official": section.get("agreement", {}).get(MEAN_KEY), "reference": None}
    if reference is not None:
        ratings = read_ratings(reference)
        cases = [c for c in report.case_ids if c in judge and c in ratings]
        low, high = section["rubric"]["scale"]
        scaled = [on_scale(judge[c], low, high) for c in cases]
        human = [ratings[c] for c in cases]
        integer = all(float(h).is_integer() for h in human)
        result["reference"] = {
            "file": str(reference),
            "n": len(cases),
            "missing": [c for c in report.case_ids if c not in ratings],
            "spearman": spearman([judge[c] for c in cases], human),
            "kappa": cohen_kappa(scaled, [int(h) for h in human]) if integer else None,
            "kappa_quadratic": cohen_kappa(scaled, [int(h) for h in human], weights="quadratic") if integer else None,
        }
    output.emit(result)


@judge_group.command("pairwise")
@click.argument("submissions", nargs=2)
@data_options
@task_options()
@case_ids_option("Judge")
@click.option("--judge", "config_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Config.")
@click.option("--non-blind", is_flag=True, help="Tell the judge which system wrote each answer.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the result JSON here.")
@click.option("--resamples", type=click.IntRange(100), default=10_000, show_default=True)
@click.option("--seed", type=int, default=12345, show_default=True, help="Bootstrap seed.")
@output_options()
@report_errors
def pairwise_command(
    submissions: tuple[str, str],
    data: str,
    split: str,
    task: Task,
    case_ids: list[str] | None,
    config_path: str,
    non_blind: bool,
    out: Path | None,
    resamples: int,
    seed: int,
    output: Output,
) -> None:
    """Compare A and B (NAME=PATH each) case by case, every pair judged in both orders; prints A's preference
    (100: A always better, 50: even) with its bootstrap interval."""
    from harness.atomic import atomic_write_text
    from leaderboard.significance import Leaf, bootstrap_interval
    from metrics.judge import Judge, answer_texts, author_for, judge_items, load_config
    from submissions.io import read_submission

    check_judge_task(task)
    (name_a, path_a), (name_b, path_b) = _named(submissions)
    target = load_split(data, split)
    wanted = list(case_ids) if case_ids else [c.case_id for c in target.cases]
    config = load_config(config_path)
    items = [
        judge_items(task, target, answer_texts(task, read_submission(p), wanted, str(p))) for p in (path_a, path_b)
    ]
    authors = (author_for(config, name_a), author_for(config, name_b)) if non_blind else None
    judge = Judge.open(config, (out or path_a).resolve().parent)
    try:
        result = judge.pairwise(items[0], items[1], authors)  # type: ignore[arg-type]
    finally:
        judge.close()
    values = [100.0 * v["preference_a"] for v in result["per_case"].values() if v["preference_a"] is not None]
    interval = None
    if values:
        found = bootstrap_interval(Leaf.of(values, values, name="preference_a"), resamples=resamples, seed=seed)
        interval = {"value": found.value, "low": found.low, "high": found.high, "confidence": found.confidence}
    result.update(a=name_a, b=name_b, task=task.id, split=target.name, preference_a_percent=interval)
    if out is not None:
        atomic_write_text(out, json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False) + "\n")

    def text(decimals: int) -> str:
        head = f"LLM judge pairwise (not official), {result['protocol']}, both orders: {name_a} vs {name_b}"
        if interval is None:
            return safe_text(f"{head}\nno case with a valid verdict in both orders")
        shown = f"{interval['value']:.{decimals}f} [{interval['low']:.{decimals}f}, {interval['high']:.{decimals}f}]"
        return safe_text(
            f"{head}\npreference for {name_a}: {shown} (50 = even; {result['n_valid']} cases,"
            f" {result['position_consistent']} position-consistent, invalid: {', '.join(result['invalid']) or 'none'})"
        )

    output.emit(result, text)
