from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from systems.llm_prompt.config import CONFIG_DIR, SPEC


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path: Path) -> None:
    SPEC.load(yaml.safe_load(path.read_text(encoding="utf-8")))
