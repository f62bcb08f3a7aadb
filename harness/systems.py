"""The ``System`` protocol and the system registry.

A system is registered with a small card (name, subtasks, description) and a builder that
is only called when the system is used, so listing systems imports no torch. Built-in
systems live in the ``systems`` package; other packages add theirs through the entry-point
group ``archehr.systems`` (the entry point names a module that calls :func:`register_system`).
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from harness.data.model import Case, Subtask
from harness.errors import HarnessError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "archehr.systems"
#: Modules of the built-in systems; importing one registers its systems (and must stay light).
BUILTIN_SYSTEM_MODULES: tuple[str, ...] = (
    "systems.baselines",
    "systems.qunlp.generator",
    "systems.qunlp.aligner",
    "systems.llm_prompt",
)


@dataclass(frozen=True)
class TrainOptions:
    """What ``archehr train SYSTEM`` passes to a system's trainer."""

    config: str | None = None  # path of a YAML config (e.g. systems/qunlp/configs/cpu-demo.yaml)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # --set KEY=VALUE
    stage: str = "all"  # e.g. "1", "2", "all" for the two-stage generator
    out: str | None = None  # output folder for models, adapters and their cards
    data: str = "synthetic"  # data folder or "synthetic"
    split: str = "dev"  # the annotated split trained on
    show_progress: bool = True


#: A trainer returns a JSON-able summary; its ``run_config`` entry holds the overrides that make
#: ``archehr run SYSTEM`` use what was trained (e.g. ``{"model_dir": ...}``).
Trainer = Callable[[TrainOptions], dict[str, Any]]


@dataclass(frozen=True)
class SystemCard:
    """What a run records about the system that produced it; the fingerprint keys the run store."""

    name: str
    version: str
    subtasks: tuple[int, ...]
    description: str
    config: Mapping[str, Any] = field(default_factory=dict)
    components: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """sha256 of name, version, resolved config and components (model hashes, adapter cards …)."""
        payload = {"name": self.name, "version": self.version, "config": self.config, "components": self.components}
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["subtasks"] = list(self.subtasks)
        data["fingerprint"] = self.fingerprint
        return data


@dataclass(frozen=True)
class Prediction:
    """One case's output for one subtask, in the 2026 submission shape, plus optional metadata."""

    case_id: str
    prediction: Any
    meta: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class System(Protocol):
    card: SystemCard

    def predict(self, cases: Sequence[Case], subtask: Subtask) -> Iterator[Prediction]:
        """Predict each case in order; called in batches by the run store."""
        ...


@runtime_checkable
class RunAware(Protocol):
    """Optional for a system: told its run folder before predicting (e.g. for a request cache that makes a
    killed run resume), and asked for JSON-able run statistics (tokens, latency) for the run summary."""

    def bind_run(self, folder: Path) -> None: ...

    def run_stats(self) -> Mapping[str, Any]: ...


Builder = Callable[[Mapping[str, Any]], System]


@dataclass(frozen=True)
class SystemEntry:
    """A registered system: its listing metadata and its lazily called builder."""

    name: str
    subtasks: tuple[int, ...]
    description: str
    builder: Builder

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "subtasks": list(self.subtasks), "description": self.description}


class UnknownSystemError(HarnessError):
    pass


_REGISTRY: dict[str, SystemEntry] = {}
_TRAINERS: dict[str, Trainer] = {}
_discovered = False


def register_system(name: str, *, subtasks: Sequence[int], description: str) -> Callable[[Builder], Builder]:
    """Decorator: register ``builder(config_overrides) -> System`` under ``name``."""

    def decorate(builder: Builder) -> Builder:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.builder is not builder:
            raise ValueError(f"system {name!r} is registered twice")
        _REGISTRY[name] = SystemEntry(name, tuple(subtasks), description, builder)
        return builder

    return decorate


def register_trainer(name: str) -> Callable[[Trainer], Trainer]:
    """Decorator: register the trainer of system ``name`` (imported lazily, like builders)."""

    def decorate(trainer: Trainer) -> Trainer:
        _TRAINERS[name] = trainer
        return trainer

    return decorate


def get_trainer(name: str) -> Trainer:
    get_system_entry(name)  # unknown names get the "did you mean" error
    try:
        return _TRAINERS[name]
    except KeyError:
        raise UnknownSystemError(f"system {name!r} has nothing to train") from None


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for module in BUILTIN_SYSTEM_MODULES:
        importlib.import_module(module)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a broken plugin must not hide the others
            logger.warning("could not load system plugin %s (%s): %s", ep.name, ep.value, exc)


def list_systems() -> list[SystemEntry]:
    _discover()
    return sorted(_REGISTRY.values(), key=lambda e: e.name)


def get_system_entry(name: str) -> SystemEntry:
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(_REGISTRY))}"
        raise UnknownSystemError(f"no system named {name!r}{hint}") from None


def build_system(name: str, config: Mapping[str, Any] | None = None) -> System:
    """Build a registered system with optional config overrides."""
    return get_system_entry(name).builder(dict(config or {}))
