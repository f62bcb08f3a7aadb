"""Why two metric signatures differ, for people (the parsing is :class:`harness.signature.Signature`)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.signature import Signature


@dataclass(frozen=True)
class SignatureDiff:
    """One field that differs between two signatures (``None``: the field is absent on that side)."""

    field: str
    left: str | None
    right: str | None

    def __str__(self) -> str:
        return f"{self.field}: {self.left or '∅'} vs {self.right or '∅'}"


def diff_signatures(left: str, right: str) -> list[SignatureDiff]:
    """The fields that differ, in the order they appear (the name first)."""
    return [SignatureDiff(*d) for d in Signature.parse(left).diff(Signature.parse(right))]


def describe_difference(left: str, right: str, *, limit: int = 3) -> str:
    """A short human reason, e.g. ``tok: 13a vs intl; harness: 0.1 vs 0.2``."""
    diffs = diff_signatures(left, right)
    if not diffs:
        return "same signature"
    text = "; ".join(str(d) for d in diffs[:limit])
    return text + (f" (+{len(diffs) - limit} more)" if len(diffs) > limit else "")
