"""One source of pins: ``requirements/constraints.txt`` (the full pinned set the Makefile installs with).
Every pin in the other requirements files equals it, and every requirement of ``setup.cfg`` (core and
extras) admits the pinned version, so the two ways of installing cannot drift apart."""

from __future__ import annotations

import configparser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"


def _pins(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {line} is not pinned"
        out[canonicalize_name(requirement.name)] = specifier.version
    return out


def test_requirement_files_agree_with_the_constraints():
    constraints = _pins(REQUIREMENTS / "constraints.txt")
    for path in sorted(REQUIREMENTS.glob("*.txt")):
        for name, version in _pins(path).items():
            assert constraints.get(name) == version, (
                f"{path.name}: {name}=={version}, constraints: {constraints.get(name)}"
            )


def test_setup_cfg_admits_the_pinned_versions():
    constraints = _pins(REQUIREMENTS / "constraints.txt")
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = config["options"]["install_requires"].split("\n")
    lines += [line for extra in config["options.extras_require"].values() for line in extra.split("\n")]
    checked = 0
    for line in filter(None, (raw.strip() for raw in lines)):
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name == "vllm":  # the optional GPU server is never installed here
            continue
        assert name in constraints, f"setup.cfg requires {name}, which constraints.txt does not pin"
        assert requirement.specifier.contains(constraints[name]), f"setup.cfg {line} excludes {constraints[name]}"
        checked += 1
    assert checked > 20
