"""The response cache: one JSONL line per answered request, so a killed run resumes without asking again.

Each line is ``{"key", "model", "sample_index", "completion"}``; the key is :meth:`ChatRequest.cache_key`.
Lines are appended with one ``write`` each and fsynced per batch (:meth:`ResponseCache.sync`); a torn last
line (a killed run) is dropped on opening. Thread-safe within a process.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import IO, Any

from llmkit.backends import ChatRequest, Completion

logger = logging.getLogger(__name__)


class ResponseCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._entries: dict[str, Completion] = {}
        self._handle: IO[bytes] | None = None
        self._dirty = False
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        if lines[-1]:
            logger.warning("dropping a torn last line of %s (a killed run)", self.path)
            with open(self.path, "r+b") as handle:
                handle.truncate(len(raw) - len(lines[-1]))
        for number, line in enumerate(lines[:-1], 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                self._entries[record["key"]] = Completion(**record["completion"], cached=True)
            except (json.JSONDecodeError, KeyError, TypeError):
                logger.warning("%s line %d: not a cache record; ignored", self.path, number)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, model_id: str, request: ChatRequest) -> Completion | None:
        with self._lock:
            return self._entries.get(request.cache_key(model_id))

    def put(self, model_id: str, request: ChatRequest, completion: Completion) -> None:
        key = request.cache_key(model_id)
        record: dict[str, Any] = {
            "key": key,
            "model": model_id,
            "sample_index": request.sample_index,
            "completion": completion.to_json(),
        }
        line = (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = open(self.path, "ab")  # noqa: SIM115 - kept open for the batch, closed in sync()
            self._handle.write(line)
            self._handle.flush()
            self._dirty = True
            self._entries[key] = Completion(**completion.to_json(), cached=True)

    def sync(self) -> None:
        """fsync and close what was appended since the last sync (call once per batch; the next put reopens)."""
        with self._lock:
            if self._handle is not None:
                if self._dirty:
                    os.fsync(self._handle.fileno())
                    self._dirty = False
                self._handle.close()
                self._handle = None

    close = sync
