"""The leaderboard database schema and its ordered migrations.

``schema_version`` holds one row: the version the database is at. Migration ``n`` takes a database
at version ``n - 1`` to version ``n``; :func:`migrate` runs the ones still due inside the caller's
transaction, so a database is never left between two versions.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable

from harness.errors import HarnessError

logger = logging.getLogger(__name__)


class SchemaTooNewError(HarnessError):
    """The database was written by a newer harness."""


def _execute_all(conn: sqlite3.Connection, script: str) -> None:
    """Run ``;``-separated DDL statements one by one (``executescript`` would commit the open transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1(conn: sqlite3.Connection) -> None:
    """Entries and their metrics (per-case values as JSON)."""
    _execute_all(
        conn,
        """
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            digest TEXT NOT NULL UNIQUE,
            system TEXT NOT NULL,
            fingerprint TEXT,
            card_json TEXT,
            year TEXT NOT NULL,
            subtask INTEGER,
            split TEXT NOT NULL,
            case_ids_json TEXT NOT NULL,
            case_set_hash TEXT NOT NULL,
            key_hash TEXT NOT NULL,
            harness_version TEXT,
            report_schema_version INTEGER,
            partial INTEGER NOT NULL DEFAULT 0,
            source TEXT,
            created_at TEXT,
            added_at TEXT NOT NULL,
            report_json TEXT NOT NULL
        );
        CREATE TABLE metrics (
            entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            signature TEXT NOT NULL,
            status TEXT NOT NULL,
            value REAL,
            per_case_json TEXT,
            reason TEXT,
            fix TEXT,
            PRIMARY KEY (entry_id, key)
        );
        """,
    )


def _v2(conn: sqlite3.Connection) -> None:
    """Missing components, lexical-only flag, run metadata; per metric its aggregation, direction and
    components; an index for the views.

    Backfills the new columns from the report JSON that version 1 already kept.
    """
    from leaderboard.ingest import entry_from_report

    _execute_all(
        conn,
        """
        ALTER TABLE entries ADD COLUMN missing_json TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE entries ADD COLUMN lexical_only INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE entries ADD COLUMN run_json TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE metrics ADD COLUMN aggregation TEXT NOT NULL DEFAULT 'mean';
        ALTER TABLE metrics ADD COLUMN higher_is_better INTEGER;
        ALTER TABLE metrics ADD COLUMN missing_json TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE metrics ADD COLUMN components_json TEXT NOT NULL DEFAULT '[]';
        CREATE INDEX entries_view ON entries (year, subtask, split);
        """,
    )
    rows = conn.execute("SELECT id, system, report_json FROM entries").fetchall()
    for entry_id, system, report_json in rows:
        try:
            entry = entry_from_report(json.loads(report_json), system=system)
        except Exception as exc:  # an old report the adapter no longer reads keeps the defaults
            logger.warning("entry %s: could not backfill from its report (%s); kept defaults", entry_id, exc)
            continue
        conn.execute(
            "UPDATE entries SET missing_json = ?, lexical_only = ?, run_json = ? WHERE id = ?",
            (json.dumps(list(entry.missing)), int(entry.lexical_only), json.dumps(dict(entry.run)), entry_id),
        )
        for m in entry.metrics.values():
            conn.execute(
                "UPDATE metrics SET aggregation = ?, higher_is_better = ?, missing_json = ?, components_json = ? "
                "WHERE entry_id = ? AND key = ?",
                (
                    m.aggregation,
                    m.higher_is_better,
                    json.dumps(list(m.missing)),
                    json.dumps(list(m.components)),
                    entry_id,
                    m.key,
                ),
            )


def _v3(conn: sqlite3.Connection) -> None:
    """LLM-judge bias experiments (``archehr judge bias``): one row per result, kept apart from ``entries`` so they
    never enter a ranking."""
    _execute_all(
        conn,
        """
        CREATE TABLE bias_experiments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            digest TEXT NOT NULL UNIQUE,
            experiment TEXT NOT NULL,
            task TEXT NOT NULL,
            year TEXT NOT NULL,
            subtask INTEGER,
            split TEXT NOT NULL,
            case_set_hash TEXT NOT NULL,
            judge_signature TEXT NOT NULL,
            result_json TEXT NOT NULL,
            source TEXT,
            added_at TEXT NOT NULL
        );
        CREATE INDEX bias_experiments_view ON bias_experiments (year, subtask, split);
        """,
    )


#: Ordered migrations: ``MIGRATIONS[n - 1]`` brings a database to version ``n``.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3)
LATEST_VERSION = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    """The database's version; 0 for an empty database."""
    has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if not has_table:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return 0 if row is None else int(row[0])


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Bring the database to ``target`` inside the caller's open transaction; returns the old version."""
    version = current_version(conn)
    if version > LATEST_VERSION:
        raise SchemaTooNewError(
            f"the leaderboard database is at schema version {version}, newer than this harness knows "
            f"({LATEST_VERSION}); upgrade archehr-harness"
        )
    if version == 0:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (0)")
    for number in range(version + 1, target + 1):
        logger.info("migrating the leaderboard database to schema version %d", number)
        MIGRATIONS[number - 1](conn)
        conn.execute("UPDATE schema_version SET version = ?", (number,))
    return version
