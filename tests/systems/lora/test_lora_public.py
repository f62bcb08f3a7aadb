"""Both QLoRA systems share code through the public ``systems.lora`` library, never each other's internals."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _imports(folder: Path) -> list[tuple[str, str, str]]:
    """(file, module, name) of every ``from X import Y`` under ``folder``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found += [(path.name, node.module, alias.name) for alias in node.names]
    return found


def test_classify_generate_imports_nothing_of_the_generator() -> None:
    imports = _imports(REPO / "systems" / "classify_generate")
    assert not [i for i in imports if i[1].startswith("systems.qunlp")], "use systems.lora"
    assert {m for _, m, _ in imports if m.startswith("systems.lora")} >= {
        "systems.lora.basemodel",
        "systems.lora.cards",
        "systems.lora.prompts",
        "systems.lora.training",
        "systems.lora.config",
    }


def test_no_private_names_cross_system_packages() -> None:
    for package in ("classify_generate", "qunlp", "lora", "baselines"):
        for file, module, name in _imports(REPO / "systems" / package):
            if module.startswith("systems.") and not module.startswith(f"systems.{package}"):
                assert not name.startswith("_"), (package, file, module, name)


def test_the_library_stays_light_to_import() -> None:
    code = (
        "import sys, systems.lora, systems.lora.config, systems.lora.cards, systems.lora.prompts\n"
        "import systems.lora.postprocess, systems.lora.generation, systems.lora.basemodel\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
