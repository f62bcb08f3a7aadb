"""Signatures as typed values: ``name|field:value|field:value`` (sacrebleu's habit).

Every number the harness reports travels with a signature naming everything that changes it. Metrics,
the scorer and combined keys build them as :class:`Signature` values and store :meth:`Signature.format`;
readers (the leaderboard, reproduce) use :meth:`Signature.parse` and compare fields, never substrings.
A part without a colon is a flag, kept as a field whose value is the part itself (``standin``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Signature:
    """A signature: its name and its fields in order."""

    name: str
    fields: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, name: str, fields: Mapping[str, object] | None = None, *flags: str) -> Signature:
        """``Signature.of("bleu", {"tok": "13a"})``; ``flags`` are parts without a value."""
        items = [(k, str(v)) for k, v in (fields or {}).items()]
        items += [(f, f) for f in flags]
        for key, value in items:
            if "|" in key or "|" in value or ":" in key:
                raise ValueError(f"signature field {key!r}: {value!r} may not hold '|' (or ':' in its name)")
        return cls(name, tuple(items))

    @classmethod
    def parse(cls, text: str) -> Signature:
        """``"bleu|tok:13a|smooth:none"`` → ``Signature("bleu", (("tok", "13a"), ("smooth", "none")))``."""
        name, *parts = text.split("|")
        fields = []
        for part in parts:
            key, sep, value = part.partition(":")
            fields.append((key, value) if sep else (part, part))
        return cls(name, tuple(fields))

    def format(self) -> str:
        parts = [self.name] + [key if key == value else f"{key}:{value}" for key, value in self.fields]
        return "|".join(parts)

    def __str__(self) -> str:
        return self.format()

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.as_dict().get(key, default)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.fields)

    def diff(self, other: Signature) -> list[tuple[str, str | None, str | None]]:
        """``(field, mine, theirs)`` for each field that differs (``name`` first when the names differ)."""
        out: list[tuple[str, str | None, str | None]] = []
        if self.name != other.name:
            out.append(("name", self.name, other.name))
        mine, theirs = self.as_dict(), other.as_dict()
        for key in dict.fromkeys([*mine, *theirs]):
            if mine.get(key) != theirs.get(key):
                out.append((key, mine.get(key), theirs.get(key)))
        return out
