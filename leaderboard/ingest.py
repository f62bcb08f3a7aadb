"""Score reports (``archehr score --out REPORT.json``, ``demo-output/<system>/subtask<N>/score.json``) into
leaderboard entries. Reads the report's fields only (:class:`metrics.report.ScoreReport`): it never parses
signature strings and never looks into run folders.

A report's label comes from ``--system``, else from the system card the report carries (``system``: the
scorer writes it when it knows the system, as ``archehr eval`` and the demo do).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import InputError
from leaderboard.records import Entry, MetricResult, canonical_digest
from metrics.report import ScoreReport

logger = logging.getLogger(__name__)


def read_report(path: str | Path) -> dict[str, Any]:
    """The report at ``path`` as a dict; unreadable JSON is an :class:`InputError` naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError.one("no such file", file=path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError.one(f"not a JSON score report ({exc})", file=path) from None
    if not isinstance(data, dict):
        raise InputError.one("not a score report (expected a JSON object)", file=path)
    return data


def _base_components(key: str, components: Mapping[str, Sequence[str]], seen: frozenset[str] = frozenset()) -> set[str]:
    """The metric keys a combined key rests on, through nested combined keys."""
    parts = components.get(key, ())
    if not parts or key in seen:
        return {key}
    return set().union(*(_base_components(p, components, seen | {key}) for p in parts))


def _metrics(report: ScoreReport) -> dict[str, MetricResult]:
    out: dict[str, MetricResult] = {}
    for key, value in report.scores.items():
        signature = report.signatures.get(key, f"{key}|unsigned")
        aggregation = report.aggregations.get(key, "mean")
        components = report.components.get(key, ())
        rows = report.per_case.get(key)
        per_case = None if rows is None else {c: tuple(v) if isinstance(v, list) else v for c, v in rows.items()}
        missing: tuple[str, ...] = ()
        reason = fix = None
        status = "ok"
        if value is None and key in report.partial_scores:
            value = report.partial_scores[key]
            base = _base_components(key, report.components)
            missing = tuple(m for m in report.missing if m in base) or tuple(report.missing)
        elif value is None:
            status = "unavailable"
            family = report.families.get(key)
            if family is not None and family in report.unavailable:
                reason, fix = report.unavailable[family].reason, report.unavailable[family].fix
            elif aggregation == "combined":
                reason = "a component is unavailable and no partial value was given"
        out[key] = MetricResult(
            key=key,
            signature=signature,
            value=value,
            status=status,
            per_case=per_case,
            aggregation=aggregation,
            reason=reason,
            fix=fix,
            missing=missing,
            components=components,
        )
    return out


def entry_from_report(report: Mapping[str, Any], *, system: str | None = None, source: str | None = None) -> Entry:
    """An entry from a report dict. ``system`` labels the entry (needed when the report names no system)."""
    parsed = ScoreReport.from_json(report, source=source)
    card = parsed.system
    named = (card or {}).get("name")
    label = system or named
    if not label:
        raise InputError.one("the report names no system: label it with --system NAME", file=source)
    if system and named and system != named:
        logger.warning("%s: labelled %r although its run names %r", source or "report", system, named)
    metrics = _metrics(parsed)
    overall = metrics.get(parsed.overall_key)
    run = {
        "scorer_signature": parsed.signatures.get("scorer"),
        "comparable": parsed.comparable,
        "not_comparable": list(parsed.not_comparable),
        "validated": parsed.validated,
        "truncated": list(parsed.truncated),
        "warnings": list(parsed.warnings),
    }
    return Entry(
        system=str(label),
        year=parsed.year,
        subtask=parsed.subtask,
        split=parsed.split,
        case_ids=parsed.case_ids,
        key_hash=parsed.key_hash,
        metrics=metrics,
        digest=canonical_digest(dict(report)),
        fingerprint=(card or {}).get("fingerprint"),
        card=card,
        harness_version=parsed.harness_version,
        report_schema_version=parsed.schema_version,
        partial=parsed.partial,
        missing=overall.missing if overall is not None and overall.missing else tuple(parsed.missing),
        lexical_only=parsed.lexical_only,
        source=source,
        run=run,
    )
