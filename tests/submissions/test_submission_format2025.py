"""The 2025 answer string: our writer, the official parser's quirks, and the pitfall linter."""

from __future__ import annotations

import pytest

from harness.data.model import AnswerSentence
from harness.errors import InputError
from submissions.format2025 import format_answer_2025, lint_answer_2025, parse_answer_2025

IDS = {"1", "2", "3", "4"}


# ---------------------------------------------------------------- writer


def test_writer_emits_one_sentence_per_line_with_tight_pipes() -> None:
    answer = format_answer_2025(
        [AnswerSentence("1", "The stent was\nblocked.", ("1", " 2", "1")), ("ERCP was repeated!", ["3"])]
    )
    assert answer == "The stent was blocked. |1,2|\nERCP was repeated! |3|"


def test_writer_leaves_uncited_sentences_bare() -> None:
    assert format_answer_2025([("No evidence here.", [])]) == "No evidence here."


@pytest.mark.parametrize(
    ("sentence", "cites"), [("A | B.", ["1"]), ("   ", ["1"]), ("Fine.", ["1 2"]), ("Fine.", ["1,2"]), ("Fine.", [""])]
)
def test_writer_refuses_what_it_cannot_write_faithfully(sentence: str, cites: list[str]) -> None:
    with pytest.raises(InputError) as info:
        format_answer_2025([("Good.", ["1"]), (sentence, cites)], case_id="5")
    assert [(p.case_id, p.field) for p in info.value.problems] == [("5", "answer[1]")]


def test_writer_output_parses_back() -> None:
    sentences = [("First sentence.", ["1", "2"]), ("Second one?", ["3"]), ("Third without a stop", ["4"])]
    parsed = parse_answer_2025(format_answer_2025(sentences))
    assert parsed.citations == ("1", "2", "3", "4")
    assert parsed.answer_text == "First sentence. Second one? Third without a stop."
    lint = lint_answer_2025(format_answer_2025(sentences), sentence_ids=IDS)
    assert lint.errors == () and lint.warnings == ()


# ---------------------------------------------------------------- official parser


def test_parser_keeps_raw_items_unstripped() -> None:
    parsed = parse_answer_2025("The medicine was changed. |1, 2|")
    assert parsed.citations == ("1", " 2")
    assert parsed.lines[0].citations == ("1", " 2")


def test_parser_appends_a_period_only_when_missing() -> None:
    parsed = parse_answer_2025("Was it needed? |1|\nYes! |2|\nIt was |3|\nDone. |4|")
    assert parsed.answer_text == "Was it needed? Yes! It was. Done."


def test_parser_skips_blank_lines_and_handles_crlf() -> None:
    parsed = parse_answer_2025("\n  \nOne. |1|\r\n\r\nTwo. |2|\n")
    assert [line.line_number for line in parsed.lines] == [3, 5]
    assert parsed.answer_text == "One. Two."
    assert parsed.citations == ("1", "2")


def test_parser_line_without_three_parts_has_no_citations() -> None:
    parsed = parse_answer_2025("No citations here\nOne pipe |3\nCited. |1|")
    assert [line.has_citation_group for line in parsed.lines] == [False, False, True]
    assert parsed.answer_text == "No citations here. One pipe |3. Cited."
    assert parsed.citations == ("1",)


def test_parser_reads_only_the_last_pipe_group() -> None:
    parsed = parse_answer_2025("A |1| B |2| tail")
    assert parsed.lines[0].sentence == "A |1| B."
    assert parsed.citations == ("2",)


@pytest.mark.parametrize(
    ("answer", "citations"),
    [("Text. ||", ()), ("Text. |1,2,|", ("1", "2")), ("Text. |1,,2|", ("1", "2")), ("Text. |3, ,\t|", ("3",))],
)
def test_parser_drops_blank_citation_items(answer: str, citations: tuple[str, ...]) -> None:
    parsed = parse_answer_2025(answer)
    assert parsed.citations == citations == parsed.lines[0].citations
    assert parsed.lines[0].group == answer.split("|")[1]


def test_parser_citation_only_lines_add_no_text() -> None:
    parsed = parse_answer_2025("|1|\nThe stent was blocked |2|\n  |3,4|  \nIt was replaced. |5|")
    assert parsed.answer_text == "The stent was blocked. It was replaced."
    assert parsed.citations == ("1", "2", "3", "4", "5")
    assert [line.sentence for line in parsed.lines] == ["", "The stent was blocked.", "", "It was replaced."]
    only = parse_answer_2025("|1|\n|2|")
    assert (only.answer_text, only.citations, only.word_count) == ("", ("1", "2"), 0)


