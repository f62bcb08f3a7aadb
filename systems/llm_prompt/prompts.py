"""Prompt templates: Jinja files in ``prompts/``, each replaceable by a file of the user's (config)."""

from __future__ import annotations

from pathlib import Path

from llmkit.templates import TemplateSet, load_templates
from systems.llm_prompt.config import LLMPromptConfig, LLMPromptConfigError

PROMPT_DIR = Path(__file__).resolve().parent / "prompts"
#: Template names (files ``prompts/<name>.txt``).
TEMPLATE_NAMES: tuple[str, ...] = (
    "system",
    "subtask1",
    "subtask2",
    "subtask2_answer_first",
    "subtask3",
    "subtask4",
)


def load_prompts(config: LLMPromptConfig) -> TemplateSet:
    """The system's templates, with the config's ``prompt_dir`` and ``prompts`` replacing built-in ones."""
    return load_templates(
        PROMPT_DIR,
        TEMPLATE_NAMES,
        override_dir=config.prompt_dir,
        files=config.prompts,
        error=LLMPromptConfigError,
        label="llm-prompt config",
    )
