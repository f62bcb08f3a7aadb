"""What the commands do, callable from Python: add reports, build the tables, render the page.

``archehr demo`` calls :func:`add_reports_and_render` at its end.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import InputError, Problem
from leaderboard.bias import BiasExperiment
from leaderboard.comparability import Table, build_tables
from leaderboard.ingest import bias_from_result, entry_from_report, is_bias_result, read_json
from leaderboard.records import VIEW_SCHEMA_VERSION, Entry
from leaderboard.render_html import write_page
from leaderboard.store import AddResult, BiasAddResult, LeaderboardStore

logger = logging.getLogger(__name__)

#: File name of reports found when a folder is given (``demo-output/<system>/subtask<N>/score.json``).
REPORT_FILE = "score.json"


def expand_report_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders replaced by the ``score.json`` files under them (sorted)."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob(REPORT_FILE))
            if not found:
                raise InputError.one(f"no {REPORT_FILE} under this folder", file=path)
            out.extend(found)
        else:
            out.append(path)
    return out


@dataclass
class Prepared:
    """Files read and checked by :func:`prepare_files`: score reports (entry, report) and judge bias results."""

    reports: list[tuple[Entry, dict[str, Any]]] = field(default_factory=list)
    bias: list[BiasExperiment] = field(default_factory=list)


def prepare_files(paths: Iterable[str | Path], *, system: str | None = None) -> Prepared:
    """Read and check every file without touching any board (all problems reported together). A file with an
    ``experiment`` field is an LLM-judge bias result (``archehr judge bias --out``), anything else a score report;
    ``system`` labels score reports only (a bias result names its systems itself)."""
    prepared = Prepared()
    problems: list[Problem] = []
    for path in expand_report_paths(paths):
        try:
            data = read_json(path)
            if is_bias_result(data):
                prepared.bias.append(bias_from_result(data, source=str(path)))
            else:
                prepared.reports.append((entry_from_report(data, system=system, source=str(path)), data))
        except InputError as exc:
            problems.extend(exc.problems)
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(f"not a readable score report ({type(exc).__name__}: {exc})", file=str(path)))
    if problems:
        raise InputError(problems)
    return prepared


def prepare_reports(paths: Iterable[str | Path], *, system: str | None = None) -> list[tuple[Entry, dict[str, Any]]]:
    """Read and check every score report (all problems reported together) without touching any board."""
    prepared = prepare_files(paths, system=system)
    if prepared.bias:
        raise InputError(
            [
                Problem("a judge bias result, not a score report (`archehr leaderboard add` takes it)", file=e.source)
                for e in prepared.bias
            ]
        )
    return prepared.reports


def add_bias(store: LeaderboardStore, experiments: Sequence[BiasExperiment]) -> list[BiasAddResult]:
    """Add checked judge bias results (:func:`leaderboard.ingest.bias_from_result`) to the board's bias table,
    each in its own transaction; one already on the board is not added twice. The one way in for
    ``archehr leaderboard add`` and ``archehr judge bias --leaderboard``."""
    return [store.add_bias(e) for e in experiments]


def add_prepared(store: LeaderboardStore, prepared: Sequence[tuple[Entry, dict[str, Any]]]) -> list[AddResult]:
    """Add reports read by :func:`prepare_reports`, each in its own transaction; nothing is added when one of
    them is already on the board under another name. A report already on the board is not added twice."""
    problems: list[Problem] = []
    for entry, _ in prepared:
        try:
            _check_same_name(store, entry)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    results = []
    for entry, report in prepared:
        try:
            results.append(store.add(entry, report))
        except ValueError as exc:
            raise InputError.one(str(exc), file=entry.source) from None
    return results


def add_reports(store: LeaderboardStore, paths: Iterable[str | Path], *, system: str | None = None) -> list[AddResult]:
    """Read every report first (all problems reported together, nothing added on any), then add each in its
    own transaction. A report already on the board is not added twice."""
    return add_prepared(store, prepare_reports(paths, system=system))


def _check_same_name(store: LeaderboardStore, entry: Entry) -> None:
    """A report already on the board keeps its name: adding it under another one is refused, naming the first."""
    existing = store.find_digest(entry.digest)
    if existing is not None and existing.system != entry.system:
        raise InputError.one(
            f"this report is already on the board as #{existing.id} named {existing.system!r}, not {entry.system!r};"
            f" to rename it, remove it first (archehr leaderboard rm {existing.id}) and add it again",
            file=entry.source,
            field="system",
        )


def tables_json(tables: Sequence[Table]) -> dict[str, Any]:
    """``show --json``: the comparable tables."""
    return {
        "schema_version": VIEW_SCHEMA_VERSION,
        "harness_version": __version__,
        "tables": [t.to_json() for t in tables],
    }


def load_tables(
    store: LeaderboardStore, *, year: str | None = None, subtask: int | None = None, split: str | None = None
) -> list[Table]:
    return build_tables(store.entries(year=year, subtask=subtask, split=split))


def add_reports_and_render(
    report_paths: Iterable[str | Path], db_path: str | Path | None, html_dir: str | Path
) -> dict[str, Any]:
    """Add reports to the board at ``db_path`` (None: the default), render ``html_dir/index.html``.

    Returns ``{"db", "added", "already_present", "html", "tables"}`` (tables as ``show --json`` prints them).
    """
    with LeaderboardStore(db_path) as store:
        results = add_reports(store, report_paths)
        tables = load_tables(store)
        page = write_page(tables, html_dir, bias=store.bias_experiments())
        db = str(store.path)
    return {
        "db": db,
        "added": [r.entry.id for r in results if r.added],
        "already_present": [r.entry.id for r in results if not r.added],
        "html": str(page),
        **tables_json(tables),
    }
