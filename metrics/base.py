"""The metric interface: reference-side preparation once per key, batched per-case scoring, signatures.

Every metric reports per-case values (on its own scale) and a signature string that
identifies everything that changes its numbers. A metric that cannot run (missing
checkpoint, no UMLS index) raises :class:`MetricUnavailable` with the reason and the
fix; scorers record it as ``unavailable`` and mark the overall score ``partial``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

HARNESS_METRICS_VERSION = "0.1"


class MetricUnavailable(Exception):
    """A metric cannot run here: ``reason`` says why, ``fix`` says how to supply what it lacks."""

    def __init__(self, name: str, reason: str, fix: str) -> None:
        super().__init__(f"{name} unavailable: {reason} (fix: {fix})")
        self.name = name
        self.reason = reason
        self.fix = fix


@runtime_checkable
class Metric(Protocol):
    """A text metric scored per case. ``score`` returns one value per prediction, in percent (0-100)."""

    name: str
    higher_is_better: bool

    def signature(self) -> str:
        """E.g. ``bertscore|model:distilbert-base-uncased|layer:4|rescale:yes|bert_score:0.3.13|harness:0.1``."""
        ...

    def prepare(self, references: Sequence[str]) -> Any:
        """Reference-side work, done once per key (tokenisation, concept extraction …)."""
        ...

    def score(self, prepared: Any, predictions: Sequence[str], sources: Sequence[str] | None = None) -> list[float]:
        """Per-case scores in percent, batched across cases (one model load, batched forward passes)."""
        ...


@dataclass(frozen=True)
class MetricValue:
    """A metric's outcome in a report: per-case values and their mean, or why it is unavailable."""

    name: str
    signature: str
    status: Literal["ok", "unavailable"]
    mean: float | None = None
    per_case: dict[str, float] | None = None
    reason: str | None = None
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "signature": self.signature,
            "status": self.status,
            "mean": self.mean,
            "per_case": self.per_case,
            "reason": self.reason,
            "fix": self.fix,
        }
