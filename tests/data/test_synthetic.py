"""The bundled synthetic dataset: complete, consistent, and identical to a fresh build of its sources."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from harness.data import RELEVANCE_LABELS, load_dataset
from harness.data.checks import check_split

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset():
    return load_dataset("synthetic")


def test_splits_and_sizes(dataset) -> None:
    assert set(dataset.splits) == {"dev", "test"}
    dev, test = dataset.split("dev"), dataset.split("test")
    assert dev.case_ids() == [str(i) for i in range(1, 21)]
    assert len(test.cases) >= 10 and all(int(c) > 20 for c in test.case_ids())
    assert len(dev.cases) + len(test.cases) >= 30


def test_every_case_is_complete(dataset) -> None:
    for split in dataset.splits.values():
        for case in split.cases:
            key = split.keys[case.case_id]
            assert case.patient_narrative and case.clinician_question and case.clinical_specialty
            assert case.phrases, case.case_id
            assert 8 <= len(case.sentences) <= 30, case.case_id
            assert key.clinician_answer and key.clinician_answer_without_citations
            assert "[" in key.clinician_answer and "[" not in key.clinician_answer_without_citations
            assert key.clinician_answer_sentences
            assert len(key.clinician_answer_without_citations.split()) <= 75
            assert [a.text for a in case.answer_sentences] == [a.text for a in key.clinician_answer_sentences]
        assert {m.document_source for m in split.mapping} == {"synthetic"}
        assert [m.case_id for m in split.mapping] == split.case_ids()


def test_offsets_labels_and_citations_are_consistent(dataset) -> None:
    for split in dataset.splits.values():
        report = check_split(split)
        assert report.errors == [] and report.warnings == []
        for case in split.cases:
            labels = split.keys[case.case_id].labels()
            assert set(labels) == set(case.sentence_ids())
            for answer in split.keys[case.case_id].clinician_answer_sentences:
                for cited in answer.citations:
                    assert labels[cited] in ("essential", "supplementary"), (case.case_id, answer.id, cited)
            for phrase in case.phrases:
                assert case.patient_narrative[phrase.start_char_index :].startswith(phrase.text)


def test_realistic_label_mix_and_variety(dataset) -> None:
    labels: Counter[str] = Counter()
    specialties, question_words = set(), Counter()
    for split in dataset.splits.values():
        for case in split.cases:
            labels.update(rel for _, rel in split.keys[case.case_id].relevance)
            specialties.add(case.clinical_specialty)
            question_words[case.clinician_question.split()[0].lower()] += 1
    total = sum(labels.values())
    assert set(labels) == set(RELEVANCE_LABELS)
    assert 0.15 <= labels["essential"] / total <= 0.5
    assert labels["not-relevant"] / total >= 0.3
    assert len(specialties) >= 15
    assert len(question_words) >= 3  # why / what / when / how … questions


def test_shipped_files_equal_a_fresh_build(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_synthetic.py"), "--out", str(tmp_path)], check=True)
    shipped = ROOT / "harness" / "data" / "synthetic"
    for name in ("dev", "test"):
        for file in ("archehr-qa.xml", "archehr-qa_key.json", "archehr-qa_mapping.json"):
            assert (tmp_path / name / file).read_bytes() == (shipped / name / file).read_bytes(), f"{name}/{file}"
