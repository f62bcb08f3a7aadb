"""The leaderboard's own record of a score report: what the store keeps and the views read.

A record is built from a report by :mod:`leaderboard.ingest`; nothing here knows the report's JSON layout.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

#: Version of the leaderboard's JSON views (``show --json``, ``export --format json``, ``compare --json``).
VIEW_SCHEMA_VERSION = 1

#: Per-case value of a metric: a float (the case's score), or for pooled metrics such as micro-F1 the
#: case's counts ``[true positives, predicted, gold]``.
CaseValue = float | tuple[float, ...]


@dataclass(frozen=True)
class MetricResult:
    """One output key of a report (``bleu``, ``strict_micro_f1``, ``overall_score`` …), in percent."""

    key: str
    signature: str
    value: float | None  # None when the metric was unavailable
    status: str = "ok"  # "ok" | "unavailable"
    per_case: Mapping[str, CaseValue] | None = None
    #: How ``value`` comes from per-case values: "mean"; "micro_f1" (pooled per-case counts); "micro" (pooled,
    #: no per-case rows); "combined" (the mean of ``components``).
    aggregation: str = "mean"
    reason: str | None = None
    fix: str | None = None
    higher_is_better: bool | None = None  # None: the leaderboard schema decides
    missing: tuple[str, ...] = ()  # a partial aggregate (overall score): the components it lacks
    components: tuple[str, ...] = ()  # aggregation "combined": the keys it averages

    @property
    def available(self) -> bool:
        return self.status == "ok" and self.value is not None

    def to_json(self) -> dict[str, Any]:
        per_case = None if self.per_case is None else {k: _case_json(v) for k, v in self.per_case.items()}
        return {
            "key": self.key,
            "signature": self.signature,
            "value": self.value,
            "status": self.status,
            "aggregation": self.aggregation,
            "per_case": per_case,
            "reason": self.reason,
            "fix": self.fix,
            "higher_is_better": self.higher_is_better,
            "missing": list(self.missing),
            "components": list(self.components),
        }

    @property
    def partial(self) -> bool:
        return bool(self.missing)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MetricResult:
        per_case = data.get("per_case")
        return cls(
            key=data["key"],
            signature=data["signature"],
            value=data.get("value"),
            status=data.get("status", "ok"),
            per_case=None if per_case is None else {k: _case_value(v) for k, v in per_case.items()},
            aggregation=data.get("aggregation", "mean"),
            reason=data.get("reason"),
            fix=data.get("fix"),
            higher_is_better=data.get("higher_is_better"),
            missing=tuple(data.get("missing") or ()),
            components=tuple(data.get("components") or ()),
        )


def _case_json(value: CaseValue) -> float | list[float]:
    return list(value) if isinstance(value, tuple) else value


def _case_value(value: Any) -> CaseValue:
    return tuple(float(v) for v in value) if isinstance(value, list | tuple) else float(value)


@dataclass(frozen=True)
class Entry:
    """One score report on the leaderboard."""

    system: str
    year: str
    subtask: int | None  # None for the 2025 task
    split: str
    case_ids: tuple[str, ...]
    key_hash: str
    metrics: Mapping[str, MetricResult]
    digest: str  # sha256 of the report's canonical JSON: the same report is added once
    fingerprint: str | None = None
    card: Mapping[str, Any] | None = None
    harness_version: str | None = None
    report_schema_version: int | None = None
    partial: bool = False  # the overall score lacks components
    missing: tuple[str, ...] = ()  # the components it lacks
    lexical_only: bool = False
    source: str | None = None  # the report file it came from
    created_at: str | None = None  # when the report was written, if it says
    run: Mapping[str, Any] = field(default_factory=dict)  # other run metadata from the report
    id: int | None = None  # assigned by the store
    added_at: str | None = None

    @property
    def case_set_hash(self) -> str:
        return case_set_hash(self.case_ids)

    @property
    def stand_ins(self) -> tuple[str, ...]:
        """Output keys computed with stand-ins (never comparable with official numbers)."""
        return tuple(self.run.get("not_comparable") or ())

    @property
    def label(self) -> str:
        """``system #id``: unique on one board."""
        return self.system if self.id is None else f"{self.system} #{self.id}"

    def with_id(self, entry_id: int, added_at: str) -> Entry:
        return replace(self, id=entry_id, added_at=added_at)

    def check(self) -> None:
        """Refuse values a leaderboard must never show: NaN/inf, per-case ids outside the case set."""
        cases = set(self.case_ids)
        for m in self.metrics.values():
            if m.value is not None and not math.isfinite(m.value):
                raise ValueError(f"metric {m.key} has a non-finite value {m.value!r}")
            for cid, v in (m.per_case or {}).items():
                if cid not in cases:
                    raise ValueError(f"metric {m.key} has a per-case value for case {cid!r}, which is not scored")
                if not all(math.isfinite(x) for x in (v if isinstance(v, tuple) else (v,))):
                    raise ValueError(f"metric {m.key} has a non-finite value for case {cid!r}")

    def to_json(self, *, per_case: bool = True) -> dict[str, Any]:
        metrics = {}
        for key, m in self.metrics.items():
            data = m.to_json()
            if not per_case:
                data.pop("per_case")
            metrics[key] = data
        return {
            "id": self.id,
            "system": self.system,
            "fingerprint": self.fingerprint,
            "year": self.year,
            "subtask": self.subtask,
            "split": self.split,
            "n_cases": len(self.case_ids),
            "case_ids": list(self.case_ids),
            "case_set_hash": self.case_set_hash,
            "key_hash": self.key_hash,
            "harness_version": self.harness_version,
            "report_schema_version": self.report_schema_version,
            "partial": self.partial,
            "missing": list(self.missing),
            "lexical_only": self.lexical_only,
            "digest": self.digest,
            "source": self.source,
            "created_at": self.created_at,
            "added_at": self.added_at,
            "card": None if self.card is None else dict(self.card),
            "run": dict(self.run),
            "metrics": metrics,
        }


def case_set_hash(case_ids: tuple[str, ...] | list[str]) -> str:
    """Order-free hash of a set of case ids (sha256 of the sorted, newline-joined ids)."""
    blob = "\n".join(sorted(set(case_ids))).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def canonical_digest(data: Any) -> str:
    """sha256 of ``data`` as canonical JSON (sorted keys, no spaces)."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
