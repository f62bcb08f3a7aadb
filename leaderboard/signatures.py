"""Reading metric signatures (``name|field:value|field:value``) to say why two of them differ."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignatureDiff:
    """One field that differs between two signatures (``None``: the field is absent on that side)."""

    field: str
    left: str | None
    right: str | None

    def __str__(self) -> str:
        return f"{self.field}: {self.left or '∅'} vs {self.right or '∅'}"


def parse_signature(signature: str) -> tuple[str, dict[str, str]]:
    """``"bleu|tok:13a|smooth:none"`` → ``("bleu", {"tok": "13a", "smooth": "none"})``.

    Parts without a colon are kept as fields whose value is the part itself.
    """
    name, *parts = signature.split("|")
    fields: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition(":")
        fields[key if sep else part] = value if sep else part
    return name, fields


def diff_signatures(left: str, right: str) -> list[SignatureDiff]:
    """The fields that differ, in the order they appear (the name first)."""
    left_name, lf = parse_signature(left)
    right_name, rf = parse_signature(right)
    out = [SignatureDiff("name", left_name, right_name)] if left_name != right_name else []
    for key in dict.fromkeys([*lf, *rf]):
        if lf.get(key) != rf.get(key):
            out.append(SignatureDiff(key, lf.get(key), rf.get(key)))
    return out


def describe_difference(left: str, right: str, *, limit: int = 3) -> str:
    """A short human reason, e.g. ``tok: 13a vs intl; harness: 0.1 vs 0.2``."""
    diffs = diff_signatures(left, right)
    if not diffs:
        return "same signature"
    text = "; ".join(str(d) for d in diffs[:limit])
    return text + (f" (+{len(diffs) - limit} more)" if len(diffs) > limit else "")
