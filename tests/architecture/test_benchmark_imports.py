"""Benchmarks run outside the test suite, so their imports can rot unseen: every import in them (also those
inside functions) must name a module that exists and names it exports, unless the top-level package is an
optional one that is not installed here."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def _imports(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, tuple(alias.name for alias in node.names)))
    return out


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_import_of_a_benchmark_resolves(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    problems = []
    for module, names in _imports(script):
        if module == "__future__" or importlib.util.find_spec(module.split(".")[0]) is None:
            continue  # an optional package not installed here
        try:
            loaded = importlib.import_module(module)
        except ImportError as exc:
            problems.append(f"{module}: {exc}")
            continue
        problems += [f"{module}.{name} does not exist" for name in names if not _has(loaded, module, name)]
    assert not problems, f"{script.name}: " + "; ".join(problems)


def _has(loaded: object, module: str, name: str) -> bool:
    """``from module import name``: an attribute, or a submodule not imported yet."""
    if hasattr(loaded, name):
        return True
    return importlib.util.find_spec(f"{module}.{name}") is not None
