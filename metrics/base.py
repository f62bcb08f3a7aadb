"""The metric interface: reference-side preparation once per key, batched per-case scoring, signatures.

Every metric reports per-case values (on its own scale) and a signature string that
identifies everything that changes its numbers. A metric that cannot run (missing
checkpoint, no UMLS index) raises :class:`MetricUnavailable` with the reason and the
fix; scorers record it as ``unavailable`` and mark the overall score ``partial``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

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
    """A text metric scored per case: per-case values in percent (0-100) for each of its family's outputs.

    Output keys, display names and higher-is-better live in the family's
    :class:`~metrics.registry.MetricSpec`, not on the metric object.
    """

    name: str

    def signature(self) -> str:
        """E.g. ``bertscore|model:distilbert-base-uncased|layer:4|rescale:yes|bert_score:0.3.13|harness:0.1``."""
        ...

    def prepare(self, references: Sequence[str]) -> Any:
        """Reference-side work, done once per key (tokenisation, concept extraction …)."""
        ...

    def score_outputs(
        self, prepared: Any, predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> Mapping[str, list[float]]:
        """Per-case scores in percent for every output key, batched across cases."""
        ...


class SingleOutput:
    """Mixin for a metric with one output key (``output_key``): ``score_outputs`` from ``score``."""

    output_key: str

    def score(self, prepared: Any, predictions: Sequence[str], sources: Sequence[str] | None = None) -> list[float]:
        raise NotImplementedError

    def score_outputs(
        self, prepared: Any, predictions: Sequence[str], sources: Sequence[str] | None = None
    ) -> dict[str, list[float]]:
        return {self.output_key: self.score(prepared, predictions, sources)}
