"""Exports for scripts: CSV in long form (one value per row, with its signature) and JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from harness import __version__
from leaderboard.comparability import Table
from leaderboard.records import VIEW_SCHEMA_VERSION, Entry

CSV_FIELDS = (
    "table",
    "year",
    "subtask",
    "split",
    "n_cases",
    "case_ids",
    "key_hash",
    "entry_id",
    "system",
    "fingerprint",
    "column",
    "metric",
    "display",
    "higher_is_better",
    "value",
    "best",
    "partial",
    "missing",
    "signature",
)


def to_csv(tables: Sequence[Table]) -> str:
    """One row per (entry, column) value: a number never travels without its signature and case set."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for t in tables:
        meta = t.to_json()
        for row in t.rows:
            for c in t.columns:
                value = row.values.get(c.id)
                if value is None:
                    continue
                writer.writerow(
                    {
                        "table": t.id,
                        "year": t.year,
                        "subtask": "" if t.subtask is None else t.subtask,
                        "split": t.split,
                        "n_cases": len(t.case_ids),
                        "case_ids": meta["case_ids"],
                        "key_hash": t.key_hash,
                        "entry_id": row.entry.id,
                        "system": row.entry.system,
                        "fingerprint": row.entry.fingerprint or "",
                        "column": c.id,
                        "metric": c.key,
                        "display": c.label,
                        "higher_is_better": int(c.higher_is_better),
                        "value": repr(value),
                        "best": int(c.is_best(value)),
                        "partial": int(c.partial),
                        "missing": " ".join(c.missing),
                        "signature": c.signature,
                    }
                )
    return out.getvalue()


def to_json(tables: Sequence[Table], entries: Sequence[Entry], *, per_case: bool = True) -> dict[str, Any]:
    """The tables as shown, plus every entry in full (per-case values included unless ``per_case`` is off)."""
    return {
        "schema_version": VIEW_SCHEMA_VERSION,
        "harness_version": __version__,
        "tables": [t.to_json() for t in tables],
        "entries": [e.to_json(per_case=per_case) for e in entries],
    }
