"""``archehr leaderboard``: add score reports, show and export the board, compare two entries, write the page.

Register with ``cli.add_command(leaderboard_group)``. Exit codes: 0 ok, 1 a failed check (bad report,
entries not comparable), 2 a usage error (unknown entry, bad option).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from harness.cli_support import EXIT_FAILED_CHECK, Output, output_options, parse_config_overrides, report_errors
from harness.tasks import UnknownTaskError, get_task
from leaderboard.schema import YEARS
from leaderboard.store import ENV_DB, LeaderboardStore, UnknownEntryError, default_db_path

if TYPE_CHECKING:
    from leaderboard.bias import BiasExperiment
    from leaderboard.store import BiasAddResult

F = TypeVar("F", bound=Callable[..., Any])


def _db_option(func: F) -> F:
    return click.option(
        "--db",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=ENV_DB,
        show_envvar=True,
        default=None,
        help="Leaderboard database [default: ./.archehr/leaderboard.sqlite].",
    )(func)


def leaderboard_db_option(help_text: str) -> Callable[[F], F]:
    """``--leaderboard DB``: also add what the command computes to this leaderboard database (the command gets
    ``leaderboard_db``); shared by ``archehr score`` and ``archehr judge bias``."""
    return click.option(
        "--leaderboard", "leaderboard_db", type=click.Path(dir_okay=False, path_type=Path), help=help_text
    )


def add_bias_results(store: LeaderboardStore, experiments: Sequence[BiasExperiment]) -> list[BiasAddResult]:
    """Add checked judge bias results to ``store``, with a note on stderr for each one already there."""
    from leaderboard.api import add_bias

    results = add_bias(store, experiments)
    for r in results:
        if not r.added:
            where = r.experiment.source or "this judge bias result"
            click.echo(f"note: {where} is already on the board as judge bias experiment #{r.experiment.id}", err=True)
    return results


def _filter_options(func: F) -> F:
    """``--task ID`` (e.g. ``2026/3``, ``fhir/1``) or its parts ``--year``/``--subtask``, and ``--split``."""

    @functools.wraps(func)
    def wrapper(*args: Any, task_id: str | None, year: str | None, subtask: int | None, **kwargs: Any) -> Any:
        if task_id is not None:
            try:
                task = get_task(task_id)
            except UnknownTaskError as exc:
                raise click.UsageError(str(exc)) from None
            if (year is not None and year != task.edition) or (subtask is not None and subtask != task.number):
                raise click.UsageError(f"--task {task.id} disagrees with --year/--subtask; give --task alone")
            year, subtask = task.edition, task.number
        return func(*args, year=year, subtask=subtask, **kwargs)

    wrapper = click.option("--split", default=None, help="Only this split (e.g. test-2026).")(wrapper)
    wrapper = click.option("--subtask", type=click.IntRange(1, 4), default=None, help="Only this subtask.")(wrapper)
    wrapper = click.option(
        "--year", type=click.Choice(YEARS), default=None, help="Only this task year (fhir: the FHIR track)."
    )(wrapper)
    return click.option("--task", "task_id", default=None, help="Only this task, e.g. 2026/3 or fhir/1.")(wrapper)  # type: ignore[return-value]


def _open(db: Path | None, *, must_exist: bool = False) -> LeaderboardStore:
    path = db if db is not None else default_db_path()
    if must_exist and not path.exists():
        raise click.UsageError(f"no leaderboard database at {path}; add reports first with `archehr leaderboard add`")
    return LeaderboardStore(path)


def _entry(store: LeaderboardStore, ref: str, param: str) -> Any:
    try:
        return store.resolve(ref)
    except UnknownEntryError as exc:
        raise click.BadParameter(str(exc), param_hint=param) from None


@click.group("leaderboard")
def leaderboard_group() -> None:
    """Compare score reports: a local SQLite board, terminal table, HTML page, paired significance tests.

    Numbers share a column only when split, case ids, answer key and metric signature agree.
    """


@leaderboard_group.command("add")
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--system", default=None, help="System name for reports that carry none (overrides the report's).")
@_db_option
@output_options()
@report_errors
def add_command(reports: tuple[Path, ...], system: str | None, db: Path | None, output: Output) -> None:
    """Add score reports (REPORT.json files, or folders holding score.json files) and LLM-judge bias results
    (`archehr judge bias --out FILE.json`: their own table, never ranked)."""
    from leaderboard.api import add_prepared, prepare_files

    prepared = prepare_files(reports, system=system)  # a bad file leaves no database behind
    with _open(db) as store:
        results = add_prepared(store, prepared.reports)
        bias_results = add_bias_results(store, prepared.bias)
        path = str(store.path)
    for r in results:
        if not r.added:
            click.echo(f"note: {r.entry.source} is already on the board as #{r.entry.id}", err=True)
    data: dict[str, Any] = {
        "db": path,
        "entries": [
            {
                "entry_id": r.entry.id,
                "added": r.added,
                "system": r.entry.system,
                "subtask": r.entry.subtask,
                "split": r.entry.split,
                "n_cases": len(r.entry.case_ids),
                "partial": r.entry.partial,
                "source": r.entry.source,
            }
            for r in results
        ],
    }
    if bias_results:
        data["judge_bias"] = [_bias_added(r) for r in bias_results]
    output.emit(data)


def _bias_added(result: BiasAddResult) -> dict[str, Any]:
    e = result.experiment
    return {
        "bias_id": e.id,
        "added": result.added,
        "task": e.task,
        "split": e.split,
        "n_cases": len(e.case_ids),
        "systems": [r.system for r in e.rows()],
        "source": e.source,
    }


@leaderboard_group.command("show")
@_filter_options
@click.option("--all-columns", is_flag=True, help="Show secondary metrics too (rouge1, macro scores …).")
@click.option("--signatures/--no-signatures", default=True, show_default=True, help="Print each column's signature.")
@_db_option
@output_options(legacy_json_flag=True)
@report_errors
def show_command(
    year: str | None,
    subtask: int | None,
    split: str | None,
    all_columns: bool,
    signatures: bool,
    db: Path | None,
    output: Output,
) -> None:
    """The board: one table per comparable group, ↑/↓ per metric, the best value highlighted."""
    from leaderboard.api import load_tables, tables_json
    from leaderboard.bias import bias_json

    path = db if db is not None else default_db_path()
    tables, bias = [], []
    if path.exists():
        with _open(path) as store:
            tables = load_tables(store, year=year, subtask=subtask, split=split)
            bias = store.bias_experiments(year=year, subtask=subtask, split=split)
    else:
        click.echo(f"note: no leaderboard database at {path} yet", err=True)

    def text(decimals: int) -> str:
        from leaderboard.render_text import render_tables, stdout_console

        console = stdout_console()
        with console.capture() as captured:
            render_tables(tables, console, all_columns=all_columns, signatures=signatures, bias=bias)
        return captured.get().rstrip("\n")

    output.emit({**tables_json(tables), **bias_json(bias)}, text)


@leaderboard_group.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "markdown", "latex"]),
    required=True,
    help="csv/json for scripts; markdown/latex tables for papers (rank clusters, best in bold, CI).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File (default: stdout).")
@click.option("--no-per-case", is_flag=True, help="JSON: leave out per-case values.")
@click.option("--all-columns", is_flag=True, help="Markdown/LaTeX: secondary metrics too.")
@click.option(
    "--resamples", type=click.IntRange(min=100), default=10_000, show_default=True, help="Bootstrap resamples."
)
@click.option("--seed", type=int, default=12345, show_default=True, help="Bootstrap seed.")
@_filter_options
@_db_option
@report_errors
def export_command(
    fmt: str,
    out: Path | None,
    no_per_case: bool,
    all_columns: bool,
    resamples: int,
    seed: int,
    year: str | None,
    subtask: int | None,
    split: str | None,
    db: Path | None,
) -> None:
    """Export the board: CSV in long form (one value per row, with signature and case set), JSON, or Markdown and
    LaTeX tables. Every format carries the rank clusters (paired bootstrap on each table's ranked column); JSON and
    Markdown also the LLM-judge bias experiments, in a section of their own."""
    import json

    from harness.atomic import atomic_write_text
    from leaderboard.comparability import build_tables
    from leaderboard.export import to_csv, to_json, to_latex, to_markdown
    from leaderboard.table_significance import table_significance

    with _open(db, must_exist=True) as store:
        entries = store.entries(year=year, subtask=subtask, split=split)
        bias = store.bias_experiments(year=year, subtask=subtask, split=split)
    tables = build_tables(entries)
    significance = {t.id: table_significance(t, resamples=resamples, seed=seed) for t in tables}
    if fmt == "csv":
        text = to_csv(tables, significance)
    elif fmt == "markdown":
        text = to_markdown(tables, significance, all_columns=all_columns, bias=bias)
    elif fmt == "latex":
        text = to_latex(tables, significance, all_columns=all_columns)
    else:
        data = to_json(tables, entries, per_case=not no_per_case, significance=significance, bias=bias)
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(out, text)
        click.echo(f"wrote {out}", err=True)


@leaderboard_group.command("compare")
@click.argument("entry_a")
@click.argument("entry_b")
@click.option("--metric", default="overall_score", show_default=True, help="Output key to compare.")
@click.option(
    "--method",
    type=click.Choice(["both", "bootstrap", "randomization"]),
    default="both",
    show_default=True,
    help="Paired bootstrap (CI and p-value), approximate randomisation (p-value), or both.",
)
@click.option("--resamples", type=click.IntRange(min=100), default=10_000, show_default=True)
@click.option("--seed", type=int, default=12345, show_default=True)
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@_db_option
@output_options(legacy_json_flag=True)
@report_errors
def compare_command(
    entry_a: str,
    entry_b: str,
    metric: str,
    method: str,
    resamples: int,
    seed: int,
    confidence: float,
    db: Path | None,
    output: Output,
) -> None:
    """Is ENTRY_A better than ENTRY_B? Paired tests over their per-case scores on the same cases.

    Entries are ids from `show` (3 or #3), a unique system name, or a report digest prefix.
    """
    from leaderboard.compare import METHODS, compare_entries

    with _open(db, must_exist=True) as store:
        a, b = _entry(store, entry_a, "ENTRY_A"), _entry(store, entry_b, "ENTRY_B")
    methods = METHODS if method == "both" else (method,)
    result = compare_entries(a, b, key=metric, methods=methods, resamples=resamples, seed=seed, confidence=confidence)
    output.emit(result.to_json(), lambda decimals: _compare_text(result, decimals))


def _compare_text(result: Any, decimals: int = 2) -> str:
    from leaderboard.formatting import id_ranges

    first = result.tests[0]
    lines = [
        f"{result.a.label} vs {result.b.label} · {result.metric.key} on {result.a.split} "
        f"({len(result.case_ids)} cases: {id_ranges(result.case_ids)})",
        f"  A = {first.a:.{decimals}f}   B = {first.b:.{decimals}f}   A - B = {first.delta:+.{decimals}f}",
    ]
    for t in result.tests:
        if t.ci_low is not None:
            lines.append(
                f"  paired bootstrap: {t.confidence:.0%} CI [{t.ci_low:+.{decimals}f}, {t.ci_high:+.{decimals}f}], "
                f"p = {t.p_value:.4f}"
            )
        else:
            lines.append(f"  approximate randomisation: p = {t.p_value:.4f}")
    lines.append(f"  metric signature: {result.metric.signature}")
    lines.extend(f"  test signature:   {t.signature}" for t in result.tests)
    return "\n".join(lines)


@leaderboard_group.command("html")
@click.argument("out_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), help="Folder for index.html.")
@click.option(
    "--data",
    default=None,
    help="Data folder (official layout) the reports were scored on: gold for the case drill-down. "
    "The bundled synthetic data is recognised without it.",
)
@click.option(
    "--include-case-text",
    is_flag=True,
    help="Show case text of --data (note sentences, questions, references). Credentialed: do not share the page.",
)
@click.option(
    "--resamples", type=click.IntRange(min=100), default=10_000, show_default=True, help="Bootstrap resamples."
)
@click.option("--seed", type=int, default=12345, show_default=True, help="Bootstrap seed.")
@click.option(
    "--figures",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Published figures shown as reference rows [default: ./reproduce.yaml, else the harness's own].",
)
@_filter_options
@_db_option
@output_options()
@report_errors
def html_command(
    out_dir: Path | None,
    out: Path | None,
    data: str | None,
    include_case_text: bool,
    resamples: int,
    seed: int,
    figures: Path | None,
    year: str | None,
    subtask: int | None,
    split: str | None,
    db: Path | None,
    output: Output,
) -> None:
    """Write OUT/index.html: a self-contained page (provenance, tables with significance clusters, charts,
    per-case drill-down, system cards, signatures). The folder is --out (a positional OUT_DIR is still read)."""
    from archehr.published import published_references
    from archehr.reproduce import FiguresError

    if (out_dir is None) == (out is None):
        raise click.UsageError("give the page's folder once: --out DIR")
    out_dir = out or out_dir
    from leaderboard.api import load_tables
    from leaderboard.render_html import PageOptions, write_page

    if include_case_text and data is None:
        raise click.UsageError("--include-case-text needs --data DIR (the data folder the reports were scored on)")
    with _open(db, must_exist=True) as store:
        tables = load_tables(store, year=year, subtask=subtask, split=split)
        bias = store.bias_experiments(year=year, subtask=subtask, split=split)
    try:
        references = published_references(tables, figures)
    except FiguresError as exc:
        raise click.UsageError(str(exc)) from None
    options = PageOptions(
        data=data, include_case_text=include_case_text, resamples=resamples, seed=seed, references=references
    )
    page = write_page(tables, out_dir, options=options, bias=bias)
    if include_case_text:
        click.echo(f"note: {page} contains credentialed case text: do not share it", err=True)
    summary = {"html": str(page), "tables": len(tables), "entries": sum(len(t.rows) for t in tables)}
    output.emit({**summary, "judge_bias": len(bias)} if bias else summary)


@leaderboard_group.command("rm")
@click.argument("entry_ids", nargs=-1, required=True, type=int)
@click.option("--bias", "bias", is_flag=True, help="The ids are LLM-judge bias experiments (`show` lists them).")
@_db_option
@output_options()
@report_errors
def rm_command(entry_ids: tuple[int, ...], bias: bool, db: Path | None, output: Output) -> None:
    """Remove entries (or, with --bias, judge bias experiments) by id (all or none)."""
    with _open(db, must_exist=True) as store:
        try:
            (store.remove_bias if bias else store.remove)(*entry_ids)
        except UnknownEntryError as exc:
            raise click.BadParameter(str(exc), param_hint="ENTRY_IDS") from None
    output.emit({"removed_bias" if bias else "removed": list(entry_ids)})


@click.command("reproduce")
@click.option(
    "--data", default=None, help="Folder with the real ArchEHR-QA splits (official layout); 'synthetic' skips."
)
@click.option("--only", "only", multiple=True, help="Figure id or glob (repeatable), e.g. 'qunlp-st3-*'.")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="[SYSTEM:]KEY=VALUE",
    help="System config override (repeatable); SYSTEM:KEY=VALUE reaches only that system's figures.",
)
@click.option(
    "--figures",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Figures file [default: ./reproduce.yaml, else the harness's own].",
)
@click.option(
    "--out",
    "--work-dir",
    "work_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".archehr") / "reproduce",
    show_default=True,
    help="Folder for the runs, submissions and score reports.",
)
@output_options(legacy_json_flag=True)
@click.pass_context
@report_errors
def reproduce_command(
    ctx: click.Context,
    data: str | None,
    only: tuple[str, ...],
    overrides: tuple[str, ...],
    figures: Path | None,
    work_dir: Path,
    output: Output,
) -> None:
    """Check published figures: one line per figure, OK / FAIL (expected, got, tolerance) / SKIP (what to supply).

    Exit 0 only when nothing failed.
    """
    from archehr.reproduce import FiguresError, check_overrides, context_lines, load_figures, reproduce

    settings = parse_config_overrides(None, overrides)
    try:
        book = load_figures(figures)
        chosen = book.select(only)
        check_overrides(chosen, settings)
    except FiguresError as exc:
        raise click.UsageError(str(exc)) from None
    # Tests inject a runner through the context object: ``invoke(..., obj={"reproduce_runner": fake})``.
    runner = ctx.obj.get("reproduce_runner") if isinstance(ctx.obj, dict) else None
    outcomes = reproduce(chosen, data, overrides=settings, runner=runner, work_dir=work_dir)

    def text(decimals: int) -> str:
        lines = [outcome.line() for outcome in outcomes]
        if not only:
            lines += context_lines(book)
        return "\n".join(lines)

    output.emit({"figures_file": book.path, "outcomes": [o.to_json() for o in outcomes]}, text)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("OK", "FAIL", "SKIP")}
    click.echo(f"{counts['OK']} ok, {counts['FAIL']} failed, {counts['SKIP']} skipped", err=True)
    if any(o.status == "FAIL" for o in outcomes):
        raise SystemExit(EXIT_FAILED_CHECK)
