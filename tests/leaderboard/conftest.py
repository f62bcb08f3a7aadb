"""Builders of leaderboard entries and score-report dicts for the leaderboard tests."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import mean
from typing import Any

import pytest

from leaderboard.records import Entry, MetricResult, canonical_digest
from metrics.report import ScoreReport, Unavailable

ST3_COMPONENTS = ("bleu", "rougeLsum", "sari", "bertscore", "alignscore", "medcon")
TEST_2026 = tuple(str(i) for i in range(121, 168))
KEY_HASH = "k" * 64


def signature_of(key: str, variant: str = "a") -> str:
    return f"{key}|impl:test|variant:{variant}|harness:0.1"


def make_entry(
    system: str = "sys",
    *,
    seed: int = 0,
    case_ids: Sequence[str] = TEST_2026,
    split: str = "test-2026",
    key_hash: str = KEY_HASH,
    missing: Sequence[str] = (),
    variants: dict[str, str] | None = None,
    shift: float = 0.0,
    lexical_only: bool = False,
    card: dict[str, Any] | None = None,
) -> Entry:
    """A subtask-3 entry with per-case values drawn from ``seed`` (plus ``shift`` on every value)."""
    rng = random.Random(seed)
    variants = variants or {}
    metrics: dict[str, MetricResult] = {}
    per_component: dict[str, dict[str, float]] = {}
    for key in ST3_COMPONENTS:
        signature = signature_of(key, variants.get(key, "a"))
        if key in missing:
            metrics[key] = MetricResult(
                key, signature, None, "unavailable", reason=f"{key} model not found", fix=f"supply the {key} asset"
            )
            continue
        values = {c: min(100.0, max(0.0, rng.uniform(10, 60) + shift)) for c in case_ids}
        per_component[key] = values
        metrics[key] = MetricResult(key, signature, sum(values.values()) / len(values), per_case=values)
    overall = {c: sum(v[c] for v in per_component.values()) / len(per_component) for c in case_ids}
    metrics["overall_score"] = MetricResult(
        "overall_score",
        signature_of("overall_score", variants.get("overall_score", "a")),
        sum(overall.values()) / len(overall),
        per_case=overall,
        missing=tuple(missing),
    )
    return Entry(
        system=system,
        year="2026",
        subtask=3,
        split=split,
        case_ids=tuple(case_ids),
        key_hash=key_hash,
        metrics=metrics,
        digest=canonical_digest([system, seed, list(case_ids), split, key_hash, list(missing), variants, shift]),
        fingerprint=(card or {}).get("fingerprint"),
        card=card,
        partial=bool(missing),
        missing=tuple(missing),
        lexical_only=lexical_only,
    )


def make_report(
    system: str | None = "sys",
    *,
    seed: int = 0,
    case_ids: Sequence[str] = TEST_2026,
    missing: Sequence[str] = (),
    shift: float = 0.0,
) -> dict[str, Any]:
    """A subtask-3 score-report dict as :class:`metrics.report.ScoreReport` writes it (values from
    :func:`make_entry`); with ``system`` it also carries a ``system`` card."""
    entry = make_entry(system or "unnamed", seed=seed, case_ids=case_ids, missing=missing, shift=shift)
    components = [entry.metrics[k] for k in ST3_COMPONENTS]
    available = [m.value for m in components if m.value is not None]
    overall_signature = f"overall_score|mean:{','.join(ST3_COMPONENTS)}|2026-subtask3|components:abc123"
    report = ScoreReport(
        task="2026/3",
        split="test-2026",
        case_ids=tuple(case_ids),
        key_hash=KEY_HASH,
        scores={**{m.key: m.value for m in components}, "overall_score": None if missing else mean(available)},
        overall_key="overall_score",
        signatures={
            **{m.key: m.signature for m in components},
            "overall_score": overall_signature,
            "scorer": "archehr-score|task:2026-subtask3|harness:0.1.0",
        },
        aggregations={**{k: "mean" for k in ST3_COMPONENTS}, "overall_score": "combined"},
        per_case={m.key: dict(m.per_case) for m in components if m.per_case},
        partial=bool(missing),
        missing=tuple(missing),
        partial_scores={"overall_score": mean(available)} if missing else {},
        unavailable={k: Unavailable(f"{k} model not found", f"supply the {k} asset") for k in missing},
        families={k: "rouge" if k.startswith("rouge") else k for k in ST3_COMPONENTS},
        components={"overall_score": tuple(ST3_COMPONENTS)},
    ).to_json()
    if system is not None:
        report["system"] = {"name": system, "version": "1", "fingerprint": f"fp-{system}-{seed}"}
    return report


def write_report(folder: Path, name: str, report: dict[str, Any]) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


@pytest.fixture
def entry_factory() -> Callable[..., Entry]:
    return make_entry


@pytest.fixture
def report_factory() -> Callable[..., dict[str, Any]]:
    return make_report


@pytest.fixture
def report_file(tmp_path: Path) -> Callable[..., Path]:
    """``report_file(name, **make_report_kwargs)`` writes a report under tmp_path and returns its path."""

    def build(name: str, **kwargs: Any) -> Path:
        return write_report(tmp_path / "reports", name, make_report(**kwargs))

    return build
