"""Official submission files: build, write, read, validate and package them.

- :mod:`submissions.formats`: the prediction shapes per year and subtask; :func:`build_entries`.
- :mod:`submissions.format2025`: the 2025 pipe-citation answer string (writer, official parser, linter).
- :mod:`submissions.validate`: every hard failure of the official scorers, reported at once.
- :mod:`submissions.io`: reading untrusted files and zips; atomic, deterministic writing.
- :mod:`archehr.submission_cli`: the ``validate`` and ``submit`` commands (imported by the CLI only).
"""

from __future__ import annotations

from submissions.format2025 import (
    AnswerLint,
    ParsedAnswer,
    ParsedLine,
    format_answer_2025,
    lint_answer_2025,
    parse_answer_2025,
)
from submissions.formats import build_entries, prediction_field, shape_problems
from submissions.io import (
    MAX_SUBMISSION_BYTES,
    SUBMISSION_NAME,
    package_zip,
    read_submission,
    write_submission_json,
    zip_bytes,
)
from submissions.validate import ValidationReport, validate_submission

__all__ = [
    "MAX_SUBMISSION_BYTES",
    "SUBMISSION_NAME",
    "AnswerLint",
    "ParsedAnswer",
    "ParsedLine",
    "ValidationReport",
    "build_entries",
    "format_answer_2025",
    "lint_answer_2025",
    "package_zip",
    "parse_answer_2025",
    "prediction_field",
    "read_submission",
    "shape_problems",
    "validate_submission",
    "write_submission_json",
    "zip_bytes",
]
