"""Simple, honest baselines for every 2026 subtask (registered as ``baseline``).

- Subtask 1: the narrative's question sentence (the last one with a ``?``; else the first marked
  phrase; else the last sentence), cut to 15 words.
- Subtask 2: BM25 over the case's note sentences with the clinician question as query; a sentence
  is selected when its score reaches ``relative_threshold`` × the best score (at most ``max_evidence``).
- Subtask 3: the selected sentences in note order, cut to 75 words at a sentence boundary.
- Subtask 4: per answer sentence, the best BM25 match among the note sentences (one link).

Importing this module is light (rank-bm25 and numpy only load when a system is built).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.systems import DemoPlan, System, register_system
from systems.baselines.config import SPEC


@register_system(
    "baseline",
    subtasks=(1, 2, 3, 4),
    description="Lexical baseline: question sentence (1), BM25 evidence (2), extractive answer (3), BM25 match (4).",
    config=SPEC,
    demo=DemoPlan(subtasks=(1, 2, 3, 4)),
)
def build_baseline(config: Mapping[str, Any]) -> System:
    from systems.baselines.lexical import LexicalBaseline

    return LexicalBaseline(SPEC.load(config))