def test_parser_truncates_to_75_words_keeping_all_citations() -> None:
    lines = [" ".join(f"w{i}_{k}" for k in range(10)) + f". |{i}|" for i in range(1, 9)]
    parsed = parse_answer_2025("\n".join(lines))
    assert parsed.word_count == 80
    assert parsed.truncated
    assert len(parsed.answer_text.split(" ")) == 75
    assert parsed.answer_text.endswith("w8_4")
    assert parsed.citations == tuple(str(i) for i in range(1, 9))


def test_parser_counts_only_non_blank_words_and_rejoins_them() -> None:
    text = "a  b " * 37 + "c. |1|"  # 75 words: the empty strings of double spaces do not count
    parsed = parse_answer_2025(text)
    assert parsed.word_count == 75
    assert not parsed.truncated and parsed.answer_text == text[:-4].strip()
    longer = parse_answer_2025("a  b\t " * 38 + "|1|")  # 76 words: the first 75, joined by single spaces
    assert longer.word_count == 76 and longer.truncated
    assert longer.answer_text == " ".join(["a", "b\t"] * 37 + ["a"])


# ---------------------------------------------------------------- linter


def _warnings(answer: str, ids: set[str] | None = IDS) -> list[str]:
    lint = lint_answer_2025(answer, sentence_ids=ids, file="s.json", case_id="9")
    assert all((p.case_id, p.field, p.file) == ("9", "answer", "s.json") for p in lint.errors + lint.warnings)
    return [p.message for p in lint.warnings]


def test_clean_answer_has_no_findings() -> None:
    lint = lint_answer_2025("One. |1,2|\nTwo. |3|", sentence_ids=IDS)
    assert lint.errors == () and lint.warnings == ()


def test_spaces_in_pipes_warn() -> None:
    (message,) = _warnings("One. |1, 2|")
    assert "' 2'" in message and "line 1" in message


def test_several_pipe_groups_warn() -> None:
    (message,) = _warnings("One |1| and two. |2|")
    assert "2 pipe groups" in message


def test_unbalanced_pipe_warns() -> None:
    messages = _warnings("One. |1|\nTwo |2")
    assert any("1 '|'" in m for m in messages)


def test_bracket_citations_warn_and_without_pipes_fail() -> None:
    lint = lint_answer_2025("One [1, 2].\nTwo [3].", sentence_ids=IDS, case_id="9")
    assert [p.message.split(":")[0] for p in lint.errors] == ["no citations at all"]
    assert sum("bracket citation" in p.message for p in lint.warnings) == 2


def test_text_after_the_closing_pipe_warns() -> None:
    (message,) = _warnings("One |1| because of this.")
    assert "after the closing pipe" in message


def test_lines_without_citations_warn() -> None:
    (message,) = _warnings("One. |1|\nTwo.")
    assert message.startswith("line 2: no citations")


def test_unknown_and_empty_citations_warn() -> None:
    messages = _warnings("One. |1,9|\nTwo. |2,,3|")
    assert any("cites 9" in m for m in messages)
    assert any("empty citation" in m for m in messages)
    assert not any("cites" in m for m in _warnings("One. |1,9|", ids=None))


def test_no_citations_and_empty_answers_are_errors() -> None:
    assert lint_answer_2025("Just text.").errors
    assert lint_answer_2025(" \n ").errors
    (error,) = lint_answer_2025("|1|\n|2|", case_id="9").errors
    assert error.message.startswith("no answer text") and "divides by zero" in error.message


def test_citation_only_line_warns() -> None:
    (message,) = _warnings("|1|\nTwo. |2|")
    assert message.startswith("line 1: only citations on this line")


def test_long_answer_warns_about_truncation() -> None:
    messages = _warnings(" ".join(["word"] * 80) + " |1|")
    assert any("80 words" in m for m in messages)


def test_warnings_escape_control_characters() -> None:
    messages = _warnings("One. |1, ,\t|\nTwo |2| and |\x1b3|")
    assert any("|1, ,\\t|" in m for m in messages) and any("|\\x1b3|" in m for m in messages)
    assert all(m.isprintable() for m in messages)
