"""Prompt templates: Jinja files in ``prompts/``, each replaceable by a file of the user's (config)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

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


@dataclass
class PromptSet:
    """The loaded templates, where each came from, and their compiled forms."""

    sources: Mapping[str, str]
    origins: Mapping[str, str]
    _compiled: dict[str, jinja2.Template] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
        for name, text in self.sources.items():
            try:
                self._compiled[name] = env.from_string(text)
            except jinja2.TemplateSyntaxError as exc:
                raise LLMPromptConfigError(
                    f"prompt template {self.origins[name]} line {exc.lineno}: {exc.message}"
                ) from None

    def render(self, name: str, **context: Any) -> str:
        try:
            return self._compiled[name].render(**context).strip()
        except jinja2.UndefinedError as exc:
            raise LLMPromptConfigError(f"prompt template {self.origins[name]}: {exc.message}") from None

    def hashes(self) -> dict[str, str]:
        """sha256 of each template's text (recorded in the system card, so editing a prompt changes the run)."""
        return {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in sorted(self.sources.items())}


def load_prompts(config: LLMPromptConfig) -> PromptSet:
    unknown = sorted(set(config.prompts) - set(TEMPLATE_NAMES))
    if unknown:
        raise LLMPromptConfigError(
            f"llm-prompt config prompts: unknown template(s) {', '.join(unknown)}; known: {', '.join(TEMPLATE_NAMES)}"
        )
    sources: dict[str, str] = {}
    origins: dict[str, str] = {}
    override_dir = Path(config.prompt_dir).expanduser() if config.prompt_dir else None
    if override_dir is not None and not override_dir.is_dir():
        raise LLMPromptConfigError(f"llm-prompt config prompt_dir: {override_dir} is not a folder")
    for name in TEMPLATE_NAMES:
        path = PROMPT_DIR / f"{name}.txt"
        origin = f"builtin:{name}.txt"
        if override_dir is not None and (override_dir / f"{name}.txt").is_file():
            path = override_dir / f"{name}.txt"
            origin = str(path)
        if name in config.prompts:
            path = Path(config.prompts[name]).expanduser()
            origin = str(path)
        try:
            sources[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LLMPromptConfigError(f"prompt template {path}: cannot be read ({exc})") from None
        origins[name] = origin
    return PromptSet(sources, origins)
