"""The chat messages of the two tasks (rendered with the model's chat template by the generator's code)."""

from __future__ import annotations

from collections.abc import Sequence

from systems.classify_generate.data import Item

Messages = list[dict[str, str]]

CLASSIFIER_SYSTEM = (
    "You read one entry of a patient's medical record and decide whether it helps answer the question. "
    "Reply with one word: yes or no."
)
CLASSIFIER_INSTRUCTION = "Is the record entry below relevant to the question? Answer yes or no."
GENERATOR_SYSTEM = (
    "You answer a patient's question about their medical record, using only the record entries given. "
    "Write plain language a patient understands, at most 75 words, without citations."
)


def classifier_messages(question: str, item: Item) -> Messages:
    """The item comes last, so the prompts of one question share everything before it (one cached prefix)."""
    user = f"Question: {question}\n{CLASSIFIER_INSTRUCTION}\nRecord entry: {item.text}"
    return [{"role": "system", "content": CLASSIFIER_SYSTEM}, {"role": "user", "content": user}]


def generator_messages(question: str, items: Sequence[Item]) -> Messages:
    entries = "\n".join(f"[{n}] {item.text}" for n, item in enumerate(items, 1)) or "(no relevant entry was found)"
    user = f"Question: {question}\nRelevant record entries:\n{entries}\nAnswer the question."
    return [{"role": "system", "content": GENERATOR_SYSTEM}, {"role": "user", "content": user}]
