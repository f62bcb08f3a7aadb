"""The score report: one JSON document per scored submission (``archehr score --out REPORT.json``).

Layout (schema version 2): identity (``schema_version``, ``harness_version``, ``task`` — a task id of
:mod:`harness.tasks` — with its ``year`` and ``subtask`` fields, ``split``, ``case_ids`` in scoring order,
``key_hash``); ``system`` (the system card, when the scorer knew it); ``families`` (output key → metric
family of :mod:`metrics.registry`); ``components`` (combined key → the keys it averages);
``scores`` (the official output keys in percent,
``null`` when a component is unavailable); ``overall_key``; ``partial`` with ``missing`` (component names),
``partial_scores`` (combined keys averaged over the available components only) and ``unavailable``
(reason and fix per metric family); ``signatures`` (per output key, plus ``scorer``); ``aggregations``
(``mean``: the mean of ``per_case``; ``micro_f1``: pooled from ``per_case`` counts ``[tp, predicted,
gold]``; ``micro``: pooled, no per-case rows; ``combined``: from other keys); ``per_case``; flags
``lexical_only``, ``comparable`` (with ``not_comparable``: components run on stand-ins) and
``validated``; ``truncated`` case ids and ``warnings``; ``judge`` (only with ``--judge``: the LLM judge's
own section, never official, docs/llm_judge.md).

Version 1 reports (no ``task``, ``system``, ``families``, ``components``) still load: :meth:`ScoreReport.from_json`
fills those fields from the task registry.

Reports are deterministic (no timestamp): the same submission, key and options give the same bytes.
NaN and infinities are refused on construction; JSON is written with ``allow_nan=False``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from harness import __version__
from harness.atomic import atomic_write_text
from harness.errors import HarnessError, InputError
from harness.tasks import Task, get_task, task_for

SCHEMA_VERSION = 2
#: Versions :meth:`ScoreReport.from_json` reads.
READABLE_VERSIONS = (1, 2)

CaseValue = float | list[int]


@dataclass(frozen=True)
class Unavailable:
    """Why a metric family did not run, and how to make it run."""

    reason: str
    fix: str


@dataclass(frozen=True)
class ScoreReport:
    """The outcome of scoring one submission against one key (see the module docstring for the layout)."""

    task: str
    split: str
    case_ids: tuple[str, ...]
    key_hash: str
    scores: dict[str, float | None]
    overall_key: str
    signatures: dict[str, str]
    aggregations: dict[str, str]
    per_case: dict[str, dict[str, CaseValue]]
    partial: bool = False
    missing: tuple[str, ...] = ()
    partial_scores: dict[str, float] = field(default_factory=dict)
    unavailable: dict[str, Unavailable] = field(default_factory=dict)
    lexical_only: bool = False
    comparable: bool = True
    not_comparable: tuple[str, ...] = ()
    validated: bool = True
    truncated: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    families: dict[str, str] = field(default_factory=dict)
    components: dict[str, tuple[str, ...]] = field(default_factory=dict)
    system: dict[str, Any] | None = None
    #: The LLM judge's section (``archehr score --judge``; never official, never in ``scores``), or ``None``.
    judge: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION
    harness_version: str = __version__

    def __post_init__(self) -> None:
        get_task(self.task)  # an unknown id is a bug of the producer, not a report to store
        for where, value in self._numbers():
            if not math.isfinite(value):
                raise ValueError(f"score report: {where} is {value!r}; reports never hold NaN or infinity")

    def _numbers(self) -> list[tuple[str, float]]:
        out = [(f"scores.{k}", v) for k, v in self.scores.items() if v is not None]
        out += [(f"partial_scores.{k}", v) for k, v in self.partial_scores.items()]
        for key, rows in self.per_case.items():
            for case_id, value in rows.items():
                for v in value if isinstance(value, list) else [value]:
                    out.append((f"per_case.{key}.{case_id}", float(v)))
        if self.judge is not None:
            for key, value in (self.judge.get("scores") or {}).items():
                if value is not None:
                    out.append((f"judge.scores.{key}", float(value)))
        return out

    @property
    def task_def(self) -> Task:
        return get_task(self.task)

    @property
    def year(self) -> str:
        return self.task_def.edition

    @property
    def subtask(self) -> int | None:
        return self.task_def.number

    @property
    def overall_score(self) -> float | None:
        """The official overall score, ``None`` when partial (see ``partial_scores`` for the partial mean)."""
        return self.scores.get(self.overall_key)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["year"], data["subtask"] = self.year, self.subtask
        data["components"] = {k: list(v) for k, v in self.components.items()}
        order = [
            "schema_version",
            "harness_version",
            "task",
            "year",
            "subtask",
            "split",
            "case_ids",
            "key_hash",
            "system",
            "scores",
            "overall_key",
            "families",
            "components",
            "partial",
            "missing",
            "partial_scores",
            "unavailable",
            "signatures",
            "aggregations",
            "lexical_only",
            "comparable",
            "not_comparable",
            "validated",
            "truncated",
            "warnings",
            "per_case",
        ]
        out = {name: data[name] for name in order}
        if self.judge is not None:  # only when asked for: reports without a judge keep their bytes
            out["judge"] = data["judge"]
        for name in ("case_ids", "missing", "not_comparable", "truncated", "warnings"):
            out[name] = list(out[name])
        return out

    def dumps(self) -> str:
        """The report as indented JSON text (NaN refused), with a trailing newline."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write the report atomically; returns the path."""
        return atomic_write_text(path, self.dumps())

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, source: str | None = None) -> ScoreReport:
        """Read a report dict written by :meth:`to_json` (schema version 2, or 1 migrated)."""
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise InputError.one(
                f"score report schema_version {version!r} is not one of {READABLE_VERSIONS}",
                file=source,
                field="schema_version",
            )
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        try:
            task = _task_of(data) if version == 1 else get_task(str(data.get("task")))
            kwargs["task"] = task.id
            if version == 1:
                kwargs.update(_v1_fields(task, data))
                kwargs["schema_version"] = SCHEMA_VERSION
            for name in ("case_ids", "missing", "not_comparable", "truncated", "warnings"):
                kwargs[name] = tuple(kwargs.get(name, ()))
            kwargs["components"] = {k: tuple(v) for k, v in kwargs.get("components", {}).items()}
            if isinstance(kwargs.get("system"), str):  # a bare name, as hand-written reports give it
                kwargs["system"] = {"name": kwargs["system"]}
            kwargs["unavailable"] = {k: Unavailable(**v) for k, v in kwargs.get("unavailable", {}).items()}
            return cls(**kwargs)
        except (TypeError, ValueError, AttributeError, HarnessError) as exc:
            raise InputError.one(f"not a valid score report ({exc})", file=source) from None

    @classmethod
    def read(cls, path: str | Path) -> ScoreReport:
        """Read a report file."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError.one(f"cannot read a score report ({exc})", file=path) from None
        if not isinstance(data, dict):
            raise InputError.one("not a score report (expected a JSON object)", file=path)
        return cls.from_json(data, source=str(path))


def _task_of(data: Mapping[str, Any]) -> Task:
    year, subtask = data.get("year"), data.get("subtask")
    if not isinstance(year, str) or not (subtask is None or isinstance(subtask, int)):
        raise ValueError(f"year {year!r} and subtask {subtask!r} name no task")
    return task_for(year, subtask)


def _v1_fields(task: Task, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a version-1 report lacks, from the task registry (its keys were the task's keys then too)."""
    from metrics.registry import family_outputs

    scores = data.get("scores")
    keys = set(scores) if isinstance(scores, Mapping) else set()
    families = {k: f for f in task.families for k in family_outputs(task, f) if k in keys}
    components = {c.key: c.components for c in task.combined if c.key in keys}
    return {"families": families, "components": components}
