"""Which numbers may share a column: the leaderboard's view model.

Entries share a table only when their year, subtask, split, case ids and key agree; inside a table,
values share a column only when their metric signatures agree (and, for a partial overall score, the
components it lacks). Everything else is shown apart, with the reason.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.signature import Signature
from leaderboard.formatting import id_ranges, plural, short_hash
from leaderboard.records import Entry, MetricResult
from leaderboard.schema import OVERALL_KEY, columns_for, table_title
from leaderboard.signatures import describe_difference

#: Markers of the signature variants of one metric inside a table.
VARIANT_MARKS = "①②③④⑤⑥⑦⑧⑨⑩"


@dataclass(frozen=True)
class Column:
    """One column: a metric key under one signature (and, when partial, one set of missing components)."""

    id: str
    key: str
    display: str
    higher_is_better: bool
    primary: bool
    signature: str
    variant: int = 0  # 0: the only column of its key; 1, 2 …: signature variants, most common first
    missing: tuple[str, ...] = ()  # a partial overall score: the components it lacks
    note: str | None = None  # why this column stands apart from the key's first variant
    caveat: str | None = None  # "stand-in" / "approximate": never comparable with official numbers
    best: float | None = None

    @property
    def partial(self) -> bool:
        return bool(self.missing)

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"

    @property
    def label(self) -> str:
        """``"BLEU ②"``, ``"Overall (partial)"``."""
        mark = f" {VARIANT_MARKS[self.variant - 1] if self.variant <= len(VARIANT_MARKS) else self.variant}"
        caveat = f" ({self.caveat})" if self.caveat else ""
        return self.display + (mark if self.variant else "") + caveat + (" (partial)" if self.partial else "")

    def is_best(self, value: float | None) -> bool:
        return value is not None and self.best is not None and value == self.best

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "display": self.display,
            "label": self.label,
            "higher_is_better": self.higher_is_better,
            "primary": self.primary,
            "signature": self.signature,
            "variant": self.variant,
            "partial": self.partial,
            "missing": list(self.missing),
            "note": self.note,
            "caveat": self.caveat,
            "best": self.best,
        }


@dataclass(frozen=True)
class Row:
    entry: Entry
    values: Mapping[str, float]  # column id → value
    unavailable: Mapping[str, str]  # metric key → why it has no value

    def to_json(self, columns: Sequence[Column]) -> dict[str, Any]:
        e = self.entry
        return {
            "entry_id": e.id,
            "system": e.system,
            "fingerprint": e.fingerprint,
            "partial": e.partial,
            "missing": list(e.missing),
            "lexical_only": e.lexical_only,
            "values": {c.id: self.values.get(c.id) for c in columns},
            "best": [c.id for c in columns if c.is_best(self.values.get(c.id))],
            "unavailable": dict(self.unavailable),
        }


@dataclass(frozen=True)
class Table:
    """Entries that are comparable: same year, subtask, split, case ids and key."""

    id: str
    year: str
    subtask: int | None
    split: str
    case_ids: tuple[str, ...]
    key_hash: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    apart_reason: str | None = None  # why this table is not merged with the main one of its split

    @property
    def title(self) -> str:
        return table_title(self.year, self.subtask)

    @property
    def case_summary(self) -> str:
        return f"{plural(len(self.case_ids), 'case')}: {id_ranges(self.case_ids)}"

    def unavailable(self) -> list[tuple[str, str, list[str]]]:
        """``(metric key, reason, entry labels)`` for every metric some entries could not compute."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for row in self.rows:
            for key, reason in row.unavailable.items():
                grouped.setdefault((key, reason), []).append(row.entry.label)
        return [(key, reason, labels) for (key, reason), labels in grouped.items()]

    def column(self, column_id: str) -> Column:
        return next(c for c in self.columns if c.id == column_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "year": self.year,
            "subtask": self.subtask,
            "split": self.split,
            "n_cases": len(self.case_ids),
            "case_ids": id_ranges(self.case_ids),
            "key_hash": self.key_hash,
            "apart_reason": self.apart_reason,
            "columns": [c.to_json() for c in self.columns],
            "rows": [r.to_json(self.columns) for r in self.rows],
        }


def build_tables(entries: Iterable[Entry]) -> list[Table]:
    """Group entries into comparable tables, ordered by year, subtask, split, then size."""
    groups: dict[tuple[str, int | None, str, str, str], list[Entry]] = defaultdict(list)
    for e in entries:
        groups[(e.year, e.subtask, e.split, e.case_set_hash, e.key_hash)].append(e)
    by_split: dict[tuple[str, int | None, str], list[list[Entry]]] = defaultdict(list)
    for (year, subtask, split, _, _), members in groups.items():
        by_split[(year, subtask, split)].append(members)
    tables: list[Table] = []
    for year, subtask, split in sorted(by_split, key=lambda k: (k[0], -1 if k[1] is None else k[1], k[2])):
        ordered = sorted(by_split[(year, subtask, split)], key=lambda m: (-len(m), min(e.id or 0 for e in m)))
        main = ordered[0][0]
        for index, members in enumerate(ordered):
            reason = None if index == 0 else _apart_reason(members[0], main)
            tables.append(_table(members, index, reason))
    return tables


