"""Descriptive counts of a dataset (``archehr data stats``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from harness.data.model import RELEVANCE_LABELS, Dataset, Split


def split_stats(split: Split) -> dict[str, Any]:
    labels: Counter[str] = Counter()
    for key in (split.keys or {}).values():
        labels.update(rel for _, rel in key.relevance)
    sentences = [len(c.sentences) for c in split.cases if c.sentences is not None]
    answers = [len(k.clinician_answer_sentences) for k in (split.keys or {}).values() if k.clinician_answer_sentences]
    specialties = Counter(c.clinical_specialty for c in split.cases if c.clinical_specialty)
    return {
        "cases": len(split.cases),
        "case_ids": split.case_ids(),
        "has_key": split.keys is not None,
        "has_mapping": split.mapping is not None,
        "cases_with_note": len(sentences),
        "note_sentences": sum(sentences),
        "note_sentences_per_case": {"min": min(sentences), "max": max(sentences)} if sentences else None,
        "relevance": {label: labels[label] for label in RELEVANCE_LABELS} if split.keys is not None else None,
        "answer_sentences": sum(answers) if split.keys is not None else None,
        "specialties": dict(sorted(specialties.items())),
    }


def dataset_stats(dataset: Dataset) -> dict[str, Any]:
    per_split = {name: split_stats(split) for name, split in dataset.splits.items()}
    return {"root": dataset.root, "cases": sum(s["cases"] for s in per_split.values()), "splits": per_split}
