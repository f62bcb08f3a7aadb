"""archehr-harness: evaluation and submission harness for the ArchEHR-QA shared task."""

from __future__ import annotations

__version__ = "0.1.0"
