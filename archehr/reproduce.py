"""``archehr reproduce``: check published figures (``reproduce.yaml``) against what this machine can run.

Reading the figures file validates every figure against the registries: the system exists and answers the
subtask, every config key is known to the system's typed config (or is a control key such as ``model_dir``),
every asset is known to :mod:`harness.assets`; all problems are reported in one error. ``--set`` overrides are
checked the same way (``--set SYSTEM:KEY=VALUE`` reaches only that system's figures).

For each figure: SKIP when the data, config values or assets it needs are missing (saying exactly what to
supply), or when the run stops on a :class:`~harness.errors.MissingError` (which says what is missing);
otherwise run the registered system on the figure's cases, score the submission and print OK or FAIL
(expected, got, tolerance). A value is compared only when its metric signature satisfies the figure's
requirement. Any other exception of a run propagates: a crash is a bug, never a FAIL. The runner is
injectable so tests can exercise OK and FAIL without models.
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
from harness.config import CONTROL_KEYS, control_overrides
from harness.data import SYNTHETIC, Split, Subtask, inputs_for, load_dataset, parse_id_ranges
from harness.errors import HarnessError, InputError, MissingError
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
#: Separator of a system-scoped override: ``--set qunlp:model_dir=DIR`` reaches only qunlp's figures.
SYSTEM_SCOPE = ":"


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


def _config_key_problems(system: str, keys: Sequence[str], values: Mapping[str, Any] | None = None) -> list[str]:
    """Unknown config keys of ``system`` among ``keys`` (control keys are always known); with ``values``, also
    values its typed config rejects."""
    from harness.systems import get_system_entry

    spec = get_system_entry(system).config
    if spec is None:  # a plugin without a declared config: only control keys can be checked
        return [f"{system} declares no config, so {k!r} cannot be set" for k in keys if k not in CONTROL_KEYS]
    if values is not None:
        return spec.problems({k: values[k] for k in keys})
    known = set(spec.keys())
    sections = {k.rsplit(".", 1)[0] for k in known if "." in k}
    unknown = [k for k in keys if k not in CONTROL_KEYS and k not in known and k not in sections]
    if not unknown:
        return []
    return [f"unknown {spec.label} key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"]


def figure_problems(figure: Figure) -> list[str]:
    """What is wrong with ``figure`` against the registries (empty when it can be attempted)."""
    from harness.assets import ASSETS
    from harness.systems import UnknownSystemError, get_system_entry

    problems: list[str] = []
    try:
        entry = get_system_entry(figure.system)
    except UnknownSystemError as exc:
        problems.append(str(exc))
        entry = None
    if entry is not None:
        if figure.subtask not in entry.subtasks:
            answers = ", ".join(map(str, entry.subtasks))
            problems.append(f"system {entry.name!r} answers subtask(s) {answers}, not {figure.subtask}")
        problems += _config_key_problems(entry.name, list(figure.config), figure.config)
        problems += _config_key_problems(entry.name, list(figure.requires_config))
    unknown_assets = [a for a in figure.assets if a not in ASSETS]
    if unknown_assets:
        problems.append(f"unknown asset(s) {', '.join(unknown_assets)} (known: {', '.join(ASSETS)})")
    return problems


def _validate(figures: Sequence[Figure], path: str) -> None:
    bad = [f"figure {f.id!r}: {'; '.join(problems)}" for f in figures if (problems := figure_problems(f))]
    if bad:
        raise FiguresError(f"{path}: " + " | ".join(bad))


def overrides_for(system: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The ``--set`` overrides reaching ``system``'s figures: the plain ones, then ``system:KEY`` ones."""
    plain = {k: v for k, v in overrides.items() if SYSTEM_SCOPE not in k}
    prefix = f"{system}{SYSTEM_SCOPE}"
    return {**plain, **{k[len(prefix) :]: v for k, v in overrides.items() if k.startswith(prefix)}}


def check_overrides(figures: Sequence[Figure], overrides: Mapping[str, Any]) -> None:
    """Every ``--set`` key must be known to the config of each system it reaches; one error names all problems."""
    from harness.systems import UnknownSystemError, get_system_entry

    systems = sorted({f.system for f in figures})
    problems: list[str] = []
    for key in overrides:
        if SYSTEM_SCOPE in key:
            name = key.split(SYSTEM_SCOPE, 1)[0]
            try:
                get_system_entry(name)
            except UnknownSystemError as exc:
                problems.append(f"--set {key}: {exc}")
                continue
            if name not in systems:
                problems.append(f"--set {key}: no chosen figure runs {name!r} (they run {', '.join(systems)})")
    for system in systems:
        scoped = overrides_for(system, overrides)
        problems += [f"--set for {system}: {p}" for p in _config_key_problems(system, list(scoped), scoped)]
    if problems:
        raise FiguresError("; ".join(problems))


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
    _validate(figures, str(path))
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
    from harness.assets import locate

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
    missing_config = [k for k in figure.requires_config if k not in overrides]
    if missing_config:
        return (
            "; ".join(f"needs --set {figure.system}:{k}=…: {figure.requires_config[k]}" for k in missing_config),
            None,
        )
    missing_assets = []
    for name in figure.assets:
        status = locate(name)  # names were checked against the registry when the figures were read
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
        scoped = control_overrides(overrides_for(head.system, overrides))
        skip, split = _preflight(head, data, dataset, scoped)
        if skip is not None:
            outcomes.update({f.id: Outcome(f, "SKIP", skip) for f in members})
            continue
        assert split is not None
        folder = Path(work_dir) / f"{head.system}-{head.id}"
        request = RunRequest(
            head.system, {**head.config, **scoped}, head.year, head.subtask, split, head.case_ids, folder
        )
        try:
            metrics = runner(request)
        except MissingError as exc:  # says what is missing; any other exception is a bug and propagates
            outcomes.update({f.id: Outcome(f, "SKIP", f"the run needs: {exc}") for f in members})
            continue
        outcomes.update({f.id: _judge(f, metrics) for f in members})
    return [outcomes[f.id] for f in figures]


def context_lines(book: FigureBook) -> list[str]:
    return [
        f"INFO  context: {c.what}: {c.metric} {c.value} ({task_name(c.year, c.subtask)}, {c.split})"
        for c in book.context
    ]
