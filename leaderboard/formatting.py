"""Small text helpers shared by the terminal, HTML and export views."""

from __future__ import annotations

from collections.abc import Iterable

from harness.data.model import sort_ids


def format_value(value: float | None, digits: int = 2) -> str:
    """``32.8712`` → ``"32.87"``; ``None`` → ``"—"``."""
    return "—" if value is None else f"{value:.{digits}f}"


def id_ranges(ids: Iterable[str]) -> str:
    """Case ids as compact ranges: ``["1", "2", "3", "5", "x"]`` → ``"1-3 5 x"`` (inverse of parse_id_ranges)."""
    ordered = sort_ids(set(ids))
    parts: list[str] = []
    run: list[int] = []

    def flush() -> None:
        if run:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
            run.clear()

    for cid in ordered:
        if cid.isdigit() and str(int(cid)) == cid:
            if run and int(cid) != run[-1] + 1:
                flush()
            run.append(int(cid))
        else:
            flush()
            parts.append(cid)
    flush()
    return " ".join(parts)


def short_hash(value: str | None, n: int = 8) -> str:
    """The first ``n`` hex digits, without an ``algorithm:`` prefix (``sha256:ab12…`` → ``ab12…``)."""
    return "" if not value else value.rpartition(":")[2][:n]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
