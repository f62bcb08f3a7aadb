"""Small text helpers shared by the terminal, HTML and export views."""

from __future__ import annotations

from harness.data.model import id_ranges

__all__ = ["format_value", "id_ranges", "short_hash"]


def format_value(value: float | None, digits: int = 2) -> str:
    """``32.8712`` → ``"32.87"``; ``None`` → ``"—"``."""
    return "—" if value is None else f"{value:.{digits}f}"


def short_hash(value: str | None, n: int = 8) -> str:
    """The first ``n`` hex digits, without an ``algorithm:`` prefix (``sha256:ab12…`` → ``ab12…``)."""
    return "" if not value else value.rpartition(":")[2][:n]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
