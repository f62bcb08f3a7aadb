"""Run a registered system on a split: run store (resumable) → validated ``submission.json``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.data.model import Case, Split, Subtask, id_ranges, sort_ids
from harness.errors import HarnessError, InputError, Problem
from harness.runs import RunKey, RunStore
from harness.systems import RunAware, build_system, get_system_entry
from harness.tasks import get_task

logger = logging.getLogger(__name__)

SUBMISSION_FILE = "submission.json"


def brief(summary: Mapping[str, Any]) -> dict[str, Any]:
    """What a person reads of a run summary: all of it but the system card (which the JSON form keeps)."""
    return {k: v for k, v in summary.items() if k != "system_card"}


def run_system(
    name: str,
    split: Split,
    cases: Sequence[Case],
    subtask: Subtask,
    out: Path,
    *,
    config: Mapping[str, Any] | None = None,
    batch_size: int = 8,
    show_progress: bool = False,
    fresh: bool = False,
) -> dict[str, Any]:
    """Predict ``cases`` with system ``name``, store the predictions under ``out/runs`` and write
    ``out/submission.json`` once it validates against ``split``. Returns a JSON-able summary.

    Predictions already in the run store are reused (``fresh`` discards them first). When a stored
    prediction fails validation, the error says it came from the store and how to discard it."""
    from submissions import build_entries, validate_submission, write_submission_json

    entry = get_system_entry(name)
    if int(subtask) not in entry.subtasks:
        raise HarnessError(f"system {name!r} answers subtasks {list(entry.subtasks)}, not {int(subtask)}")
    system = build_system(name, config)
    store = RunStore(out / "runs", RunKey(system.card, split.name, subtask))
    if fresh:
        store.discard()
    if isinstance(system, RunAware):
        system.bind_run(store.folder)
    bar = _progress_bar(f"{name} subtask {int(subtask)}", len(cases)) if show_progress else None
    try:
        predictions, reused = store.run(system, cases, batch_size=batch_size, progress=bar.update_to if bar else None)
    finally:
        if bar:
            bar.close()
    case_ids = [c.case_id for c in cases]
    try:
        entries = build_entries({cid: p.prediction for cid, p in predictions.items()}, case_ids, subtask=int(subtask))
    except InputError as exc:
        raise InputError(exc.problems + _stored_origin(exc.problems, store)) from None
    submission_path = out / SUBMISSION_FILE
    report = validate_submission(
        entries, split, get_task(f"2026/{int(subtask)}"), file=str(submission_path), case_ids=case_ids
    )
    if not report.ok:
        raise InputError(report.errors + _stored_origin(report.errors, store))
    write_submission_json(submission_path, entries)
    logger.info("wrote %s (%d cases, %d reused from the run store)", submission_path, len(entries), reused)
    return {
        "system": name,
        "fingerprint": system.card.fingerprint,
        "system_card": system.card.to_json(),
        "split": split.name,
        "subtask": int(subtask),
        "cases": len(entries),
        "reused": reused,
        "computed": len(entries) - reused,
        "duplicates_ignored": store.duplicates,
        "predictions": str(store.path),
        "submission": str(submission_path),
        "warnings": [w.to_json() for w in report.warnings],
        **({"system_stats": dict(system.run_stats())} if isinstance(system, RunAware) else {}),
    }


def _stored_origin(errors: Sequence[Problem], store: RunStore) -> list[Problem]:
    """One more problem when some invalid predictions were reused from the run store rather than computed now."""
    stale = sort_ids({p.case_id for p in errors if p.case_id in store.reused_ids})
    if not stale:
        return []
    return [
        Problem(
            f"the invalid prediction(s) of case(s) {id_ranges(stale)} came from the run store, not from this run;"
            " rerun with --fresh to discard the stored predictions",
            str(store.path),
        )
    ]


class _Bar:
    """A tqdm bar on stderr driven by (done, total) callbacks."""

    def __init__(self, desc: str, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False, disable=None)

    def update_to(self, done: int, total: int) -> None:
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def _progress_bar(desc: str, total: int) -> _Bar:
    return _Bar(desc, total)
