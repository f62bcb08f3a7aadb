"""Data model, loaders and writers for the official ArchEHR-QA files, and the bundled synthetic dataset."""

from __future__ import annotations

from harness.data.loader import SYNTHETIC, load_dataset, load_split, resolve_data_path, synthetic_root, write_split
from harness.data.model import (
    RELEVANCE_LABELS,
    AnswerSentence,
    Case,
    CaseKey,
    Dataset,
    MappingEntry,
    NoteSentence,
    Phrase,
    Relevance,
    Split,
    Subtask,
    parse_id_ranges,
    sort_ids,
)
from harness.data.tasks import inputs_for

__all__ = [
    "RELEVANCE_LABELS",
    "SYNTHETIC",
    "AnswerSentence",
    "Case",
    "CaseKey",
    "Dataset",
    "MappingEntry",
    "NoteSentence",
    "Phrase",
    "Relevance",
    "Split",
    "Subtask",
    "inputs_for",
    "load_dataset",
    "load_split",
    "parse_id_ranges",
    "resolve_data_path",
    "sort_ids",
    "synthetic_root",
    "write_split",
]
