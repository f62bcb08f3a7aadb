"""One config loader for every system: YAML files and ``--set a.b=c`` overrides into a frozen dataclass.

Layers, later wins: the dataclass defaults ← the system's default file (only when nothing below replaces it)
← a base mapping (e.g. the config a trained model was made with) ← the YAML file named by ``config`` ← the
other overrides. A dotted key sets one field of a section (``stage1.max_steps=5``), a mapping merges into its
section, and a system's shortcuts name a dotted key (``batch_size`` → ``generation.batch_size``). Overrides
that set ``name`` are a whole config (``archehr run --config FILE`` passes the file's content): no default
file or base is read under them. Every value is checked against its field's type hint; all unknown keys and
wrong types are reported together in one error line that names the valid keys.

Control keys are not config fields: ``config`` (a YAML file) and ``model_dir`` (a system's trained
artefacts). ``adapter_dir`` is still read as ``model_dir``, with a deprecation warning. Light: yaml only.
"""

from __future__ import annotations

import copy
import logging
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

from harness.errors import HarnessError

logger = logging.getLogger(__name__)

CONFIG_KEY = "config"
MODEL_DIR_KEY = "model_dir"
#: Old control key → its name now; read with a deprecation warning.
DEPRECATED_KEYS: Mapping[str, str] = {"adapter_dir": MODEL_DIR_KEY}
CONTROL_KEYS = frozenset({CONFIG_KEY, MODEL_DIR_KEY, *DEPRECATED_KEYS})
#: An override setting this field is a whole config (see the module docstring).
WHOLE_CONFIG_KEY = "name"

T = TypeVar("T")


class ConfigError(HarnessError, ValueError):
    """A bad config file or override; the message names every bad key and the valid ones."""


def check_ranges(config: object, label: str, checks: Mapping[str, bool], error: type[ConfigError]) -> None:
    """Raise ``error`` naming every key of ``checks`` whose value is out of range (``checks``: key -> ok)."""
    bad = [name for name, ok in checks.items() if not ok]
    if bad:
        values = ", ".join(f"{name}={getattr(config, name)!r}" for name in bad)
        raise error(f"{label}: out-of-range value(s): {values}")


def control_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """``overrides`` with deprecated control keys renamed (one warning line each); other keys untouched."""
    out = dict(overrides or {})
    for old, new in DEPRECATED_KEYS.items():
        if old in out:
            logger.warning("--set %s is deprecated: use %s (read as %s=%s)", old, new, new, out[old])
            value = out.pop(old)
            out.setdefault(new, value)
    return out


