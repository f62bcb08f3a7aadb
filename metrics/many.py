"""Score many submissions against one key in one process (``archehr score SUB1 SUB2 ...``).

One :class:`~metrics.scoring.SubmissionScorer` serves them all: models load once, and every metric prepares
the references once (BLEU/SARI reference tokens, BERTScore reference embeddings, AlignScore contexts chunked
and tokenised, MEDCON reference concepts), reused by each submission. Every submission is read and checked
before any is scored, so a refusal costs no model time and leaves nothing half-written.

The summary is data (:func:`summary_rows`); :func:`format_summary_text` is one way to print it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError, Problem
from metrics.report import ScoreReport
from metrics.scoring import SubmissionScorer

logger = logging.getLogger(__name__)

SUBMISSION_FILES = ("submission.json", "submission.zip")


@dataclass(frozen=True)
class NamedSubmission:
    """A parsed submission, the file it came from and a name unique within one scoring call."""

    name: str
    path: Path
    entries: Any


def expand_submission_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a folder becomes the ``submission.json`` / ``submission.zip`` files under it (any depth;
    a run folder holding both counts once, by its json), or, when it holds none, the ``*.json`` and ``*.zip``
    files directly inside it; sorted per folder."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            out.append(path)
            continue
        found = sorted(p for name in SUBMISSION_FILES for p in path.rglob(name) if p.is_file())
        json_dirs = {p.parent for p in found if p.name == SUBMISSION_FILES[0]}
        found = [p for p in found if p.name == SUBMISSION_FILES[0] or p.parent not in json_dirs]  # zip of the json
        if not found:
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in {".json", ".zip"})
        if not found:
            raise InputError.one("no submission.json, submission.zip, *.json or *.zip in this folder", file=path)
        out.extend(found)
    return list(dict.fromkeys(out))


def submission_name(path: Path) -> str:
    """``runs/a/submission.json`` → ``a``; ``b.json`` / ``b.zip`` → ``b``."""
    if path.name.lower() in SUBMISSION_FILES and path.parent.name:
        return path.parent.name
    return path.stem


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 and names.count(name) == 1 else f"{name}-{seen[name]}")
    return out


def read_submissions(paths: Iterable[str | Path]) -> list[NamedSubmission]:
    """Parse every submission; all problems are reported together (:class:`InputError`)."""
    from submissions.io import read_submission

    files = expand_submission_paths(paths)
    problems: list[Problem] = []
    parsed = []
    for path in files:
        try:
            parsed.append(read_submission(path))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    names = _unique([submission_name(p) for p in files])
    return [NamedSubmission(n, p, e) for n, p, e in zip(names, files, parsed, strict=True)]


def score_many(scorer: SubmissionScorer, submissions: Sequence[NamedSubmission]) -> list[ScoreReport]:
    """Check every submission (all refusals together, nothing scored on any), then score each in turn."""
    problems: list[Problem] = []
    for sub in submissions:
        try:
            scorer.check(sub.entries, file=str(sub.path))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    reports = []
    for number, sub in enumerate(submissions, start=1):
        reports.append(scorer.score(sub.entries, file=str(sub.path)))
        logger.info("scored %d/%d: %s", number, len(submissions), sub.name)
    return reports


def summary_rows(submissions: Sequence[NamedSubmission], reports: Sequence[ScoreReport]) -> list[dict[str, Any]]:
    """One row per submission: name, file, the official keys, overall, partial / comparable flags."""
    rows = []
    for sub, report in zip(submissions, reports, strict=True):
        rows.append(
            {
                "name": sub.name,
                "file": str(sub.path),
                "overall_key": report.overall_key,
                "overall": report.overall_score,
                "scores": dict(report.scores),
                "partial": report.partial,
                "comparable": report.comparable,
                "cases": len(report.case_ids),
            }
        )
    return rows


def format_summary_text(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table of :func:`summary_rows`: one line per submission, best overall first."""
    if not rows:
        return ""
    keys = [k for k in rows[0]["scores"] if k != rows[0]["overall_key"]]
    header = ["name", rows[0]["overall_key"], *keys]

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    ordered = sorted(rows, key=lambda r: (r["overall"] is None, -(r["overall"] or 0.0), r["name"]))
    body = [
        [r["name"] + (" (partial)" if r["partial"] else ""), cell(r["overall"]), *(cell(r["scores"][k]) for k in keys)]
        for r in ordered
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
             for line in [header, *body]]  # fmt: skip
    return "\n".join(lines)
