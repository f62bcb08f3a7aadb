"""Task 1 at inference: P(yes) of each (question, item) prompt from the next-token logits, in batches.

No generation: the probability is the softmax over the two answer tokens at the prompt's last position,
``exp(l_yes) / (exp(l_yes) + exp(l_no))``. The answer tokens are the first tokens of "yes" and "no" as the
chat template continues a rendered prompt (found by tokenising prompt + answer, so a tokenizer that merges
a leading space still gets the right id).

Prompts come in groups (one case: the same system text and question, one item each). The group's common
token prefix is run once and its key/value cache shared by the group's items, which then only run their
own tokens (about half of each prompt): left-padded behind the prefix, masked, with position ids that
continue the prefix. Full prompts are tokenised first and split at the token level, so the tokens are
exactly those of the whole prompt (what training saw).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

from systems.classify_generate.data import NO, YES

logger = logging.getLogger(__name__)

MIN_SHARED = 8  # shorter common prefixes are not worth a cache


def answer_token_ids(tokenizer: Any, prompt: str) -> tuple[int, int]:
    """The first token ids of "yes" and "no" right after ``prompt`` (a rendered chat prompt)."""
    base = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = []
    for word in (YES, NO):
        full = tokenizer(prompt + word, add_special_tokens=False)["input_ids"]
        if full[: len(base)] != base or len(full) == len(base):
            raise ValueError(f"the tokenizer does not extend the prompt with {word!r} cleanly")
        ids.append(full[len(base)])
    if ids[0] == ids[1]:
        raise ValueError("'yes' and 'no' start with the same token")
    return ids[0], ids[1]


def _common_prefix(rows: Sequence[Sequence[int]]) -> int:
    """Length of the common prefix of ``rows``, leaving every row at least one token of its own."""
    limit = min(len(r) for r in rows) - 1
    n = 0
    while n < limit and all(r[n] == rows[0][n] for r in rows):
        n += 1
    return n


def yes_probabilities(
    model: Any, tokenizer: Any, groups: Sequence[Sequence[str]], *, batch_size: int = 32
) -> list[list[float]]:
    """P(yes) of each prompt, grouped as given (prompts of a group should share their beginning)."""
    import torch

    first = next((g[0] for g in groups if g), None)
    if first is None:
        return [[] for _ in groups]
    yes_id, no_id = answer_token_ids(tokenizer, first)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()

    def run(rows: list[list[int]], prefix: list[int], cache: Any) -> list[float]:
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for n, row in enumerate(rows):  # left padding: every row ends at the last position
            ids[n, width - len(row) :] = torch.tensor(row)
            mask[n, width - len(row) :] = 1
        positions = len(prefix) + (mask.cumsum(-1) - 1).clamp(min=0)
        kwargs: dict[str, Any] = {}
        if cache is not None:
            batch_cache = copy.deepcopy(cache)
            batch_cache.batch_repeat_interleave(len(rows))
            mask = torch.cat([torch.ones((len(rows), len(prefix)), dtype=torch.long), mask], dim=1)
            kwargs = {"past_key_values": batch_cache, "use_cache": True}
        logits = model(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=positions.to(device),
            logits_to_keep=1,
            **kwargs,
        ).logits[:, -1, :]
        pair = torch.stack([logits[:, yes_id], logits[:, no_id]], dim=-1).float()
        return [float(p) for p in torch.softmax(pair, dim=-1)[:, 0].tolist()]

    out: list[list[float]] = []
    try:
        with torch.inference_mode():
            for group in groups:
                encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in group]
                shared = _common_prefix(encoded) if len(encoded) > 1 else 0
                prefix, cache = [], None
                if shared >= MIN_SHARED:
                    prefix = encoded[0][:shared]
                    ids = torch.tensor([prefix], device=device)
                    cache = model(input_ids=ids, use_cache=True).past_key_values
                rows = [e[len(prefix) :] for e in encoded]
                order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
                probs = [0.0] * len(rows)
                for start in range(0, len(order), batch_size):
                    chunk = order[start : start + batch_size]
                    for i, p in zip(chunk, run([rows[i] for i in chunk], prefix, cache), strict=True):
                        probs[i] = p
                out.append(probs)
    finally:
        if was_training:
            model.train()
    return out


def select(
    item_ids: Sequence[str], probabilities: Sequence[float], *, threshold: float, min_items: int, max_items: int
) -> list[str]:
    """Ids with P(yes) ≥ threshold (at most ``max_items``, the most probable first; at least ``min_items``),
    returned in record order."""
    ranked = sorted(range(len(item_ids)), key=lambda i: (-probabilities[i], i))
    chosen = [i for i in ranked if probabilities[i] >= threshold]
    if max_items > 0:
        chosen = chosen[:max_items]
    if len(chosen) < min_items:
        chosen = ranked[:min_items]
    return [item_ids[i] for i in sorted(chosen)]
