"""Score reports for people: one headline number labelled official, stand-in or partial, then a table of
metrics with their short signatures; each unavailable metric family once, with its fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.cli_support import format_number, safe_text, table
from harness.signature import Signature
from harness.tasks import get_task

#: Signature fields that only record software versions: the full signature (JSON, ``score.json``) keeps them.
_VERSION = re.compile(r"^v?\d+(\.\d+)+$")


def short_signature(text: str) -> str:
    """The signature's name and the fields that change a number (software versions left out), e.g.
    ``bleu tok:13a smooth:none``; a combined key reads ``mean of bleu, rougeLsum, …``."""
    sig = Signature.parse(text)
    fields = sig.as_dict()
    if "mean" in fields and "components" in fields:
        return "mean of " + ", ".join(fields["mean"].split(","))
    parts = [sig.name]
    for key, value in sig.fields:
        if key == value:
            parts.append(key)
        elif key in {"harness", "metrics"} or _VERSION.match(value):
            continue
        else:
            parts.append(f"{key}:{value}")
    return " ".join(parts)


def headline(report: Mapping[str, Any]) -> tuple[str, float | None, str]:
    """``(label, value, what it lacks)``: ``official``, ``stand-in`` (a component ran on a stand-in, never
    comparable to official numbers) or ``partial`` (an official component is missing: the value is the mean
    over the available ones)."""
    key = report["overall_key"]
    value = report["scores"].get(key)
    missing = list(report.get("missing") or ())
    stand_ins = [k for k in report.get("not_comparable") or () if k != key and k not in report.get("components", {})]
    if report.get("partial"):
        lacks = "lacks " + ", ".join(missing)
        if stand_ins:
            lacks += "; stand-ins: " + ", ".join(stand_ins)
        return "partial", report.get("partial_scores", {}).get(key), lacks
    if not report.get("comparable", True):
        return "stand-in", value, "stand-ins: " + ", ".join(stand_ins)
    return "official", value, ""


def score_table(report: Mapping[str, Any], decimals: int = 2) -> str:
    """The text rendering of a score report (its JSON form, schema version 2)."""
    task = get_task(report["task"])
    system = (report.get("system") or {}).get("name")
    cases = report.get("case_ids") or ()
    title = f"{task.table_title} · split {report['split']} · {len(cases)} cases"
    if system:
        title += f" · system {system}"
    label, value, lacks = headline(report)
    key = report["overall_key"]
    head = f"{key} = {format_number(value, decimals)}  ({label}{': ' + lacks if lacks else ''})"
    unavailable = report.get("unavailable") or {}
    families = report.get("families") or {}
    not_comparable = set(report.get("not_comparable") or ())
    rows = []
    previous = None
    for name, score in report["scores"].items():
        if name == key:
            continue
        family = families.get(name)
        if score is None and family in unavailable:
            note = f"unavailable ({family}, see below)"
        else:
            note = short_signature(report["signatures"].get(name, name))
            if name in not_comparable:
                note += "  [stand-in]"
            note, previous = ("" if note == previous else note), note
        rows.append({"metric": name, "score": score, "signature": note})
    lines = [safe_text(title), safe_text(head), ""]
    lines += [safe_text(line) for line in table(rows, decimals, ["metric", "score", "signature"])]
    if unavailable:
        lines.append("")
        for family, why in unavailable.items():
            lines.append(safe_text(f"unavailable: {family}: {why['reason']}"))
            lines.append(safe_text(f"  fix: {why['fix']}"))
    if report.get("truncated"):
        lines.append(safe_text(f"truncated to the word limit: cases {', '.join(report['truncated'])}"))
    return "\n".join(lines)
