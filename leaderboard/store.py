"""The leaderboard store: one embedded SQLite database, one entry per score report.

Concurrency and crashes: the database runs in WAL mode with a busy timeout, and every write is one
``BEGIN IMMEDIATE`` transaction (the write lock is taken up front, so two processes adding at once
queue instead of failing mid-way). A process killed inside a write leaves no trace of it: SQLite
rolls the unfinished transaction back on the next open.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from leaderboard.bias import BiasExperiment
from leaderboard.migrations import LATEST_VERSION, current_version, migrate
from leaderboard.records import Entry, MetricResult
from leaderboard.schema import task_name

logger = logging.getLogger(__name__)

ENV_DB = "ARCHEHR_LEADERBOARD_DB"
DEFAULT_DB = Path(".archehr") / "leaderboard.sqlite"
BUSY_TIMEOUT_SECONDS = 60.0


class StoreError(HarnessError):
    pass


class UnknownEntryError(StoreError):
    pass


def default_db_path() -> Path:
    """``$ARCHEHR_LEADERBOARD_DB`` if set, else ``./.archehr/leaderboard.sqlite`` (one board per project folder)."""
    env = os.environ.get(ENV_DB)
    return Path(env) if env else Path.cwd() / DEFAULT_DB


@dataclass(frozen=True)
class AddResult:
    entry: Entry
    added: bool  # False: the same report was already on the board (as ``entry``)


@dataclass(frozen=True)
class BiasAddResult:
    experiment: BiasExperiment
    added: bool  # False: the same result was already on the board (as ``experiment``)


class LeaderboardStore:
    """Entries (and LLM-judge bias experiments, kept apart) of one leaderboard database. Use as a context
    manager, or call :meth:`close`."""

    def __init__(self, path: str | Path | None = None, *, timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._enable_wal(timeout)
            if current_version(self._conn) != LATEST_VERSION:  # migrate() refuses a newer database
                with self.transaction() as conn:
                    old = migrate(conn)
                if old:
                    logger.info("migrated %s from schema version %d to %d", self.path, old, LATEST_VERSION)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(
                f"file {self.path}: not a usable leaderboard database ({exc}); give --db another file,"
                " or move this one away to start a new board"
            ) from None

    def _enable_wal(self, timeout: float) -> None:
        # Switching the journal mode needs a moment alone with the file; retry while another opener has it.
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> LeaderboardStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def schema_version(self) -> int:
        return current_version(self._conn)

    # ------------------------------------------------------------------ writes

    def add(self, entry: Entry, report: dict[str, Any]) -> AddResult:
        """Add ``entry`` (built from ``report``, kept verbatim) unless the same report is already on the board."""
        entry.check()
        added_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction() as conn:
            row = conn.execute("SELECT id FROM entries WHERE digest = ?", (entry.digest,)).fetchone()
            if row is not None:
                existing_id = int(row[0])
                added = False
            else:
                existing_id = _insert_entry(conn, entry, report, added_at)
                _insert_metrics(conn, existing_id, entry)
                added = True
        stored = self.get(existing_id)
        if added:
            logger.info("added %s (entry %d) to %s", stored.system, existing_id, self.path)
        return AddResult(stored, added)

    def remove(self, *entry_ids: int) -> None:
        """Remove entries (and their metrics) in one transaction: all of them, or none if one is unknown."""
        with self.transaction() as conn:
            for entry_id in entry_ids:
                if conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,)).rowcount == 0:
                    raise UnknownEntryError(f"no entry {entry_id} on {self.path}")

    def add_bias(self, experiment: BiasExperiment) -> BiasAddResult:
        """Add a checked bias experiment (:func:`leaderboard.ingest.bias_from_result`) to its own table, never to
        the entries, unless the same result is already on the board."""
        added_at = datetime.now(UTC).isoformat(timespec="seconds")
        values = {
            "digest": experiment.digest,
            "experiment": experiment.experiment,
            "task": experiment.task,
            "year": experiment.year,
            "subtask": experiment.subtask,
            "split": experiment.split,
            "case_set_hash": experiment.case_set_hash,
            "judge_signature": experiment.judge_signature,
            # verbatim, in the result's order (the systems' order is the order it judged them)
            "result_json": json.dumps(dict(experiment.result), ensure_ascii=False, allow_nan=False),
            "source": experiment.source,
            "added_at": added_at,
        }
        with self.transaction() as conn:
            row = conn.execute("SELECT id FROM bias_experiments WHERE digest = ?", (experiment.digest,)).fetchone()
            added = row is None
            if added:
                sql = f"INSERT INTO bias_experiments ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
                bias_id = conn.execute(sql, list(values.values())).lastrowid
            else:
                bias_id = row[0]
        assert bias_id is not None
        (stored,) = self._bias_rows("WHERE id = ?", [int(bias_id)])
        if added:
            logger.info("added judge bias experiment %d to %s", stored.id, self.path)
        return BiasAddResult(stored, added)

    def remove_bias(self, *bias_ids: int) -> None:
        """Remove bias experiments in one transaction: all of them, or none if one is unknown."""
        with self.transaction() as conn:
            for bias_id in bias_ids:
                if conn.execute("DELETE FROM bias_experiments WHERE id = ?", (bias_id,)).rowcount == 0:
                    raise UnknownEntryError(f"no judge bias experiment {bias_id} on {self.path}")

    # ------------------------------------------------------------------ reads

    def bias_experiments(
        self, *, year: str | None = None, subtask: int | None = None, split: str | None = None
    ) -> list[BiasExperiment]:
        """LLM-judge bias experiments in the order they were added, optionally filtered (never among entries)."""
        where, args = [], []
        for column, value in (("year", year), ("subtask", subtask), ("split", split)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        return self._bias_rows(f"{'WHERE ' + ' AND '.join(where) if where else ''}", args)

    def _bias_rows(self, where: str, args: list[Any]) -> list[BiasExperiment]:
        rows = self._cursor().execute(f"SELECT * FROM bias_experiments {where} ORDER BY id", args).fetchall()
        out = []
        for row in rows:
            result = json.loads(row["result_json"])
            out.append(
                BiasExperiment(
                    task=row["task"],
                    split=row["split"],
                    case_ids=tuple(result["case_ids"]),
                    judge_signature=row["judge_signature"],
                    result=result,
                    digest=row["digest"],
                    source=row["source"],
                    id=int(row["id"]),
                    added_at=row["added_at"],
                )
            )
        return out

    def entries(self, *, year: str | None = None, subtask: int | None = None, split: str | None = None) -> list[Entry]:
        """Entries in the order they were added, optionally filtered."""
        where, args = [], []
        for column, value in (("year", year), ("subtask", subtask), ("split", split)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT * FROM entries{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id"
        # One snapshot for entries and metrics, so a concurrent add never shows half an entry.
        self._conn.execute("BEGIN")
        try:
            rows = self._cursor().execute(sql, args).fetchall()
            metrics = self._metrics([int(r["id"]) for r in rows]) if rows else {}
        finally:
            self._conn.execute("COMMIT")
        return [_entry(row, metrics.get(int(row["id"]), {})) for row in rows]

    def get(self, entry_id: int) -> Entry:
        self._conn.execute("BEGIN")
        try:
            row = self._cursor().execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
            metrics = self._metrics([entry_id]) if row is not None else {}
        finally:
            self._conn.execute("COMMIT")
        if row is None:
            raise UnknownEntryError(f"no entry {entry_id} on {self.path}")
        return _entry(row, metrics.get(entry_id, {}))

    def find_digest(self, digest: str) -> Entry | None:
        """The entry holding the report with this digest, if it is on the board."""
        row = self._conn.execute("SELECT id FROM entries WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else self.get(int(row[0]))

    def resolve(self, ref: str) -> Entry:
        """An entry by id (``3`` or ``#3``), digest prefix (at least 6 characters) or unique system name."""
        text = ref.strip().removeprefix("#")
        if text.isdigit():
            return self.get(int(text))
        entries = self.entries()
        by_name = [e for e in entries if e.system == ref]
        by_digest = [e for e in entries if len(text) >= 6 and e.digest.startswith(text.lower())]
        matches = by_name or by_digest
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UnknownEntryError(f"no entry {ref!r} on {self.path} (use an id from `archehr leaderboard show`)")
        ids = ", ".join(f"#{e.id} ({task_name(e.year, e.subtask)}, {e.split})" for e in matches)
        raise UnknownEntryError(f"{ref!r} names several entries: {ids}; use an id")

    def _cursor(self) -> sqlite3.Cursor:
        cursor = self._conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor

    def _metrics(self, ids: list[int]) -> dict[int, dict[str, MetricResult]]:
        out: dict[int, dict[str, MetricResult]] = {}
        marks = ",".join("?" * len(ids))
        sql = f"SELECT * FROM metrics WHERE entry_id IN ({marks}) ORDER BY entry_id, rowid"
        for row in self._cursor().execute(sql, ids):
            per_case = row["per_case_json"]
            hib = row["higher_is_better"]
            metric = MetricResult.from_json(
                {
                    "key": row["key"],
                    "signature": row["signature"],
                    "value": row["value"],
                    "status": row["status"],
                    "per_case": None if per_case is None else json.loads(per_case),
                    "aggregation": row["aggregation"],
                    "reason": row["reason"],
                    "fix": row["fix"],
                    "higher_is_better": None if hib is None else bool(hib),
                    "missing": json.loads(row["missing_json"]),
                    "components": json.loads(row["components_json"]),
                }
            )
            out.setdefault(int(row["entry_id"]), {})[metric.key] = metric
        return out


def _insert_entry(conn: sqlite3.Connection, entry: Entry, report: dict[str, Any], added_at: str) -> int:
    values = {
        "digest": entry.digest,
        "system": entry.system,
        "fingerprint": entry.fingerprint,
        "card_json": None if entry.card is None else _dumps(dict(entry.card)),
        "year": entry.year,
        "subtask": entry.subtask,
        "split": entry.split,
        "case_ids_json": _dumps(list(entry.case_ids)),
        "case_set_hash": entry.case_set_hash,
        "key_hash": entry.key_hash,
        "harness_version": entry.harness_version,
        "report_schema_version": entry.report_schema_version,
        "partial": int(entry.partial),
        "missing_json": _dumps(list(entry.missing)),
        "lexical_only": int(entry.lexical_only),
        "run_json": _dumps(dict(entry.run)),
        "source": entry.source,
        "created_at": entry.created_at,
        "added_at": added_at,
        "report_json": _dumps(report),
    }
    sql = f"INSERT INTO entries ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
    cursor = conn.execute(sql, list(values.values()))
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


def _insert_metrics(conn: sqlite3.Connection, entry_id: int, entry: Entry) -> None:
    rows = []
    for m in entry.metrics.values():
        data = m.to_json()
        per_case = data["per_case"]
        hib = m.higher_is_better
        rows.append(
            (
                entry_id,
                m.key,
                m.signature,
                m.status,
                m.value,
                None if per_case is None else _dumps(per_case),
                m.reason,
                m.fix,
                m.aggregation,
                None if hib is None else int(hib),
                _dumps(list(m.missing)),
                _dumps(list(m.components)),
            )
        )
    conn.executemany(
        "INSERT INTO metrics (entry_id, key, signature, status, value, per_case_json, reason, fix, aggregation, "
        "higher_is_better, missing_json, components_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _entry(row: sqlite3.Row, metrics: dict[str, MetricResult]) -> Entry:
    card = row["card_json"]
    return Entry(
        id=int(row["id"]),
        system=row["system"],
        year=row["year"],
        subtask=row["subtask"],
        split=row["split"],
        case_ids=tuple(json.loads(row["case_ids_json"])),
        key_hash=row["key_hash"],
        metrics=metrics,
        digest=row["digest"],
        fingerprint=row["fingerprint"],
        card=None if card is None else json.loads(card),
        harness_version=row["harness_version"],
        report_schema_version=row["report_schema_version"],
        partial=bool(row["partial"]),
        missing=tuple(json.loads(row["missing_json"])),
        lexical_only=bool(row["lexical_only"]),
        source=row["source"],
        created_at=row["created_at"],
        run=json.loads(row["run_json"]),
        added_at=row["added_at"],
    )


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, sort_keys=True)
