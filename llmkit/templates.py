"""Prompt templates kept as data: named Jinja files from a package folder, each replaceable by a user's file.

Rendered in a sandbox with strict undefined variables; a template that does not parse or names a variable the
caller does not give is one error naming the file. Used by the ``llm-prompt`` system and the LLM judge.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from harness.errors import HarnessError


@dataclass
class TemplateSet:
    """Templates by name, where each came from (``origins``), compiled once; ``error`` is raised on a bad one."""

    sources: Mapping[str, str]
    origins: Mapping[str, str]
    error: type[HarnessError] = HarnessError
    _compiled: dict[str, jinja2.Template] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
        for name, text in self.sources.items():
            try:
                self._compiled[name] = env.from_string(text)
            except jinja2.TemplateSyntaxError as exc:
                raise self.error(f"template {self.origins[name]} line {exc.lineno}: {exc.message}") from None

    def render(self, name: str, **context: Any) -> str:
        try:
            return self._compiled[name].render(**context).strip()
        except jinja2.UndefinedError as exc:
            raise self.error(f"template {self.origins[name]}: {exc.message}") from None

    def hashes(self) -> dict[str, str]:
        """sha256 of each template's text (for system cards and signatures: editing a prompt changes them)."""
        return {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in sorted(self.sources.items())}

    @property
    def sha256(self) -> str:
        """One sha256 over every template's name and text."""
        blob = json.dumps(dict(sorted(self.sources.items())), ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def load_templates(
    folder: Path,
    names: Sequence[str],
    *,
    override_dir: str | None = None,
    files: Mapping[str, str] | None = None,
    error: type[HarnessError] = HarnessError,
    label: str = "config",
) -> TemplateSet:
    """``folder/<name>.txt`` for each name, replaced by ``override_dir/<name>.txt`` when that exists and by
    ``files[name]`` when given; unknown names in ``files`` and unreadable files are one error each."""
    files = dict(files or {})
    unknown = sorted(set(files) - set(names))
    if unknown:
        raise error(f"{label} prompts: unknown template(s) {', '.join(unknown)}; known: {', '.join(names)}")
    override = Path(override_dir).expanduser() if override_dir else None
    if override is not None and not override.is_dir():
        raise error(f"{label} prompt_dir: {override} is not a folder")
    sources: dict[str, str] = {}
    origins: dict[str, str] = {}
    for name in names:
        path, origin = folder / f"{name}.txt", f"builtin:{name}.txt"
        if override is not None and (override / f"{name}.txt").is_file():
            path = override / f"{name}.txt"
            origin = str(path)
        if name in files:
            path = Path(files[name]).expanduser()
            origin = str(path)
        try:
            sources[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise error(f"template {path}: cannot be read ({exc})") from None
        origins[name] = origin
    return TemplateSet(sources, origins, error)
