from __future__ import annotations

from systems.llm_prompt.parsing import clean_text, parse_alignment, parse_cited_answer, parse_id_list
from systems.llm_prompt.system import vote

IDS = ["1", "2", "3", "4", "5"]


def test_id_lists_in_their_usual_disguises() -> None:
    assert parse_id_list('["2", "5"]', IDS) == ["2", "5"]
    assert parse_id_list("Sure! The answer is [3, 1, 3].", IDS) == ["3", "1"]
    assert parse_id_list('```json\n["4"]\n```', IDS) == ["4"]
    assert parse_id_list("2, 4", IDS) == ["2", "4"]
    assert parse_id_list("[]", IDS) == []
    assert parse_id_list('["2", "99"]', IDS) == ["2"]  # unknown ids dropped


def test_reasoning_blocks_are_ignored() -> None:
    assert parse_id_list('<think>maybe [1] or [2]?</think>\n["3"]', IDS) == ["3"]
    assert parse_id_list("<think>still thinking [1]", IDS) is None
    assert clean_text("<think>hmm</think>When can he work?", 15) == "When can he work?"


def test_invalid_id_lists() -> None:
    assert parse_id_list("Sentence two is relevant.", IDS) is None
    assert parse_id_list('["42", "77"]', IDS) is None  # nothing known
    assert parse_id_list("[1, 2", IDS) is None  # unclosed
    echoed = "[1] HPI: 24M s/p snowboarding accident.\n[2] FAST positive in LUQ."
    assert parse_id_list(echoed, IDS) is None  # the note echoed back: sentence tags, not an answer
    assert parse_id_list(echoed + '\nAnswer: ["2"]', IDS) == ["2"]


def test_cited_answer_keeps_the_cited_ids() -> None:
    assert parse_cited_answer("You can walk. |2| Avoid lifting for 6 weeks. |4,5|", IDS) == ["2", "4", "5"]
    assert parse_cited_answer("You can walk [3].", IDS) == ["3"]
    assert parse_cited_answer("You can walk.", IDS) is None
    assert parse_cited_answer("[1] HPI: 24M s/p accident.\n[2] FAST positive.", IDS) is None  # echoed note


def test_alignment_object_or_entry_list() -> None:
    answers = ["1", "2"]
    assert parse_alignment('{"1": ["3"], "2": [4, "9"]}', answers, IDS) == {"1": ["3"], "2": ["4"]}
    entries = '[{"answer_id": "2", "evidence_id": ["1", "5"]}]'
    assert parse_alignment(entries, answers, IDS) == {"2": ["1", "5"]}
    assert parse_alignment('{"7": ["3"]}', answers, IDS) is None
    assert parse_alignment("no json here", answers, IDS) is None


def test_clean_text_strips_labels_quotes_citations_and_cuts() -> None:
    assert clean_text('Clinician question: "When can he work?"\nMore text', 15, first_line=True) == "When can he work?"
    assert clean_text("Answer: Rest |2|. Walk daily |3,4|.", 75) == "Rest. Walk daily."
    assert clean_text(" ".join(["word"] * 100), 75) == " ".join(["word"] * 75)
    assert clean_text("  \n ", 15) is None


def test_vote_threshold() -> None:
    samples = [["1", "2"], ["1"], ["1", "3"], ["2", "1"], ["1"]]
    assert vote(samples, 0.6) == {"1"}
    assert vote(samples, 0.4) == {"1", "2"}
    assert vote(samples, 0.2) == {"1", "2", "3"}
    assert vote([["1", "1"]], 1.0) == {"1"}
    assert vote([], 0.5) == set()
