"""``archehr reproduce``: check published figures (``reproduce.yaml``) against what this machine can run.

For each figure: SKIP when the data, system, config or assets it needs are missing (saying exactly what
to supply), otherwise run the registered system on the figure's cases, score the submission and print
OK or FAIL (expected, got, tolerance). A value is compared only when its metric signature satisfies the
figure's requirement. The runner is injectable so tests can exercise OK and FAIL without models.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from harness.cli_support import show_progress
from harness.data import SYNTHETIC, Split, Subtask, inputs_for, load_dataset, parse_id_ranges
from harness.errors import HarnessError, InputError
from harness.signature import Signature
from harness.tasks import task_for
from leaderboard.formatting import id_ranges, plural
from leaderboard.records import MetricResult
from leaderboard.schema import task_name
from submissions.formats import YEARS

logger = logging.getLogger(__name__)

FIGURES_FILE = "reproduce.yaml"
SUPPORTED_FIGURES_VERSIONS = (1,)
Status = Literal["OK", "FAIL", "SKIP"]


class FiguresError(HarnessError):
    """The figures file is missing or malformed."""


@dataclass(frozen=True)
class SignatureRequirement:
    """What a metric's signature must say for a value to be comparable with a published figure."""

    name: str | None = None  # the signature's first part, e.g. "bleu"
    fields: Mapping[str, str] = field(default_factory=dict)  # ``field:value`` parts that must match exactly
    forbid: tuple[str, ...] = ()  # parts that must not appear (e.g. "standin")

    def problems(self, signature: str) -> list[str]:
        parsed = Signature.parse(signature)
        name, fields = parsed.name, parsed.as_dict()
        out = [f"metric is {name!r}, not {self.name!r}"] if self.name and name != self.name else []
        out += [
            f"{key} is {fields.get(key) or 'unset'}, needs {value}"
            for key, value in self.fields.items()
            if fields.get(key) != value
        ]
        out += [f"marked {part!r}" for part in self.forbid if part in fields]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SignatureRequirement:
        data = data or {}
        return cls(
            name=data.get("name"),
            fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
            forbid=tuple(str(p) for p in data.get("forbid") or ()),
        )


@dataclass(frozen=True)
class Figure:
    """One published number and everything needed to reproduce it."""

    id: str
    what: str
    source: str
    year: str
    subtask: int
    split: str
    case_ids: tuple[str, ...]
    metric: str
    expected: float
    tolerance: float
    signature: SignatureRequirement
    system: str
    config: Mapping[str, Any] = field(default_factory=dict)
    requires_config: Mapping[str, str] = field(default_factory=dict)  # key → how to get its value
    assets: tuple[str, ...] = ()
    notes: str | None = None

    @property
    def run_key(self) -> tuple[Any, ...]:
        """Figures with the same key are produced by one run."""
        config = tuple(sorted((k, repr(v)) for k, v in self.config.items()))
        return (self.system, config, self.year, self.subtask, self.split, self.case_ids)

    @property
    def where(self) -> str:
        return f"subtask {self.subtask} {self.metric} on {self.split} cases {id_ranges(self.case_ids)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "what": self.what,
            "source": self.source,
            "year": self.year,
            "subtask": self.subtask,
            "split": self.split,
            "case_ids": id_ranges(self.case_ids),
            "metric": self.metric,
            "expected": self.expected,
            "tolerance": self.tolerance,
            "system": self.system,
            "config": dict(self.config),
            "assets": list(self.assets),
        }


@dataclass(frozen=True)
class ContextFigure:
    """A peer's published score, shown for orientation and never checked."""

    what: str
    year: str
    subtask: int | None
    split: str
    metric: str
    value: float | str


@dataclass(frozen=True)
class FigureBook:
    figures: tuple[Figure, ...]
    context: tuple[ContextFigure, ...]
    path: str

    def select(self, patterns: Sequence[str]) -> tuple[Figure, ...]:
        """Figures whose id matches one of ``patterns`` (exact or shell glob); all when none are given."""
        if not patterns:
            return self.figures
        unknown = [p for p in patterns if not any(fnmatch.fnmatchcase(f.id, p) for f in self.figures)]
        if unknown:
            known = ", ".join(f.id for f in self.figures)
            raise FiguresError(f"no figure matches {', '.join(map(repr, unknown))} (figures: {known})")
        return tuple(f for f in self.figures if any(fnmatch.fnmatchcase(f.id, p) for p in patterns))


def default_figures_path() -> Path:
    """``./reproduce.yaml`` if present, else the one at the root of the harness checkout."""
    local = Path.cwd() / FIGURES_FILE
    return local if local.is_file() else Path(__file__).resolve().parents[1] / FIGURES_FILE


