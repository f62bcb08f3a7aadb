"""Numbers share a column only when signatures, split, case ids and key agree; partial scores are flagged."""

from __future__ import annotations

from leaderboard.comparability import build_tables
from leaderboard.records import Entry


def _ids(entries: list[Entry]) -> list[Entry]:
    return [e.with_id(i, "now") for i, e in enumerate(entries, start=1)]


def test_same_everything_shares_columns_and_ranks_by_overall(entry_factory):
    low, high = _ids([entry_factory("low", seed=1), entry_factory("high", seed=1, shift=20)])
    (table,) = build_tables([low, high])
    assert [r.entry.system for r in table.rows] == ["high", "low"]
    assert [c.key for c in table.columns][:7] == [
        "overall_score",
        "bleu",
        "rougeLsum",
        "sari",
        "bertscore",
        "alignscore",
        "medcon",
    ]
    assert all(c.variant == 0 and c.note is None for c in table.columns)
    overall = table.column("overall_score")
    assert overall.best == high.metrics["overall_score"].value
    assert overall.higher_is_better and overall.arrow == "↑"
    assert table.rows[0].to_json(table.columns)["best"]  # the winner's cells are marked best


def test_differing_signature_splits_the_column_with_reason(entry_factory):
    a, b, c = _ids(
        [
            entry_factory("a", seed=1),
            entry_factory("b", seed=2),
            entry_factory("intl", seed=3, variants={"bleu": "intl"}),
        ]
    )
    (table,) = build_tables([a, b, c])
    bleu = [col for col in table.columns if col.key == "bleu"]
    assert [col.variant for col in bleu] == [1, 2]
    assert bleu[0].signature.endswith("variant:a|harness:0.1")
    assert "variant: a vs intl" in (bleu[1].note or "")
    assert bleu[1].label == "BLEU ②"
    by_system = {r.entry.system: r for r in table.rows}
    assert "bleu" in by_system["a"].values and "bleu~2" not in by_system["a"].values
    assert "bleu~2" in by_system["intl"].values and "bleu" not in by_system["intl"].values
    # other metrics still share one column
    assert len([col for col in table.columns if col.key == "sari"]) == 1


def test_differing_case_ids_or_key_make_separate_tables(entry_factory):
    main1, main2, dev, other_key = _ids(
        [
            entry_factory("m1", seed=1),
            entry_factory("m2", seed=2),
            entry_factory("sub", seed=3, case_ids=[str(i) for i in range(121, 141)]),
            entry_factory("k", seed=4, key_hash="z" * 64),
        ]
    )
    tables = build_tables([main1, main2, dev, other_key])
    assert len(tables) == 3
    assert tables[0].apart_reason is None and {r.entry.system for r in tables[0].rows} == {"m1", "m2"}
    reasons = {t.rows[0].entry.system: t.apart_reason or "" for t in tables[1:]}
    assert "other case ids: 20 cases (121-140)" in reasons["sub"]
    assert "47 cases (121-167)" in reasons["sub"]
    assert "another answer key" in reasons["k"]
    assert len({t.id for t in tables}) == 3


def test_different_splits_never_share_a_table(entry_factory):
    a, b = _ids([entry_factory("a", seed=1), entry_factory("b", seed=1, split="test")])
    tables = build_tables([a, b])
    assert len(tables) == 2 and all(t.apart_reason is None for t in tables)
    assert {t.split for t in tables} == {"test", "test-2026"}


def test_partial_overall_is_its_own_flagged_column(entry_factory):
    full, partial = _ids(
        [entry_factory("full", seed=1), entry_factory("part", seed=2, missing=("medcon", "alignscore"))]
    )
    (table,) = build_tables([full, partial])
    overall = [c for c in table.columns if c.key == "overall_score"]
    assert [c.partial for c in overall] == [False, True]
    assert overall[1].missing == ("alignscore", "medcon")
    assert "partial: computed without alignscore, medcon" in (overall[1].note or "")
    assert "(partial)" in overall[1].label
    rows = {r.entry.system: r for r in table.rows}
    assert overall[0].id not in rows["part"].values and overall[1].id in rows["part"].values
    assert rows["part"].unavailable == {"medcon": "medcon model not found", "alignscore": "alignscore model not found"}
    assert rows["part"].to_json(table.columns)["partial"] is True
    assert table.rows[0].entry.system == "full"  # a partial score never outranks a complete one
