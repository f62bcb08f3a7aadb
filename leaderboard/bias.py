"""LLM-judge bias experiments on the leaderboard (``archehr judge bias``, docs/llm_judge.md).

A bias result is never official and never an entry: the store keeps it in its own table, it never enters a
ranking or a significance cluster, and every view shows it in its own section, "LLM judge bias (not official)",
one per task. A result is checked and turned into a :class:`BiasExperiment` by :mod:`leaderboard.ingest`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from harness.tasks import get_task
from leaderboard.formatting import id_ranges
from leaderboard.records import case_set_hash

#: The ``experiment`` field of an ``archehr judge bias`` result.
BIAS_EXPERIMENT = "judge-self-preference"
SECTION_TITLE = "LLM judge bias (not official)"
JUDGE_TAG = "judge's own"
SELF_MINUS_OTHERS = "self − others"


@dataclass(frozen=True)
class BiasRow:
    """One line of a bias table: a system's non-blind minus blind difference (or self minus others)."""

    system: str
    is_judge: bool
    blind: float | None
    non_blind: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float | None
    p_value: float | None
    n_cases: int
    dropped: int
    others: tuple[str, ...] = ()  # the self − others row: the systems it is compared with

    @classmethod
    def of(cls, system: str, is_judge: bool, blind: Any, non_blind: Any, difference: Mapping[str, Any]) -> BiasRow:
        return cls(
            system=system,
            is_judge=is_judge,
            blind=blind,
            non_blind=non_blind,
            delta=difference.get("delta"),
            ci_low=difference.get("ci_low"),
            ci_high=difference.get("ci_high"),
            confidence=difference.get("confidence"),
            p_value=difference.get("p_value"),
            n_cases=int(difference["n_cases"]),
            dropped=int(difference["dropped"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "is_judge": self.is_judge,
            "blind": self.blind,
            "non_blind": self.non_blind,
            "non_blind_minus_blind": self.delta,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "p_value": self.p_value,
            "n_cases": self.n_cases,
            "dropped": self.dropped,
        }


@dataclass(frozen=True)
class BiasExperiment:
    """One stored ``archehr judge bias`` result (``result``: the checked JSON, kept verbatim)."""

    task: str
    split: str
    case_ids: tuple[str, ...]
    judge_signature: str
    result: Mapping[str, Any]
    digest: str  # sha256 of the result's canonical JSON: the same result is added once
    source: str | None = None
    id: int | None = None  # assigned by the store
    added_at: str | None = None

    @property
    def experiment(self) -> str:
        return str(self.result["experiment"])

    @property
    def year(self) -> str:
        """The task's edition (the store's ``year`` column, as for entries)."""
        return get_task(self.task).edition

    @property
    def subtask(self) -> int | None:
        """The task's number (the store's ``subtask`` column, as for entries)."""
        return get_task(self.task).number

    @property
    def case_set_hash(self) -> str:
        return case_set_hash(self.case_ids)

    @property
    def title(self) -> str:
        return f"{SECTION_TITLE} · {get_task(self.task).name}"

    def with_id(self, bias_id: int, added_at: str) -> BiasExperiment:
        return replace(self, id=bias_id, added_at=added_at)

    def rows(self) -> list[BiasRow]:
        """Each system's row, in the result's order."""
        return [
            BiasRow.of(name, bool(s["is_judge"]), s["blind"], s["non_blind"], s["non_blind_minus_blind"])
            for name, s in self.result["systems"].items()
        ]

    def self_minus_others(self) -> BiasRow | None:
        """The judge's own system's difference minus the others' (None when the result has none)."""
        d = self.result.get("self_minus_other")
        if d is None:
            return None
        row = BiasRow.of(SELF_MINUS_OTHERS, False, None, None, d)
        return replace(row, others=tuple(d["others"]))

    def to_json(self) -> dict[str, Any]:
        """The view of ``show --json`` and ``export --format json``."""
        extra = self.self_minus_others()
        return {
            "id": self.id,
            "experiment": self.experiment,
            "not_official": True,
            "task": self.task,
            "split": self.split,
            "n_cases": len(self.case_ids),
            "case_ids": id_ranges(self.case_ids),
            "case_set_hash": self.case_set_hash,
            "judge": self.judge_signature,
            "judge_non_blind": self.result["judge_non_blind"],
            "judge_system_name": self.result.get("judge_system_name"),
            "rows": [r.to_json() for r in self.rows()],
            "self_minus_others": None
            if extra is None
            else {**extra.to_json(), "self": self.result["self_minus_other"]["self"], "others": list(extra.others)},
            "digest": self.digest,
            "source": self.source,
            "added_at": self.added_at,
        }


@dataclass(frozen=True)
class BiasSection:
    """The bias experiments of one task."""

    task: str
    title: str
    experiments: tuple[BiasExperiment, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "task": self.task,
            "not_official": True,
            "experiments": [e.to_json() for e in self.experiments],
        }


def bias_sections(experiments: Sequence[BiasExperiment]) -> list[BiasSection]:
    """One section per task, in the order the tasks first appear (experiments in the order they were added)."""
    grouped: dict[str, list[BiasExperiment]] = {}
    for e in experiments:
        grouped.setdefault(e.task, []).append(e)
    return [BiasSection(task, items[0].title, tuple(items)) for task, items in grouped.items()]


def bias_json(experiments: Sequence[BiasExperiment]) -> dict[str, Any]:
    """``{"judge_bias": [section, …]}`` for the JSON views; ``{}`` when there is none (no empty section)."""
    sections = bias_sections(experiments)
    return {"judge_bias": [s.to_json() for s in sections]} if sections else {}


def format_delta(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:+.{digits}f}"


def format_interval(row: BiasRow, digits: int = 2) -> str:
    if row.ci_low is None or row.ci_high is None:
        return ""
    return f"[{row.ci_low:+.{digits}f}, {row.ci_high:+.{digits}f}]"


def format_p(row: BiasRow) -> str:
    return "" if row.p_value is None else f"{row.p_value:.3g}"


def short_signature(signature: str, width: int = 64) -> str:
    """The start of a long signature (the full one goes into a title attribute or a note)."""
    return signature if len(signature) <= width else signature[: width - 1] + "…"