def _figure(data: Mapping[str, Any], path: str) -> Figure:
    if str(data.get("year")) not in YEARS:
        raise FiguresError(
            f"{path}: figure {data.get('id', '?')!r} has year {data.get('year')!r}: reproduce runs ArchEHR-QA "
            f"figures ({', '.join(YEARS)}); score FHIR track runs with `archehr fhir score`"
        )
    try:
        case_ids = data["case_ids"]
        return Figure(
            id=str(data["id"]),
            what=str(data.get("what", data["id"])),
            source=str(data.get("source", "")),
            year=str(data["year"]),
            subtask=int(data["subtask"]),
            split=str(data["split"]),
            case_ids=tuple(parse_id_ranges(case_ids if isinstance(case_ids, str) else [str(c) for c in case_ids])),
            metric=str(data["metric"]),
            expected=float(data["expected"]),
            tolerance=float(data["tolerance"]),
            signature=SignatureRequirement.from_json(data.get("signature")),
            system=str(data["system"]),
            config=dict(data.get("config") or {}),
            requires_config={str(k): str(v) for k, v in (data.get("requires_config") or {}).items()},
            assets=tuple(str(a) for a in data.get("assets") or ()),
            notes=data.get("notes"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FiguresError(
            f"{path}: figure {data.get('id', '?')!r} is malformed ({type(exc).__name__}: {exc})"
        ) from None


def load_figures(path: str | Path | None = None) -> FigureBook:
    """Read the figures file (default: :func:`default_figures_path`)."""
    path = Path(path) if path is not None else default_figures_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FiguresError(f"no figures file at {path} (pass --figures PATH)") from None
    except yaml.YAMLError as exc:
        raise FiguresError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or data.get("schema_version") not in SUPPORTED_FIGURES_VERSIONS:
        raise FiguresError(f"{path}: expected a mapping with schema_version in {SUPPORTED_FIGURES_VERSIONS}")
    figures = tuple(_figure(f, str(path)) for f in data.get("figures") or ())
    ids = [f.id for f in figures]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise FiguresError(f"{path}: duplicate figure ids {', '.join(duplicates)}")
    context = tuple(
        ContextFigure(
            what=str(c["what"]),
            year=str(c.get("year", "")),
            subtask=c.get("subtask"),
            split=str(c.get("split", "")),
            metric=str(c.get("metric", "")),
            value=c["value"],
        )
        for c in data.get("context") or ()
    )
    return FigureBook(figures, context, str(path))


# ---------------------------------------------------------------------- running


@dataclass(frozen=True)
class RunRequest:
    """One run: a system on some cases of a split, scored for one subtask."""

    system: str
    config: Mapping[str, Any]  # the figure's config plus the user's --set overrides
    year: str
    subtask: int
    split: Split  # restricted to ``case_ids``
    case_ids: tuple[str, ...]
    work_dir: Path


#: Runs a system and scores it: output key → metric result (value, signature, per-case values …).
Runner = Callable[[RunRequest], Mapping[str, MetricResult]]


def default_runner(request: RunRequest) -> Mapping[str, MetricResult]:
    """``archehr.pipeline.run_system`` then ``metrics.scoring.score_submission`` under official settings."""
    from archehr.pipeline import run_system
    from leaderboard.ingest import entry_from_report
    from metrics.scoring import score_submission
    from submissions import read_submission

    subtask = Subtask(request.subtask)
    cases = inputs_for(request.split, subtask)
    summary = run_system(
        request.system,
        request.split,
        cases,
        subtask,
        request.work_dir,
        config=request.config,
        show_progress=show_progress(),
    )
    report = score_submission(
        read_submission(Path(summary["submission"])), request.split, task_for(request.year, request.subtask)
    )
    report_path = report.write(request.work_dir / "score.json")
    logger.info("score report: %s", report_path)
    return entry_from_report(report.to_json(), system=request.system, source=str(report_path)).metrics


@dataclass(frozen=True)
class Outcome:
    figure: Figure
    status: Status
    message: str
    got: float | None = None
    signature: str | None = None

    def line(self) -> str:
        return f"{self.status:<4}  {self.figure.id}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            **self.figure.to_json(),
            "status": self.status,
            "got": self.got,
            "signature": self.signature,
            "message": self.message,
        }


def _preflight(
    figure: Figure, data: str | None, dataset: Any, overrides: Mapping[str, Any]
) -> tuple[str | None, Split | None]:
    """Why the figure's run cannot be attempted here (a SKIP message), or ``(None, split)``."""
    from harness.assets import UnknownAssetError, locate
    from harness.systems import UnknownSystemError, get_system_entry

    if data is None or data == SYNTHETIC:
        return (
            "needs the real ArchEHR-QA data (PhysioNet, credentialed): pass --data DIR holding "
            f"{figure.split}/archehr-qa.xml and {figure.split}/archehr-qa_key.json with cases "
            f"{id_ranges(figure.case_ids)}; the bundled synthetic data cannot reproduce published figures",
            None,
        )
    split = dataset.splits.get(figure.split)
    if split is None:
        found = ", ".join(dataset.splits) or "none"
        return (
            f"no split {figure.split!r} under {data} (found: {found}): put the official {figure.split} folder there",
            None,
        )
    absent = set(figure.case_ids) - set(split.case_ids())
    if absent:
        return (
            f"split {figure.split} lacks {plural(len(absent), 'case')} ({id_ranges(absent)}); the figure needs "
            f"{id_ranges(figure.case_ids)}: use the release that holds them",
            None,
        )
    chosen = split.select(figure.case_ids)
    problems = task_for(figure.year, figure.subtask).gold_problems(chosen)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"cannot score: {problems[0]}{more}: supply the split's answer key (archehr-qa_key.json)", None
    try:
        inputs_for(chosen, Subtask(figure.subtask))
    except InputError as exc:
        return f"cannot run: {exc.problems[0]}: use the release whose XML holds the subtask's inputs", None
    try:
        get_system_entry(figure.system)
    except UnknownSystemError as exc:
        return f"system not available: {exc}", None
    missing_config = [k for k in figure.requires_config if k not in overrides]
    if missing_config:
        return "; ".join(f"needs --set {k}=…: {figure.requires_config[k]}" for k in missing_config), None
    missing_assets = []
    for name in figure.assets:
        try:
            status = locate(name)
        except UnknownAssetError as exc:
            missing_assets.append(f"{name} ({exc})")
            continue
        if not status.found:
            missing_assets.append(f"{name}: {status.how_to_supply}")
    if missing_assets:
        return f"missing {plural(len(missing_assets), 'asset')}: " + " | ".join(missing_assets), None
    return None, chosen


def _judge(figure: Figure, metrics: Mapping[str, MetricResult]) -> Outcome:
    metric = metrics.get(figure.metric)
    if metric is None:
        return Outcome(figure, "FAIL", f"the score report has no {figure.metric!r} (has: {', '.join(metrics)})")
    if not metric.available:
        fix = f"; fix: {metric.fix}" if metric.fix else ""
        return Outcome(figure, "SKIP", f"{figure.metric} unavailable: {metric.reason or 'no value'}{fix}")
    if metric.missing:
        fixes = [f"{m}: {metrics[m].fix}" for m in metric.missing if m in metrics and metrics[m].fix]
        how = f"; supply {' | '.join(fixes)}" if fixes else ""
        return Outcome(
            figure,
            "SKIP",
            f"{figure.metric} is partial (computed without {', '.join(metric.missing)}){how}",
            metric.value,
            metric.signature,
        )
    problems = figure.signature.problems(metric.signature)
    if problems:
        return Outcome(
            figure,
            "FAIL",
            f"not comparable: signature {metric.signature!r}: {'; '.join(problems)}",
            metric.value,
            metric.signature,
        )
    assert metric.value is not None
    delta = metric.value - figure.expected
    text = f"{figure.where}: expected {figure.expected:.2f} ± {figure.tolerance:.2f}, got {metric.value:.2f}"
    if abs(delta) <= figure.tolerance + 1e-9:
        return Outcome(figure, "OK", text, metric.value, metric.signature)
    return Outcome(figure, "FAIL", f"{text} (off by {delta:+.2f})", metric.value, metric.signature)


def reproduce(
    figures: Sequence[Figure],
    data: str | None,
    *,
    overrides: Mapping[str, Any] | None = None,
    runner: Runner | None = None,
    work_dir: str | Path = Path(".archehr") / "reproduce",
) -> list[Outcome]:
    """One outcome per figure, in the figures' order; each distinct run happens at most once."""
    overrides = dict(overrides or {})
    runner = runner or default_runner
    dataset = None
    if data is not None and data != SYNTHETIC:
        dataset = load_dataset(data)  # a bad folder is the user's error, reported as such
    outcomes: dict[str, Outcome] = {}
    groups: dict[tuple[Any, ...], list[Figure]] = {}
    for figure in figures:
        groups.setdefault(figure.run_key, []).append(figure)
    for members in groups.values():
        head = members[0]
        skip, split = _preflight(head, data, dataset, overrides)
        if skip is not None or split is None:
            outcomes.update({f.id: Outcome(f, "SKIP", skip or "cannot run") for f in members})
            continue
        folder = Path(work_dir) / f"{head.system}-{head.id}"
        request = RunRequest(
            head.system, {**head.config, **overrides}, head.year, head.subtask, split, head.case_ids, folder
        )
        try:
            metrics = runner(request)
        except Exception as exc:
            logger.debug("run for %s failed", head.id, exc_info=True)
            outcomes.update({f.id: Outcome(f, "FAIL", f"the run failed: {exc}") for f in members})
            continue
        outcomes.update({f.id: _judge(f, metrics) for f in members})
    return [outcomes[f.id] for f in figures]


def context_lines(book: FigureBook) -> list[str]:
    return [
        f"INFO  context: {c.what}: {c.metric} {c.value} ({task_name(c.year, c.subtask)}, {c.split})"
        for c in book.context
    ]
