"""Registry, run store (resume, torn lines, fingerprints) and the baseline system."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from harness.data import Subtask, inputs_for, load_dataset
from harness.runs import RunKey, RunStore, RunStoreError
from harness.systems import (
    Prediction,
    SystemCard,
    UnknownSystemError,
    build_system,
    get_system_entry,
    list_systems,
)


class CountingSystem:
    """Echoes case ids and counts how many cases it was asked for; can fail on a chosen case."""

    def __init__(self, version: str = "1", fail_on: str | None = None) -> None:
        self.card = SystemCard("counting", version, (1,), "test system", config={"v": version})
        self.calls: list[str] = []
        self.fail_on = fail_on

    def predict(self, cases: Sequence, subtask: Subtask) -> Iterator[Prediction]:
        for case in cases:
            if case.case_id == self.fail_on:
                raise RuntimeError("killed")
            self.calls.append(case.case_id)
            yield Prediction(case.case_id, f"answer {case.case_id}")


@pytest.fixture(scope="module")
def test_cases():
    split = load_dataset("synthetic").split("test")
    return inputs_for(split, Subtask.QUESTION_INTERPRETATION)


def test_registry_lists_baseline_and_suggests_names() -> None:
    names = [e.name for e in list_systems()]
    assert "baseline" in names
    assert get_system_entry("baseline").subtasks == (1, 2, 3, 4)
    with pytest.raises(UnknownSystemError, match="did you mean baseline"):
        get_system_entry("baselin")


def test_listing_systems_imports_no_torch() -> None:
    code = "import sys; from harness.systems import list_systems; list_systems(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_run_store_resumes_after_a_killed_batch(tmp_path: Path, test_cases) -> None:
    cases = test_cases[:6]
    failing = CountingSystem(fail_on=cases[4].case_id)
    store = RunStore(tmp_path, RunKey(failing.card, "test", Subtask.QUESTION_INTERPRETATION))
    with pytest.raises(RuntimeError):
        store.run(failing, cases, batch_size=2)
    assert set(store.load()) == {c.case_id for c in cases[:4]}  # the batch in flight is lost, no more

    resumed = CountingSystem()
    predictions, reused = store.run(resumed, cases, batch_size=2)
    assert reused == 4
    assert resumed.calls == [c.case_id for c in cases[4:]]
    assert [p.prediction for p in predictions.values()] == [f"answer {c.case_id}" for c in cases]


def test_torn_last_line_is_dropped_and_repaired(tmp_path: Path, test_cases) -> None:
    system = CountingSystem()
    store = RunStore(tmp_path, RunKey(system.card, "test", Subtask.QUESTION_INTERPRETATION))
    store.run(system, test_cases[:2], batch_size=1)
    with open(store.path, "ab") as handle:
        handle.write(b'{"type": "prediction", "case_id": "9')  # killed mid-write
    assert set(store.load()) == {c.case_id for c in test_cases[:2]}
    again = CountingSystem()
    store.run(again, test_cases[:3], batch_size=1)
    assert again.calls == [test_cases[2].case_id]
    lines = store.path.read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line) for line in lines)


def test_changed_fingerprint_never_reuses_outputs(tmp_path: Path, test_cases) -> None:
    first, second = CountingSystem("1"), CountingSystem("2")
    assert first.card.fingerprint != second.card.fingerprint
    RunStore(tmp_path, RunKey(first.card, "test", Subtask.QUESTION_INTERPRETATION)).run(first, test_cases[:2])
    _, reused = RunStore(tmp_path, RunKey(second.card, "test", Subtask.QUESTION_INTERPRETATION)).run(
        second, test_cases[:2]
    )
    assert reused == 0 and second.calls == [c.case_id for c in test_cases[:2]]
    # a file whose header names another fingerprint is refused
    store1 = RunStore(tmp_path, RunKey(first.card, "test", Subtask.QUESTION_INTERPRETATION))
    store2 = RunStore(tmp_path, RunKey(second.card, "test", Subtask.QUESTION_INTERPRETATION))
    store2.path.write_bytes(store1.path.read_bytes())
    with pytest.raises(RunStoreError, match="refusing to reuse"):
        store2.load()


def test_baseline_answers_every_subtask_within_the_rules() -> None:
    split = load_dataset("synthetic").split("test")
    system = build_system("baseline")
    for subtask in Subtask:
        cases = inputs_for(split, subtask)
        predictions = {p.case_id: p.prediction for p in system.predict(cases, subtask)}
        assert list(predictions) == split.case_ids()
        for case in cases:
            pred = predictions[case.case_id]
            if subtask == Subtask.QUESTION_INTERPRETATION:
                assert 0 < len(pred.split()) <= 15
            elif subtask == Subtask.EVIDENCE_IDENTIFICATION:
                assert pred and set(pred) <= set(case.sentence_ids())
            elif subtask == Subtask.ANSWER_GENERATION:
                assert 0 < len(pred.split()) <= 75
            else:
                assert [link["answer_id"] for link in pred] == [a.id for a in case.answer_sentences]
                assert all(set(link["evidence_id"]) <= set(case.sentence_ids()) for link in pred)


def test_baseline_config_overrides_change_the_fingerprint() -> None:
    default, tuned = build_system("baseline"), build_system("baseline", {"max_evidence": 2})
    assert default.card.fingerprint != tuned.card.fingerprint
    with pytest.raises(ValueError, match="unknown baseline config key"):
        build_system("baseline", {"nope": 1})
