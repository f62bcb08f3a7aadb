"""Prompted LLM system family ``llm-prompt`` (2026 subtasks 1-4) over any OpenAI-compatible server.

- Subtask 1: the patient message rewritten as a clinician question, with the k most similar annotated cases
  as few-shot examples.
- Subtask 2: note sentences needed, as a JSON list (or, ``evidence_mode: answer-first``, the sentences a
  drafted answer cites), voted over ``samples`` samples with ``vote_threshold``.
- Subtask 3: an answer restricted to the note, with retrieval-augmented few-shot examples (BM25 over the
  training split; never the case itself).
- Subtask 4: per answer sentence, the supporting note sentences, as a JSON object, voted per link.

Prompts are Jinja templates in ``prompts/`` (override with ``prompt_dir`` or ``prompts``). Importing this
module is light: the client and the models load when the system predicts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from harness.systems import DemoPlan, System, register_system
from systems.llm_prompt.config import CONFIG_DIR, SPEC


@contextmanager
def local_server() -> Iterator[dict[str, Any]]:
    """The local OpenAI-compatible server for the demo (one torch thread); yields ``{"base_url": ...}``."""
    from llmkit.server import LocalServer, free_port

    with LocalServer(port=free_port(), threads=1) as server:
        yield {"base_url": server.base_url}


@register_system(
    "llm-prompt",
    subtasks=(1, 2, 3, 4),
    description="Prompted LLM over an OpenAI-compatible server (default: `archehr llm serve`, SmolLM2-135M): "
    "few-shot rewriting, self-consistent evidence, retrieval-augmented answers, voted alignment.",
    config=SPEC,
    # one case per subtask: a 135M model through a real server, at a few seconds per request (the demo budget)
    demo=DemoPlan(
        subtasks=(1, 2, 3, 4), run_config=CONFIG_DIR / "cpu-demo.yaml", case_ids=("21",), service=local_server
    ),
)
def build_llm_prompt(config: Mapping[str, Any]) -> System:
    from systems.llm_prompt.system import LLMPromptSystem

    return LLMPromptSystem(SPEC.load(config))
