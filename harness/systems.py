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
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from harness.data.model import Case, Subtask
from harness.errors import HarnessError

if TYPE_CHECKING:
    import click

    from harness.config import ConfigSpec

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
    #: sha256 of the system's source files (set by :func:`build_system`), so an edit never reuses old outputs.
    code: str | None = None

    @property
    def fingerprint(self) -> str:
        """sha256 of name, version, resolved config, components (model hashes, adapter cards …) and source code."""
        payload = {"name": self.name, "version": self.version, "config": self.config, "components": self.components}
        if self.code is not None:
            payload["code"] = self.code
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
class DemoPlan:
    """What ``archehr demo`` does with a system: train it with ``train_config`` (when it has a trainer and a
    config is given; or reuse the training of the system ``trained_by``), then run it on ``subtasks`` (of the
    cases ``case_ids``, default all) with ``run_config`` (a YAML file), inside ``service``: a context manager
    it needs running (a local server), which yields config overrides (its URL)."""

    subtasks: tuple[int, ...]
    train_config: Path | None = None
    trained_by: str | None = None
    run_config: Path | None = None
    case_ids: tuple[str, ...] | None = None
    service: Callable[[], AbstractContextManager[Mapping[str, Any]]] | None = None


@dataclass(frozen=True)
class SystemEntry:
    """A registered system: its listing metadata, its lazily called builder, and what it declares besides: its
    typed config (keys checked before a run), its trainer, its demo plan and its extra CLI commands."""

    name: str
    subtasks: tuple[int, ...]
    description: str
    builder: Builder
    config: ConfigSpec[Any] | None = None
    trainer: Trainer | None = None
    demo: DemoPlan | None = None
    commands: tuple[click.Command, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "subtasks": list(self.subtasks), "description": self.description}


class UnknownSystemError(HarnessError):
    pass


_REGISTRY: dict[str, SystemEntry] = {}
_discovered = False


def register_system(
    name: str,
    *,
    subtasks: Sequence[int],
    description: str,
    config: ConfigSpec[Any] | None = None,
    demo: DemoPlan | None = None,
    commands: Sequence[click.Command] = (),
) -> Callable[[Builder], Builder]:
    """Decorator: register ``builder(config_overrides) -> System`` under ``name``, with the system's typed
    ``config`` (a :class:`harness.config.ConfigSpec`), its ``demo`` plan and its extra CLI ``commands``."""

    def decorate(builder: Builder) -> Builder:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.builder is not builder:
            raise ValueError(f"system {name!r} is registered twice")
        trainer = existing.trainer if existing is not None else None
        _REGISTRY[name] = SystemEntry(
            name, tuple(subtasks), description, builder, config, trainer, demo, tuple(commands)
        )
        return builder

    return decorate


def register_trainer(name: str) -> Callable[[Trainer], Trainer]:
    """Decorator: declare the trainer of the registered system ``name`` (imported lazily, like builders)."""

    def decorate(trainer: Trainer) -> Trainer:
        if name not in _REGISTRY:
            raise ValueError(f"register system {name!r} before its trainer")
        _REGISTRY[name] = replace(_REGISTRY[name], trainer=trainer)
        return trainer

    return decorate


def get_trainer(name: str) -> Trainer:
    trainer = get_system_entry(name).trainer  # unknown names get the "did you mean" error
    if trainer is None:
        raise UnknownSystemError(f"system {name!r} has nothing to train")
    return trainer


def system_commands() -> list[click.Command]:
    """The extra CLI commands the registered systems declare (e.g. the aligner's ``ablate``)."""
    return [command for entry in list_systems() for command in entry.commands]


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
        except ImportError as exc:  # a plugin whose dependencies are missing must not hide the others
            logger.warning("system plugin %s (%s) cannot be imported: %s", ep.name, ep.value, exc)


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


class SystemConfigError(HarnessError, ValueError):
    """A builder refused its config (also a ``ValueError``, as builders raise)."""


def build_system(name: str, config: Mapping[str, Any] | None = None) -> System:
    """Build a registered system with optional config overrides; its card's ``code`` is the hash of its sources."""
    entry = get_system_entry(name)
    try:
        system = entry.builder(dict(config or {}))
    except ValueError as exc:  # a builder's verdict on its config (unknown key, bad value); pydantic's too
        raise SystemConfigError(f"system {name!r}: bad config ({exc}); check --config and --set") from None
    system.card = replace(system.card, code=source_hash(source_files(entry.builder)))
    return system


#: The module namespace of system files loaded by :func:`load_system_file`.
_USER_FILES = "archehr_user_systems"
#: Namespace packages whose sub-packages are separate systems (the built-ins live in ``systems.<name>``).
_SYSTEM_NAMESPACES = ("systems",)


def source_files(builder: Builder) -> tuple[Path, ...]:
    """The source files of the package (or plain file) that registered ``builder``.

    For a module ``pkg.mod`` that is the whole ``pkg`` package; for the built-ins (``systems.qunlp.generator``)
    the system's own sub-package (``systems.qunlp``); for a module outside any package, that file.
    """
    module = sys.modules.get(builder.__module__)
    path = getattr(module, "__file__", None)
    if module is None or path is None:
        return ()
    parts = builder.__module__.split(".")
    if parts[0] == _USER_FILES:  # a plain file loaded with --system-module: that file alone
        return (Path(path),)
    depth = 2 if parts[0] in _SYSTEM_NAMESPACES and len(parts) > 1 else 1
    if len(parts) == 1 and Path(path).name != "__init__.py":
        return (Path(path),)
    top = Path(path).parent
    for _ in range(len(parts) - depth - (0 if Path(path).name == "__init__.py" else 1)):
        top = top.parent
    return tuple(sorted(top.rglob("*.py")))


def source_hash(paths: Sequence[Path]) -> str:
    """sha256 over the files' names (relative to their common folder) and bytes."""
    digest = hashlib.sha256()
    if not paths:
        return digest.hexdigest()
    base = Path(os.path.commonpath([p.parent for p in paths]))
    for path in paths:
        digest.update(path.relative_to(base).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


#: Environment variable naming system files to load (``os.pathsep``-separated), like ``--system-module``.
ENV_SYSTEM_MODULES = "ARCHEHR_SYSTEM_MODULES"
_loaded_files: dict[str, str] = {}


def load_system_file(path: str | os.PathLike[str]) -> str:
    """Import a plain Python file that registers systems (``register_system``), like lm-eval's
    ``--include_path``; returns the module name it was imported under. Loading the same file twice is a no-op."""
    file = Path(path).resolve()
    if not file.is_file() or file.suffix != ".py":
        raise HarnessError(f"{path}: not a Python file (--system-module takes path/to/file.py)")
    key = str(file)
    if key in _loaded_files:
        return _loaded_files[key]
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    name = f"{_USER_FILES}.{file.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise HarnessError(f"{path}: cannot be imported as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _loaded_files[key] = name
    return name


def system_files_from_env() -> list[str]:
    """The files named by ``$ARCHEHR_SYSTEM_MODULES`` (empty entries ignored)."""
    return [p for p in os.environ.get(ENV_SYSTEM_MODULES, "").split(os.pathsep) if p.strip()]
