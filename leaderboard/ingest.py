"""Score reports (``archehr score --out REPORT.json``, ``demo-output/<system>/subtask<N>/score.json``) into
leaderboard entries. The only module that knows the report's layout (:class:`metrics.report.ScoreReport`).

A report names no system by itself. Its label comes from ``--system``, else a ``system`` object in the
report (a system card, if a later scorer adds one), else the run store beside the report (``runs/*/<split>/
subtask<N>/predictions.jsonl``, whose header holds the system card: the layout ``archehr demo`` writes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import InputError
from leaderboard.records import Entry, MetricResult, canonical_digest
from leaderboard.signatures import parse_signature
from metrics.report import ScoreReport

logger = logging.getLogger(__name__)

#: The run store's predictions file, whose first line is a header with the system card.
PREDICTIONS_FILE = "predictions.jsonl"


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


def find_run_card(report_path: str | Path, split: str, subtask: int | None) -> dict[str, Any] | None:
    """The system card in the run store beside ``report_path``, when exactly one run matches."""
    folder = Path(report_path).parent / "runs"
    if not folder.is_dir():
        return None
    pattern = f"*/{split.replace('/', '__')}/subtask{subtask}/{PREDICTIONS_FILE}"
    cards = []
    for predictions in sorted(folder.glob(pattern)):
        try:
            with predictions.open(encoding="utf-8") as handle:
                header = json.loads(handle.readline())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(header, dict) and isinstance(header.get("system_card"), dict):
            cards.append(header["system_card"])
    if len({c.get("fingerprint") for c in cards}) == 1:
        return cards[0]
    if cards:
        logger.warning("%s: several runs beside the report; pass --system to label it", report_path)
    return None


def _components(signature: str) -> tuple[str, ...]:
    """The keys a combined key averages, from its signature (``overall_score|mean:bleu,sari|…``)."""
    listed = parse_signature(signature)[1].get("mean", "")
    return tuple(k for k in listed.split(",") if k)


def _base_components(key: str, signatures: Mapping[str, str], seen: frozenset[str] = frozenset()) -> set[str]:
    parts = _components(signatures.get(key, ""))
    if not parts or key in seen:
        return {key}
    return set().union(*(_base_components(p, signatures, seen | {key}) for p in parts))


def _family_of(key: str, families: Sequence[str]) -> str | None:
    """The metric family an output key belongs to (``rouge`` for ``rougeLsum``)."""
    return key if key in families else next((f for f in families if key.startswith(f)), None)


def _metrics(report: ScoreReport) -> dict[str, MetricResult]:
    out: dict[str, MetricResult] = {}
    families = sorted(report.unavailable, key=len, reverse=True)
    for key, value in report.scores.items():
        signature = report.signatures.get(key, f"{key}|unsigned")
        aggregation = report.aggregations.get(key, "mean")
        components = _components(signature) if aggregation == "combined" else ()
        rows = report.per_case.get(key)
        per_case = None if rows is None else {c: tuple(v) if isinstance(v, list) else v for c, v in rows.items()}
        missing: tuple[str, ...] = ()
        reason = fix = None
        status = "ok"
        if value is None and key in report.partial_scores:
            value = report.partial_scores[key]
            base = _base_components(key, report.signatures)
            missing = tuple(m for m in report.missing if m in base) or tuple(report.missing)
        elif value is None:
            status = "unavailable"
            family = _family_of(key, families)
            if family is not None:
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
    raw_card = report.get("system")
    card = dict(raw_card) if isinstance(raw_card, Mapping) else None
    if card is None and source is not None:
        card = find_run_card(source, parsed.split, parsed.subtask)
    named = (card or {}).get("name") or (raw_card if isinstance(raw_card, str) else None)
    label = system or named
    if not label:
        raise InputError.one(
            "the report names no system and no run store lies beside it: label it with --system NAME", file=source
        )
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
