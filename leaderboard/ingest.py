"""Score reports (``archehr score --out REPORT.json``, ``demo-output/<system>/subtask<N>/score.json``) into
leaderboard entries. Reads the report's fields only (:class:`metrics.report.ScoreReport`): it never parses
signature strings and never looks into run folders.

A report's label comes from ``--system``, else from the system card the report carries (``system``: the
scorer writes it when it knows the system, as ``archehr eval`` and the demo do).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import InputError, Problem
from harness.tasks import UnknownTaskError, get_task
from harness.textutil import strip_control
from leaderboard.bias import BIAS_EXPERIMENT, BiasExperiment
from leaderboard.records import Entry, MetricResult, canonical_digest
from leaderboard.schema import YEARS
from metrics.registry import output_spec
from metrics.report import ScoreReport

logger = logging.getLogger(__name__)


#: Limits on an untrusted report: a real one is well under 1 MB and 6 levels deep.
MAX_REPORT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 100_000  # entries of one list or object
MAX_TEXT = 10_000  # characters of one string
MAX_LABEL = 200  # characters of a system name or split
MAX_INT_DIGITS = 15
MAX_COUNT = 10_000_000  # a per-case count ([tp, predicted, gold])
#: Percent metrics live in [0, 100]; a baseline-rescaled one (signature ``rescale:yes``) may go below 0.
PERCENT_RANGE = (0.0, 100.0)
#: Rounding slack at the ends of a range: a perfect BLEU is 100.00000000000004 after float arithmetic.
RANGE_SLACK = 1e-9


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"integer with {len(text.lstrip('-'))} digits, over the {MAX_INT_DIGITS}-digit limit")
    return int(text)


def read_json(path: str | Path, what: str = "score report") -> Any:
    """The JSON at ``path``, size-capped (``MAX_REPORT_BYTES``) and with bounded integers, not yet checked;
    problems are an :class:`InputError` naming the file (``what`` names the file's kind in the message)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise InputError.one(
                f"file is {size} bytes, over the {MAX_REPORT_BYTES}-byte limit for a {what}", file=path
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_REPORT_BYTES + 1)
    except FileNotFoundError:
        raise InputError.one("no such file", file=path) from None
    except IsADirectoryError:
        raise InputError.one(f"a folder, not a {what}", file=path) from None
    if len(raw) > MAX_REPORT_BYTES:
        raise InputError.one(f"file is over the {MAX_REPORT_BYTES}-byte limit for a {what}", file=path)
    try:
        return json.loads(raw.decode("utf-8"), parse_int=_bounded_int)
    except RecursionError:
        raise InputError.one(f"not a {what} (JSON nested too deeply)", file=path) from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError, as is a huge integer
        raise InputError.one(f"not a JSON {what} ({exc})", file=path) from None


def read_report(path: str | Path) -> dict[str, Any]:
    """The report at ``path`` as a dict, size-capped and checked (:func:`check_report`); problems are an
    :class:`InputError` naming the file."""
    data = read_json(path)
    check_report(data, str(path))
    return data


def _depth_problem(data: Any) -> str | None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(value, dict | list):
            if len(value) > MAX_ITEMS:
                return f"an object or list of {len(value)} items, over the {MAX_ITEMS} limit"
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_text(value: Any, limit: int = MAX_TEXT) -> bool:
    return isinstance(value, str) and len(value) <= limit