def _apart_reason(entry: Entry, main: Entry) -> str:
    """Why ``entry``'s table is not the main table of its split."""
    if entry.case_set_hash != main.case_set_hash:
        mine, theirs = set(entry.case_ids), set(main.case_ids)
        parts = [f"other case ids: {plural(len(mine), 'case')} ({id_ranges(mine)})"]
        parts.append(f"the main table has {plural(len(theirs), 'case')} ({id_ranges(theirs)})")
        return "; ".join(parts)
    return (
        f"same case ids but another answer key (key hash {short_hash(entry.key_hash)} vs "
        f"{short_hash(main.key_hash)}): scores against different gold data are not comparable"
    )


def _slug(*parts: object) -> str:
    return re.sub(r"[^a-z0-9]+", "-", "-".join(str(p) for p in parts if p is not None).lower()).strip("-")


def _table(members: list[Entry], index: int, apart_reason: str | None) -> Table:
    first = members[0]
    columns = _columns(first.year, first.subtask, members)
    rows = [_row(e, columns) for e in members]
    columns = [_with_best(c, rows) for c in columns]
    lead = _lead_column(columns)
    if lead is not None:
        sign = -1.0 if lead.higher_is_better else 1.0
        rows.sort(key=lambda r: (r.values.get(lead.id) is None, sign * r.values.get(lead.id, 0.0), r.entry.id or 0))
    return Table(
        id=_slug(first.year, "subtask", first.subtask, first.split, index + 1 if index else None),
        year=first.year,
        subtask=first.subtask,
        split=first.split,
        case_ids=first.case_ids,
        key_hash=first.key_hash,
        columns=tuple(columns),
        rows=tuple(rows),
        apart_reason=apart_reason,
    )


def _identity(metric: MetricResult) -> tuple[str, tuple[str, ...]]:
    return metric.signature, tuple(sorted(metric.missing))


def _columns(year: str, subtask: int | None, members: list[Entry]) -> list[Column]:
    variants: dict[str, Counter[tuple[str, tuple[str, ...]]]] = defaultdict(Counter)
    first_seen: dict[tuple[str, tuple[str, tuple[str, ...]]], int] = {}
    hints: dict[str, bool] = {}
    caveats: dict[tuple[str, tuple[str, tuple[str, ...]]], str] = {}
    for e in members:
        not_comparable = set(e.run.get("not_comparable") or ())
        for m in e.metrics.values():
            if not m.available:
                continue
            variants[m.key][_identity(m)] += 1
            first_seen.setdefault((m.key, _identity(m)), len(first_seen))
            caveat = _caveat(m.signature, m.key in not_comparable)
            if caveat:
                caveats.setdefault((m.key, _identity(m)), caveat)
            if m.higher_is_better is not None:
                hints.setdefault(m.key, m.higher_is_better)
    columns: list[Column] = []
    for spec in columns_for(year, subtask, variants, hints):
        counted = variants[spec.key]
        # Complete before partial, then the most common, then the first seen.
        ordered = sorted(counted, key=lambda i, k=spec.key: (bool(i[1]), -counted[i], first_seen[(k, i)]))
        head_signature = ordered[0][0]
        for n, (signature, missing) in enumerate(ordered, start=1):
            notes = [f"partial: computed without {', '.join(missing)}"] if missing else []
            if signature != head_signature:
                why = describe_difference(head_signature, signature)
                notes.append(f"signature differs from {spec.display} {VARIANT_MARKS[0]}: {why}")
            columns.append(
                Column(
                    id=spec.key if n == 1 else f"{spec.key}~{n}",
                    key=spec.key,
                    display=spec.display,
                    higher_is_better=spec.higher_is_better,
                    primary=spec.primary,
                    signature=signature,
                    variant=n if len(ordered) > 1 else 0,
                    missing=missing,
                    note="; ".join(notes) or None,
                    caveat=caveats.get((spec.key, (signature, missing))),
                )
            )
    return columns


def _caveat(signature: str, stand_in: bool) -> str | None:
    """Why a number is not comparable with official ones, from its signature's marks or the report's flag."""
    parts = set(Signature.parse(signature).as_dict())
    if "standin" in parts:
        return "stand-in"
    if "approximate" in parts:
        return "approximate"
    return "stand-in" if stand_in or "not-comparable" in parts else None


def _row(entry: Entry, columns: list[Column]) -> Row:
    values: dict[str, float] = {}
    unavailable: dict[str, str] = {}
    for m in entry.metrics.values():
        if not m.available:
            unavailable[m.key] = m.reason or "unavailable"
            continue
        identity = _identity(m)
        column = next(c for c in columns if c.key == m.key and (c.signature, c.missing) == identity)
        assert m.value is not None
        values[column.id] = m.value
    return Row(entry, values, unavailable)


def _with_best(column: Column, rows: list[Row]) -> Column:
    values = [r.values[column.id] for r in rows if column.id in r.values]
    if not values:
        return column
    best = max(values) if column.higher_is_better else min(values)
    return Column(**{**column.__dict__, "best": best})


def lead_column(table: Table) -> Column | None:
    """The column ``table``'s rows are ranked by."""
    return _lead_column(list(table.columns))


def _lead_column(columns: list[Column]) -> Column | None:
    """The column rows are ranked by: the complete overall score if there is one, else the first column."""
    for c in columns:
        if c.key == OVERALL_KEY and not c.partial:
            return c
    return columns[0] if columns else None
