"""The run store: per-case predictions as append-only JSONL, resumable, keyed by the system fingerprint.

Layout: ``<root>/<system>-<fingerprint[:12]>/<split>/subtask<N>/predictions.jsonl``. The first
line is a header holding the system card; each further line is one case's prediction. Lines
are flushed and fsynced per batch, so a killed run loses at most the batch in flight; a torn
last line is dropped on reopening, and a file without a complete line (a torn header) is
started over with a fresh header. A file whose header carries another fingerprint is never
reused; a damaged line is an error naming it. A lock file stops two processes from writing
the same run.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from harness import __version__
from harness.atomic import atomic_write_bytes
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
        self.duplicates = 0  # identical duplicate lines ignored by the last load()
        self.reused_ids: frozenset[str] = frozenset()  # cases the last run() took from the store

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

    def move_away_command(self) -> str:
        """The shell command that moves this run's store out of the way (the next run starts over)."""
        return f"mv {shlex.quote(str(self.path))} {shlex.quote(str(self.path) + '.broken')}"

    def _corrupt(self, number: int, what: str) -> RunStoreError:
        return RunStoreError(
            f"{self.path} line {number}: {what}; to start this run over, move the store away:"
            f" {self.move_away_command()}"
        )

    def load(self) -> dict[str, Prediction]:
        """Finished predictions by case id.

        A store is a header line then prediction lines. A file with no complete line (0 bytes, or a header torn by
        a kill or a full disk) holds nothing and counts as absent; a torn last line is dropped. Any other damaged
        line, another system's header, or one case stored twice with different predictions is an error naming the
        line; a case stored twice identically is ignored (counted in :attr:`duplicates`).
        """
        self.duplicates = 0
        if not self.path.exists():
            return {}
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        complete, torn = lines[:-1], lines[-1]
        if not complete:
            if raw:
                logger.warning("%s holds only a torn header (a killed run or a full disk); starting it over", self.path)
            return {}
        if torn:
            logger.warning("dropping a torn last line of %s (a killed run)", self.path)
        out: dict[str, Prediction] = {}
        for number, line in enumerate(complete, 1):
            record = self._record(number, line)
            if number == 1:
                self._check_header(record)
                continue
            if record.get("type") != "prediction" or not isinstance(record.get("case_id"), str):
                raise self._corrupt(number, "not a prediction record (no type 'prediction' and string case_id)")
            if "prediction" not in record or not isinstance(record.get("meta", {}), dict):
                raise self._corrupt(number, "a prediction record without its prediction or with a non-object meta")
            pred = Prediction(record["case_id"], record["prediction"], record.get("meta", {}))
            earlier = out.get(pred.case_id)
            if earlier is not None:
                if (earlier.prediction, dict(earlier.meta)) != (pred.prediction, dict(pred.meta)):
                    raise self._corrupt(number, f"case {pred.case_id} is stored twice with different predictions")
                self.duplicates += 1
                continue
            out[pred.case_id] = pred
        if self.duplicates:
            logger.warning("%s: ignored %d identical duplicate line(s)", self.path, self.duplicates)
        return out

    def _record(self, number: int, line: bytes) -> dict[str, Any]:
        if not line.strip():
            raise self._corrupt(number, "blank line")
        try:
            record = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._corrupt(number, "not UTF-8 text (binary data?)") from None
        except json.JSONDecodeError as exc:
            raise self._corrupt(number, f"not JSON ({exc.msg})") from None
        except RecursionError:
            raise self._corrupt(number, "JSON nested too deeply") from None
        if not isinstance(record, dict):
            raise self._corrupt(number, f"a JSON {type(record).__name__}, not an object")
        return record

    def _check_header(self, record: dict[str, Any]) -> None:
        card = record.get("system_card")
        found = card.get("fingerprint") if isinstance(card, dict) else None
        if record.get("type") != "header":
            raise self._corrupt(1, "not a run store header")
        if found != self.key.card.fingerprint:
            raise RunStoreError(
                f"{self.path}: header fingerprint {found} differs from this system's {self.key.card.fingerprint};"
                f" refusing to reuse another system's outputs (move the store away: {self.move_away_command()})"
            )

    def _repair(self) -> None:
        """Restore the invariant before appending: header-then-lines, ending on a newline.

        A file without a complete line (0 bytes, torn header) is replaced by a fresh header, atomically;
        a torn last line is cut off.
        """
        raw = self.path.read_bytes() if self.path.exists() else b""
        if b"\n" not in raw:
            atomic_write_bytes(self.path, _encode([self.header()]))
        elif not raw.endswith(b"\n"):
            with open(self.path, "r+b") as handle:
                handle.truncate(raw.rfind(b"\n") + 1)
                handle.flush()
                os.fsync(handle.fileno())

    def discard(self) -> bool:
        """Delete the stored predictions (``run --fresh``); returns whether there were any."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            with self._lock.acquire(timeout=1):
                existed = self.path.exists()
                self.path.unlink(missing_ok=True)
        except Timeout:
            raise RunStoreError(f"another process is writing {self.path}") from None
        if existed:
            logger.info("discarded the stored predictions in %s", self.path)
        return existed

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
        self.reused_ids = frozenset(c.case_id for c in cases if c.case_id in done)
        reused = len(self.reused_ids)
        todo = [c for c in cases if c.case_id not in done]
        self._repair()
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
        data = memoryview(_encode(records))
        try:
            with open(self.path, "ab", buffering=0) as handle:  # unbuffered: nothing left to flush on close
                while data:
                    data = data[handle.write(data) :]
                os.fsync(handle.fileno())
        except OSError as exc:  # a full disk: name the file; the torn line is dropped on the next run
            if exc.filename is not None or exc.errno is None:
                raise
            raise OSError(exc.errno, exc.strerror, str(self.path)) from exc


def _encode(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records).encode("utf-8")


def _checked(predictions: Iterator[Prediction], wanted: set[str]) -> Iterator[Prediction]:
    seen = set()
    for pred in predictions:
        if pred.case_id not in wanted or pred.case_id in seen:
            raise RunStoreError(f"system returned an unexpected or repeated case id {pred.case_id!r}")
        seen.add(pred.case_id)
        yield pred
    if seen != wanted:
        raise RunStoreError(f"system returned no prediction for case(s) {', '.join(sorted(wanted - seen))}")
