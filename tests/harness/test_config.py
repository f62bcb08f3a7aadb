"""The one config loader: layers, dotted keys, shortcuts, strict types, one error line, control keys."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
import yaml

from harness.config import ConfigError, ConfigSpec, config_values, control_overrides
from harness.systems import list_systems


@dataclass(frozen=True)
class Section:
    steps: int = 1
    rate: float = 0.1
    grid: tuple[int, ...] = (1, 2)


@dataclass(frozen=True)
class Toy:
    name: str = "default"
    mode: Literal["a", "b"] = "a"
    path: str | None = None
    labels: list[str] = field(default_factory=lambda: ["x"])
    flag: bool = False
    train: Section = field(default_factory=Section)


SPEC = ConfigSpec("toy config", Toy, shortcuts={"steps": "train.steps"})


def test_layers_dotted_keys_sections_and_shortcuts(tmp_path: Path) -> None:
    file = tmp_path / "toy.yaml"
    file.write_text(yaml.safe_dump({"mode": "b", "train": {"rate": 0.5}}), encoding="utf-8")
    base = {"path": "from-base", "train": {"steps": 9}}
    config = SPEC.load({"config": str(file), "steps": 3, "train.grid": [4], "labels": ["y", "z"]}, base=base)
    assert config == Toy("default", "b", "from-base", ["y", "z"], False, Section(3, 0.5, (4,)))
    assert SPEC.load({"train": {"rate": "1e-4"}}).train.rate == pytest.approx(1e-4)  # YAML 1.1 reads 1e-4 as text
    assert SPEC.load({"name": "whole"}, base=base).path is None  # overrides naming `name` are a whole config
    assert SPEC.keys() == ["name", "mode", "path", "labels", "flag", "train.steps", "train.rate", "train.grid", "steps"]


def test_every_problem_in_one_line_naming_the_valid_keys() -> None:
    overrides = {"nme": 1, "train.step": 2, "flag": "yes", "mode": "c", "train.rate": "fast", "model_dir": "/m"}
    with pytest.raises(ConfigError) as info:
        SPEC.load(overrides)
    message = str(info.value)
    assert "\n" not in message
    assert "unknown toy config key(s) nme; known: flag, labels, mode, name, path, train; shortcuts: steps" in message
    assert "unknown toy config key(s) train.step in section 'train'; known: grid, rate, steps" in message
    assert "'flag': expected true or false, got 'yes'" in message
    assert "'mode': 'c' is not one of ['a', 'b']" in message
    assert "'train.rate': expected a number, got 'fast'" in message
    assert "model_dir" not in message  # a control key, not a config key
    assert SPEC.problems(overrides) and SPEC.problems({"steps": 2, "model_dir": "/m"}) == []
    with pytest.raises(ConfigError, match="cannot read toy config"):
        SPEC.load({"config": "/no/such.yaml"})


def test_adapter_dir_is_read_as_model_dir_with_a_deprecation_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="harness.config"):
        controls = control_overrides({"adapter_dir": "/m", "steps": 2})
    assert controls == {"model_dir": "/m", "steps": 2}
    assert [r.getMessage() for r in caplog.records] == [
        "--set adapter_dir is deprecated: use model_dir (read as model_dir=/m)"
    ]
    assert config_values(controls) == {"steps": 2}
    assert control_overrides({"adapter_dir": "/old", "model_dir": "/new"})["model_dir"] == "/new"


def test_every_builtin_system_declares_a_typed_config_that_loads() -> None:
    entries = {e.name: e for e in list_systems()}
    for name in ("baseline", "qunlp", "qunlp-aligner", "qunlp-evidence", "classify-generate"):
        spec = entries[name].config
        assert spec is not None, name
        spec.load({})  # defaults (and the default file) are valid
        with pytest.raises(ConfigError, match="known: "):
            spec.load({"no_such_key": 1})
