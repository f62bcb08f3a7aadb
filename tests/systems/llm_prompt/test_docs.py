from __future__ import annotations

from pathlib import Path

from systems.llm_prompt.prompts import PROMPT_DIR, TEMPLATE_NAMES

DOC = Path(__file__).resolve().parents[3] / "docs" / "llm_systems.md"


def test_the_doc_shows_every_shipped_prompt_as_it_is() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in TEMPLATE_NAMES:
        template = (PROMPT_DIR / f"{name}.txt").read_text(encoding="utf-8").rstrip()
        assert f"`prompts/{name}.txt`:\n\n```jinja\n{template}\n```" in text, name
