"""The run store: per-case predictions as append-only JSONL, resumable, keyed by the system fingerprint.

Layout: ``<root>/<system>-<fingerprint[:12]>/<split>/subtask<N>/predictions.jsonl``. The first
line is a header holding the system card; each further line is one case's prediction. Lines
are flushed and fsynced per batch, so a killed run loses at most the batch in flight; a torn
last line is dropped on reopening. A file whose header carries another fingerprint is never
reused. A lock file stops two processes from writing the same run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from harness import __version__
from harness.data.model import Case, Subtask
from harness.errors import HarnessError
from harness.systems import Prediction, System, SystemCard

logger = logging.getLogger(__name__)

RUN_SCHEMA_VERSION = 1
PREDICTIONS_FILE = "predictions.jsonl"


class RunStoreError(HarnessError):
    pass


@dataclass(frozen=True)
class RunKey:
    card: SystemCard
    split: str
    subtask: Subtask

    def folder(self, root: Path) -> Path:
        split_dir = self.split.replace("/", "__")
        return root / f"{self.card.name}-{self.card.fingerprint[:12]}" / split_dir / f"subtask{int(self.subtask)}"


class RunStore:
    """Predictions of one (system fingerprint, split, subtask)."""

    def __init__(self, root: str | Path, key: RunKey) -> None:
        self.key = key
        self.folder = key.folder(Path(root))
        self.path = self.folder / PREDICTIONS_FILE
        self._lock = FileLock(str(self.path) + ".lock")

    def header(self) -> dict[str, Any]:
        return {
            "type": "header",
            "schema_version": RUN_SCHEMA_VERSION,
            "harness_version": __version__,
            "system_card": self.key.card.to_json(),
            "split": self.key.split,
            "subtask": int(self.key.subtask),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }

    def load(self) -> dict[str, Prediction]:
        """Finished predictions by case id; drops a torn last line; refuses another system's file."""
        if not self.path.exists():
            return {}
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        complete, torn = (lines[:-1], lines[-1]) if lines else ([], b"")
        if torn:
            logger.warning("dropping a torn last line of %s (a killed run)", self.path)
        out: dict[str, Prediction] = {}
        for number, line in enumerate(complete, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise RunStoreError(f"{self.path} line {number}: not JSON; move the file away to start over") from None
            if number == 1:
                self._check_header(record)
                continue
            out[record["case_id"]] = Prediction(record["case_id"], record["prediction"], record.get("meta", {}))
        return out

    def _check_header(self, record: dict[str, Any]) -> None:
        found = record.get("system_card", {}).get("fingerprint")
        if record.get("type") != "header" or found != self.key.card.fingerprint:
            raise RunStoreError(
                f"{self.path}: header fingerprint {found} differs from this system's {self.key.card.fingerprint};"
                " refusing to reuse another system's outputs"
            )

    def _repair(self) -> None:
        """Cut a torn last line so appends start on a fresh line."""
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            keep = raw[: raw.rfind(b"\n") + 1]
            with open(self.path, "r+b") as handle:
                handle.truncate(len(keep))

    def run(
        self,
        system: System,
        cases: Sequence[Case],
        *,
        batch_size: int = 8,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[dict[str, Prediction], int]:
        """Predict the unfinished ``cases`` batch by batch; returns all predictions and how many were reused."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            with self._lock.acquire(timeout=1):
                return self._run_locked(system, cases, batch_size, progress)
        except Timeout:
            raise RunStoreError(f"another process is writing {self.path}") from None

    def _run_locked(
        self, system: System, cases: Sequence[Case], batch_size: int, progress: Callable[[int, int], None] | None
    ) -> tuple[dict[str, Prediction], int]:
        done = self.load()
        reused = sum(1 for c in cases if c.case_id in done)
        todo = [c for c in cases if c.case_id not in done]
        if self.path.exists():
            self._repair()
        else:
            self._append([self.header()])
        if progress:
            progress(reused, len(cases))
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            wanted = {c.case_id for c in batch}
            records = []
            for pred in _checked(system.predict(batch, self.key.subtask), wanted):
                done[pred.case_id] = pred
                records.append(
                    {
                        "type": "prediction",
                        "case_id": pred.case_id,
                        "prediction": pred.prediction,
                        "meta": dict(pred.meta),
                    }
                )
            self._append(records)
            if progress:
                progress(reused + start + len(batch), len(cases))
        return {c.case_id: done[c.case_id] for c in cases}, reused

    def _append(self, records: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records).encode("utf-8")
        with open(self.path, "ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def _checked(predictions: Iterator[Prediction], wanted: set[str]) -> Iterator[Prediction]:
    seen = set()
    for pred in predictions:
        if pred.case_id not in wanted or pred.case_id in seen:
            raise RunStoreError(f"system returned an unexpected or repeated case id {pred.case_id!r}")
        seen.add(pred.case_id)
        yield pred
    if seen != wanted:
        raise RunStoreError(f"system returned no prediction for case(s) {', '.join(sorted(wanted - seen))}")