def check_report(data: Any, source: str | None) -> None:
    """Refuse a report whose shape, types, sizes, depth or ranges are not those :class:`ScoreReport` writes.

    Percent values (``scores``, ``partial_scores``, per-case means) lie in [0, 100] (below 0 only for a
    baseline-rescaled metric); per-case counts are ``[tp, predicted, gold]`` of non-negative integers.
    """
    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        problems.append(Problem(message, source, None, field))

    if not isinstance(data, dict):
        raise InputError.one("not a score report (expected a JSON object)", file=source)
    depth = _depth_problem(data)
    if depth is not None:
        raise InputError.one(f"not a score report ({depth})", file=source)
    if data.get("year") not in YEARS:
        bad("year", f"year {data.get('year')!r} is not one of {', '.join(YEARS)}")
    subtask = data.get("subtask")
    if subtask is not None and (not isinstance(subtask, int) or isinstance(subtask, bool) or not 1 <= subtask <= 4):
        bad("subtask", f"subtask {subtask!r} is not 1-4 (or null for 2025)")
    if not _is_text(data.get("split"), MAX_LABEL) or not data.get("split"):
        bad("split", f"split must be a name of at most {MAX_LABEL} characters")
    for name in ("key_hash", "overall_key"):
        if not _is_text(data.get(name), MAX_LABEL):
            bad(name, f"{name} must be a string of at most {MAX_LABEL} characters")
    system = data.get("system")
    if system is not None and not (_is_text(system, MAX_LABEL) or isinstance(system, dict)):
        bad("system", "system must be a name or a system card object")
    for name in ("case_ids", "missing", "not_comparable", "truncated", "warnings"):
        value = data.get(name, [])
        if not isinstance(value, list) or not all(_is_text(v) for v in value):
            bad(name, f"{name} must be a list of strings")
    for name in ("partial", "lexical_only", "comparable", "validated"):
        if not isinstance(data.get(name, False), bool):
            bad(name, f"{name} must be true or false")
    signatures = data.get("signatures")
    mappings = {
        "scores": data.get("scores"),
        "partial_scores": data.get("partial_scores", {}),
        "signatures": signatures,
    }
    mappings |= {"aggregations": data.get("aggregations", {}), "per_case": data.get("per_case", {})}
    mappings |= {"unavailable": data.get("unavailable", {})}
    for name, value in mappings.items():
        if not isinstance(value, dict):
            bad(name, f"{name} must be an object, not {type(value).__name__}")
    if problems:
        raise InputError(problems)
    for name in ("signatures", "aggregations"):
        for key, value in mappings[name].items():
            if not _is_text(value):
                bad(f"{name}.{key}", "must be a string")
    for family, value in mappings["unavailable"].items():
        if not isinstance(value, dict) or not all(_is_text(value.get(k)) for k in ("reason", "fix")):
            bad(f"unavailable.{family}", "must be an object with string reason and fix")

    def percent(field: str, key: str, value: Any) -> None:
        spec = output_spec(key)  # a registered output's native range; combined and unknown keys: percent
        low, high = spec.scale if spec is not None else PERCENT_RANGE
        rescaled = "rescale:yes" in str(signatures.get(key, ""))
        if not _is_number(value):
            bad(field, f"{value!r} is not a finite number")
        elif value > high + RANGE_SLACK or (value < low - RANGE_SLACK and not rescaled):
            bad(field, f"{value!r} is outside the percent range {low:g}-{high:g}")

    for key, value in mappings["scores"].items():
        if value is not None:
            percent(f"scores.{key}", key, value)
    for key, value in mappings["partial_scores"].items():
        percent(f"partial_scores.{key}", key, value)
    for key, rows in mappings["per_case"].items():
        if not isinstance(rows, dict):
            bad(f"per_case.{key}", "must be an object of case id to value")
            continue
        for case_id, value in rows.items():
            field = f"per_case.{key}.{case_id}"
            if isinstance(value, list):
                if len(value) != 3 or not all(
                    isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_COUNT for v in value
                ):
                    bad(field, "a per-case count must be [tp, predicted, gold] of non-negative integers")
            else:
                percent(field, key, value)
            if len(problems) > 20:
                break
    if problems:
        raise InputError(problems[:20])


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
    check_report(report, source)
    parsed = ScoreReport.from_json(report, source=source)
    card = parsed.system
    named = (card or {}).get("name")
    label = system or named
    if not label:
        raise InputError.one("the report names no system: label it with --system NAME", file=source)
    if strip_control(str(label), keep_newlines=False) != str(label) or len(str(label)) > MAX_LABEL:
        raise InputError.one(
            f"system name {str(label)[:60]!r} holds control characters or is over {MAX_LABEL} characters",
            file=source,
            field="system",
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


# ---------------------------------------------------------------------- LLM-judge bias results

#: Limits on an untrusted bias result (``archehr judge bias --out``).
MAX_BIAS_SYSTEMS = 100
#: A difference of two judge means in percent.
DIFFERENCE_RANGE = (-100.0, 100.0)
_DIFFERENCE_NUMBERS = ("delta", "ci_low", "ci_high", "a", "b")


def is_bias_result(data: Any) -> bool:
    """Whether ``data`` claims to be an experiment result (it has an ``experiment`` field) rather than a report."""
    return isinstance(data, dict) and "experiment" in data


def _has_control(text: str) -> bool:
    return strip_control(text, keep_newlines=False) != text


def check_bias_result(data: Any, source: str | None) -> None:
    """Refuse an ``archehr judge bias`` result whose shape, types, sizes or ranges are not those it writes.

    Judge means lie in [0, 100], differences and their intervals in [-100, 100] with ``ci_low <= delta <=
    ci_high``; ``n_cases`` and ``dropped`` are non-negative integers adding up to the case count; names, split,
    case ids and signatures hold no control characters; the task is one the judge reads.
    """
    from metrics.judge.core import JUDGE_TASKS  # the judge's own word on the tasks it reads

    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        problems.append(Problem(message, source, None, field))

    def label(field: str, value: Any, *, limit: int = MAX_LABEL) -> bool:
        if not isinstance(value, str) or not value or len(value) > limit:
            bad(field, f"must be a non-empty string of at most {limit} characters")
            return False
        if _has_control(value):
            bad(field, f"{value[:60]!r} holds control characters")
            return False
        return True

    def number(field: str, value: Any, low: float, high: float, *, required: bool = True) -> bool:
        if value is None and not required:
            return True
        if not _is_number(value):
            bad(field, f"{value!r} is not a finite number")
            return False
        if not low - RANGE_SLACK <= value <= high + RANGE_SLACK:
            bad(field, f"{value!r} is outside {low:g}..{high:g}")
            return False
        return True

    def count(field: str, value: Any) -> bool:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
            bad(field, f"{value!r} is not a non-negative integer")
            return False
        return True

    def difference(field: str, d: Any, n_total: int) -> None:
        if not isinstance(d, dict):
            bad(field, "must be an object")
            return
        counted = count(f"{field}.n_cases", d.get("n_cases")) & count(f"{field}.dropped", d.get("dropped"))
        if counted and d["n_cases"] + d["dropped"] != n_total:
            bad(f"{field}.n_cases", f"n_cases {d['n_cases']} + dropped {d['dropped']} is not the {n_total} cases")
        if d.get("delta") is None:
            if counted and d["n_cases"] != 0:
                bad(f"{field}.delta", f"missing although {d['n_cases']} cases are valid")
            return
        low, high = DIFFERENCE_RANGE
        ok = all(
            [number(f"{field}.{k}", d.get(k), low, high, required=k != "a" and k != "b") for k in _DIFFERENCE_NUMBERS]
        )
        if ok and not d["ci_low"] - RANGE_SLACK <= d["delta"] <= d["ci_high"] + RANGE_SLACK:
            bad(f"{field}.ci_low", f"interval [{d['ci_low']!r}, {d['ci_high']!r}] does not hold delta {d['delta']!r}")
        confidence = d.get("confidence")
        if not _is_number(confidence) or not 0 < confidence < 1:
            bad(f"{field}.confidence", f"{confidence!r} is not a confidence level in (0, 1)")
        p_value = d.get("p_value")
        if not _is_number(p_value) or not 0 < p_value <= 1:
            bad(f"{field}.p_value", f"{p_value!r} is not a p-value in (0, 1]")
        if counted and d["n_cases"] == 0:
            bad(f"{field}.n_cases", "a difference needs at least one case")
        for key in ("resamples", "seed"):
            if key in d and (not isinstance(d[key], int) or isinstance(d[key], bool)):
                bad(f"{field}.{key}", f"{d[key]!r} is not an integer")
        for key in ("method", "statistic", "signature"):
            if key in d and not (_is_text(d[key]) and not _has_control(d[key])):
                bad(f"{field}.{key}", "must be a string without control characters")

    if not isinstance(data, dict):
        raise InputError.one("not a judge bias result (expected a JSON object)", file=source)
    depth = _depth_problem(data)
    if depth is not None:
        raise InputError.one(f"not a judge bias result ({depth})", file=source)
    if data.get("experiment") != BIAS_EXPERIMENT:
        raise InputError.one(
            f"experiment {str(data.get('experiment'))[:60]!r} is not {BIAS_EXPERIMENT!r} (archehr judge bias)",
            file=source,
            field="experiment",
        )
    if data.get("not_official") is not True:
        bad("not_official", "must be true (a judge result is never official)")
    task = data.get("task")
    if not isinstance(task, str):
        bad("task", f"{task!r} is not a task id")
    else:
        try:
            task_id = get_task(task).id
        except UnknownTaskError as exc:
            bad("task", str(exc))
        else:
            if task_id not in JUDGE_TASKS:
                bad("task", f"task {task_id} is not one the judge reads ({', '.join(JUDGE_TASKS)})")
    label("split", data.get("split"))
    for name in ("judge", "judge_non_blind"):
        label(name, data.get(name), limit=MAX_TEXT)
    self_name = data.get("judge_system_name")
    if self_name is not None:
        label("judge_system_name", self_name)
    case_ids = data.get("case_ids")
    if not isinstance(case_ids, list) or not case_ids:
        bad("case_ids", "must be a non-empty list of case ids")
        case_ids = []
    elif not all(label(f"case_ids[{i}]", c) for i, c in enumerate(case_ids[:MAX_ITEMS])):
        case_ids = []
    elif len(set(case_ids)) != len(case_ids):
        bad("case_ids", "lists a case twice")
    systems = data.get("systems")
    if not isinstance(systems, dict) or not 1 <= len(systems) <= MAX_BIAS_SYSTEMS:
        bad("systems", f"must be an object of 1 to {MAX_BIAS_SYSTEMS} systems")
        systems = {}
    if problems:
        raise InputError(problems[:20])
    known = set(case_ids)
    for name, row in systems.items():
        field = f"systems.{name}" if not _has_control(name) and len(name) <= MAX_LABEL else "systems"
        if not label(field, name):
            continue
        if not isinstance(row, dict):
            bad(field, "must be an object")
            continue
        is_judge = row.get("is_judge")
        if not isinstance(is_judge, bool):
            bad(f"{field}.is_judge", "must be true or false")
        elif is_judge and name != self_name:
            bad(f"{field}.is_judge", f"true, but the judge's own system is {self_name!r}")
        for key in ("blind", "non_blind"):
            number(f"{field}.{key}", row.get(key), *PERCENT_RANGE, required=False)
        invalid = row.get("invalid")
        if not isinstance(invalid, dict):
            bad(f"{field}.invalid", "must be an object of blind and non_blind case ids")
        else:
            for key in ("blind", "non_blind"):
                ids = invalid.get(key)
                if not isinstance(ids, list) or not all(isinstance(c, str) and c in known for c in ids):
                    bad(f"{field}.invalid.{key}", "must be a list of the result's case ids")
        difference(f"{field}.non_blind_minus_blind", row.get("non_blind_minus_blind"), len(case_ids))
    extra = data.get("self_minus_other")
    if extra is not None:
        if not isinstance(extra, dict):
            bad("self_minus_other", "must be an object or null")
        else:
            if extra.get("self") != self_name or self_name not in systems:
                bad("self_minus_other.self", "must be the judge's own system, one of the systems")
            others = extra.get("others")
            if (
                not isinstance(others, list)
                or not others
                or not all(isinstance(o, str) and o in systems and o != self_name for o in others)
            ):
                bad("self_minus_other.others", "must list the other systems of the result")
            difference("self_minus_other", extra, len(case_ids))
    if problems:
        raise InputError(problems[:20])


def bias_from_result(data: Mapping[str, Any], *, source: str | None = None) -> BiasExperiment:
    """A bias experiment from an ``archehr judge bias`` result dict, checked (:func:`check_bias_result`)."""
    check_bias_result(data, source)
    task = get_task(data["task"])
    return BiasExperiment(
        task=task.id,
        split=data["split"],
        case_ids=tuple(data["case_ids"]),
        judge_signature=data["judge"],
        result=dict(data),
        digest=canonical_digest(dict(data)),
        source=source,
    )
