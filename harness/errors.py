"""Errors that name the file, the case and the field, so a user can fix bad input at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file."""

    message: str
    file: str | None = None
    case_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.case_id is not None:
            where.append(f"case {self.case_id}")
        if self.field:
            where.append(f"field {self.field}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def to_json(self) -> dict[str, str | None]:
        return {"file": self.file, "case_id": self.case_id, "field": self.field, "message": self.message}


class HarnessError(Exception):
    """Base class for errors the CLI reports in one line, without a traceback."""


class MissingError(HarnessError):
    """Something a run needs is not on this machine (weights, a trained model, a GPU, an optional package);
    the message says what and how to supply it. ``archehr reproduce`` reports these as SKIP, never as FAIL."""


@dataclass
class InputError(HarnessError):
    """Bad input: one or more problems, each naming file, case and field."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    @classmethod
    def one(
        cls,
        message: str,
        *,
        file: str | Path | None = None,
        case_id: str | None = None,
        field: str | None = None,
    ) -> InputError:
        return cls([Problem(message, None if file is None else str(file), case_id, field)])

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.problems)


class UnknownNameError(InputError, KeyError):
    """An unknown split or case id: an :class:`InputError` that callers catching ``KeyError`` still catch."""

    def __str__(self) -> str:
        return InputError.__str__(self)
