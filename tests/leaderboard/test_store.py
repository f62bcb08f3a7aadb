"""The SQLite store: transactions, concurrent writers, killed writes, migrations."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from leaderboard import store as store_module
from leaderboard.migrations import LATEST_VERSION, SchemaTooNewError, current_version, migrate
from leaderboard.store import LeaderboardStore, UnknownEntryError, default_db_path


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_add_get_and_dedupe(tmp_path, entry_factory):
    db = tmp_path / "lb.sqlite"
    entry = entry_factory("alpha", seed=1, card={"name": "alpha", "fingerprint": "f" * 64, "config": {"k": 1}})
    with LeaderboardStore(db) as store:
        first = store.add(entry, entry.to_json())
        again = store.add(entry, entry.to_json())
        assert first.added and not again.added
        assert again.entry.id == first.entry.id
        got = store.get(first.entry.id)
        assert store.schema_version() == LATEST_VERSION
    assert got.system == "alpha" and got.card == {"name": "alpha", "fingerprint": "f" * 64, "config": {"k": 1}}
    assert got.case_ids == entry.case_ids
    assert got.metrics["bleu"].per_case == entry.metrics["bleu"].per_case
    assert got.metrics["bleu"].signature == entry.metrics["bleu"].signature
    assert _count(db, "entries") == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_resolve_and_remove(tmp_path, entry_factory):
    with LeaderboardStore(tmp_path / "lb.sqlite") as store:
        a = store.add(entry_factory("alpha", seed=1), {}).entry
        b = store.add(entry_factory("beta", seed=2), {}).entry
        assert store.resolve(f"#{a.id}").system == "alpha"
        assert store.resolve("beta").id == b.id
        assert store.resolve(b.digest[:10]).id == b.id
        with pytest.raises(UnknownEntryError):
            store.resolve("gamma")
        with pytest.raises(UnknownEntryError):
            store.remove(a.id, 999)  # all or nothing
        assert len(store.entries()) == 2
        store.remove(a.id)
        assert [e.system for e in store.entries()] == ["beta"]
        assert store.entries(split="nope") == []


def test_default_path_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHEHR_LEADERBOARD_DB", str(tmp_path / "x.sqlite"))
    assert default_db_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("ARCHEHR_LEADERBOARD_DB")
    monkeypatch.chdir(tmp_path)
    assert default_db_path() == tmp_path / ".archehr" / "leaderboard.sqlite"


def _add_many(db: str, worker: int, count: int, factory) -> None:
    for i in range(count):
        # A fresh connection per add: also races the open (WAL switch, migration check) against writers.
        with LeaderboardStore(db) as store:
            entry = factory(f"w{worker}", seed=worker * 1000 + i)
            store.add(entry, entry.to_json())


def test_concurrent_adds_lose_nothing(tmp_path, entry_factory):
    db = tmp_path / "lb.sqlite"
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_add_many, args=(str(db), w, 10, entry_factory)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert _count(db, "entries") == 40
    assert _count(db, "metrics") == 40 * 7
    assert _integrity(db) == "ok"
    with LeaderboardStore(db) as store:
        names = sorted(e.system for e in store.entries())
    assert names == sorted(f"w{w}" for w in range(4) for _ in range(10))


def test_exception_mid_transaction_rolls_back(tmp_path, entry_factory, monkeypatch):
    db = tmp_path / "lb.sqlite"
    with LeaderboardStore(db) as store:
        store.add(entry_factory("kept", seed=1), {})

        def boom(*args, **kwargs):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(store_module, "_insert_metrics", boom)
        with pytest.raises(RuntimeError):
            store.add(entry_factory("lost", seed=2), {})
        monkeypatch.undo()
        assert [e.system for e in store.entries()] == ["kept"]
        store.add(entry_factory("after", seed=3), {})  # the store is still usable
    assert _count(db, "entries") == 2
    assert _count(db, "metrics") == 14
    assert _integrity(db) == "ok"


def _killed_writer(db: str, factory) -> None:
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    store_module._insert_metrics = die  # the entry row is written, its metrics never are
    with LeaderboardStore(db) as store:
        entry = factory("killed", seed=9)
        store.add(entry, entry.to_json())


def test_killed_write_leaves_database_consistent(tmp_path, entry_factory):
    db = tmp_path / "lb.sqlite"
    with LeaderboardStore(db) as store:
        store.add(entry_factory("kept", seed=1), {})
    process = multiprocessing.get_context("fork").Process(target=_killed_writer, args=(str(db), entry_factory))
    process.start()
    process.join(timeout=60)
    assert process.exitcode == -signal.SIGKILL
    with LeaderboardStore(db) as store:
        assert [e.system for e in store.entries()] == ["kept"]
        store.add(entry_factory("next", seed=2), {})
    assert _integrity(db) == "ok"
    assert _count(db, "entries") == 2 and _count(db, "metrics") == 14


def test_migrates_a_version_1_database(tmp_path, report_factory):
    db = tmp_path / "old.sqlite"
    report = report_factory("legacy", seed=4, missing=("medcon",))
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    migrate(conn, target=1)
    conn.execute(
        "INSERT INTO entries (digest, system, year, subtask, split, case_ids_json, case_set_hash, key_hash, partial, "
        "added_at, report_json) VALUES ('d1', 'legacy', '2026', 3, 'test-2026', ?, 'h', ?, 1, '2026-01-01', ?)",
        (json.dumps(report["case_ids"]), report["key_hash"], json.dumps(report)),
    )
    for key, value in report["scores"].items():
        status = "ok" if value is not None else "unavailable"
        per_case = json.dumps(report["per_case"][key]) if key in report["per_case"] else None
        conn.execute(
            "INSERT INTO metrics (entry_id, key, signature, status, value, per_case_json) VALUES (1, ?, ?, ?, ?, ?)",
            (key, report["signatures"][key], status, value, per_case),
        )
    conn.execute("COMMIT")
    assert current_version(conn) == 1
    conn.close()

    with LeaderboardStore(db) as store:
        assert store.schema_version() == LATEST_VERSION == 3
        (entry,) = store.entries()
    assert entry.system == "legacy"
    assert entry.missing == ("medcon",)  # backfilled from the stored report
    assert entry.metrics["overall_score"].missing == ("medcon",)
    assert not entry.metrics["medcon"].available
    assert entry.metrics["bleu"].per_case == report["per_case"]["bleu"]


def test_migrates_a_version_2_database(tmp_path, report_factory):
    """Version 3 adds the judge bias table; an entry written at version 2 stays as it was."""
    db = tmp_path / "v2.sqlite"
    report = report_factory("kept", seed=5)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    migrate(conn, target=2)
    conn.execute(
        "INSERT INTO entries (digest, system, year, subtask, split, case_ids_json, case_set_hash, key_hash, partial, "
        "added_at, report_json, run_json) VALUES ('d2', 'kept', '2026', 3, 'test-2026', ?, 'h', ?, 0, '2026-01-01', "
        "?, '{}')",
        (json.dumps(report["case_ids"]), report["key_hash"], json.dumps(report)),
    )
    for key, value in report["scores"].items():
        per_case = json.dumps(report["per_case"][key]) if key in report["per_case"] else None
        conn.execute(
            "INSERT INTO metrics (entry_id, key, signature, status, value, per_case_json, aggregation) "
            "VALUES (1, ?, ?, 'ok', ?, ?, ?)",
            (key, report["signatures"][key], value, per_case, report["aggregations"][key]),
        )
    conn.execute("COMMIT")
    assert current_version(conn) == 2
    conn.close()

    with LeaderboardStore(db) as store:
        assert store.schema_version() == LATEST_VERSION == 3
        (entry,) = store.entries()
        assert store.bias_experiments() == []
    assert entry.system == "kept" and entry.metrics["bleu"].per_case == report["per_case"]["bleu"]
    assert entry.metrics["overall_score"].value == report["scores"]["overall_score"]
    assert _integrity(db) == "ok" and _count(db, "bias_experiments") == 0


def test_refuses_a_newer_database(tmp_path):
    db = tmp_path / "future.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (99)")
    with pytest.raises(SchemaTooNewError, match="newer than this harness"):
        LeaderboardStore(db)