def config_values(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``overrides`` that are config keys (not control keys)."""
    return {k: v for k, v in overrides.items() if k not in CONTROL_KEYS}


@dataclass(frozen=True)
class ConfigSpec(Generic[T]):
    """How one system reads its config: the dataclass, the shortcuts, the default file, the error class."""

    label: str  # in messages, e.g. "generator config"
    type: type[T]
    shortcuts: Mapping[str, str] = field(default_factory=dict)
    default_file: Path | None = None
    error: type[ConfigError] = ConfigError

    def load(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        path: str | Path | None = None,
        base: Mapping[str, Any] | None = None,
    ) -> T:
        """The config from the layers described in the module docstring; raises :attr:`error` naming all problems."""
        overrides = control_overrides(overrides)
        problems: list[str] = []
        data = self._merged(overrides, path, base, problems)
        built = None if problems else _build(self.type, data, "", self, problems)
        if problems:
            raise self.error("; ".join(problems))
        return built  # type: ignore[return-value]

    def problems(self, overrides: Mapping[str, Any]) -> list[str]:
        """What is wrong with ``overrides`` (unknown keys, wrong types), without reading any file."""
        problems: list[str] = []
        data: dict[str, Any] = {}
        for key, value in config_values(control_overrides(overrides)).items():
            _set_dotted(data, self.shortcuts.get(key, key), copy.deepcopy(value), self, problems)
        if not problems:
            _build(self.type, data, "", self, problems)
        return problems

    def keys(self) -> list[str]:
        """Every settable dotted key (leaf fields), then the shortcuts."""
        return [*_leaf_keys(self.type, ""), *self.shortcuts]

    def read_yaml(self, path: str | Path) -> dict[str, Any]:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise self.error(f"cannot read {self.label} {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise self.error(f"{self.label} {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise self.error(f"{self.label} {path} must be a YAML mapping")
        return data

    def _merged(
        self, overrides: Mapping[str, Any], path: str | Path | None, base: Mapping[str, Any] | None, problems: list[str]
    ) -> dict[str, Any]:
        chosen = path or overrides.get(CONFIG_KEY)
        whole = WHOLE_CONFIG_KEY in overrides and WHOLE_CONFIG_KEY in {f.name for f in fields(self.type)}  # type: ignore[arg-type]
        data: dict[str, Any] = {}
        layers: list[Mapping[str, Any]] = []
        if not whole:
            if base is not None:
                layers.append(base)
            elif not chosen and self.default_file is not None:
                layers.append(self.read_yaml(self.default_file))
        if chosen:
            layers.append(self.read_yaml(chosen))
        layers.append({self.shortcuts.get(k, k): v for k, v in config_values(overrides).items()})
        for layer in layers:
            for key, value in layer.items():
                _set_dotted(data, key, copy.deepcopy(value), self, problems)  # never alias the caller's mappings
        return data


def _set_dotted(data: dict[str, Any], key: str, value: Any, spec: ConfigSpec[Any], problems: list[str]) -> None:
    if isinstance(value, Mapping) and "." not in key and isinstance(data.get(key), dict):
        for sub, subvalue in value.items():  # a nested mapping merges into its section
            _set_dotted(data, f"{key}.{sub}", subvalue, spec, problems)
        return
    head, dot, rest = key.partition(".")
    if not dot:
        data[key] = dict(value) if isinstance(value, Mapping) else value
        return
    section = data.setdefault(head, {})
    if not isinstance(section, dict):
        problems.append(f"{spec.label} key {head!r} is not a section, cannot set {key!r}")
        return
    _set_dotted(section, rest, value, spec, problems)


def _leaf_keys(cls: type, prefix: str) -> list[str]:
    hints = get_type_hints(cls)
    out: list[str] = []
    for f in fields(cls):
        hint = hints[f.name]
        out += _leaf_keys(hint, f"{prefix}{f.name}.") if is_dataclass(hint) else [prefix + f.name]
    return out


def _build(cls: type, data: Mapping[str, Any], prefix: str, spec: ConfigSpec[Any], problems: list[str]) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        where = f" in section {prefix.rstrip('.')!r}" if prefix else ""
        shortcuts = f"; shortcuts: {', '.join(spec.shortcuts)}" if not prefix and spec.shortcuts else ""
        problems.append(
            f"unknown {spec.label} key(s) {', '.join(prefix + k for k in unknown)}{where}; "
            f"known: {', '.join(sorted(known))}{shortcuts}"
        )
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            continue
        hint = hints[name]
        if is_dataclass(hint):
            if isinstance(value, Mapping):
                values[name] = _build(hint, value, f"{prefix}{name}.", spec, problems)
            else:
                problems.append(f"{spec.label} key {prefix + name!r} must be a mapping")
            continue
        try:
            values[name] = _coerce(value, hint)
        except ValueError as exc:
            problems.append(f"{spec.label} key {prefix + name!r}: {exc}")
    if problems:
        return None
    return cls(**values)


def _coerce(value: Any, hint: Any) -> Any:
    """``value`` checked against a type hint: bool, int, float, str, Literal, list/tuple of those, string-keyed
    mappings, unions."""
    if get_origin(hint) in (types.UnionType, typing.Union):
        errors = []
        for option in get_args(hint):
            try:
                return _coerce(value, option)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(f"{value!r} is not allowed ({'; '.join(errors)})")
    if hint is type(None):
        if value is None:
            return None
        raise ValueError("expected null")
    if get_origin(hint) is Literal:
        if value in get_args(hint):
            return value
        raise ValueError(f"{value!r} is not one of {list(get_args(hint))}")
    if get_origin(hint) is Mapping or hint is Mapping:
        _, value_hint = get_args(hint) or (str, Any)
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise ValueError("expected a mapping with string keys")
        return {k: v if value_hint is Any else _coerce(v, value_hint) for k, v in value.items()}
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        if isinstance(value, list):
            return [_coerce(v, item) for v in value]
        raise ValueError(f"expected a list of {getattr(item, '__name__', item)}")
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(_coerce(v, item) for v in items)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"expected an integer, got {value!r}")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 1e-4 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ValueError(f"expected a number, got {value!r}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a string, got {value!r}")
    raise ValueError(f"unsupported type {hint!r}")
