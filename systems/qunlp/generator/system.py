"""The ``qunlp`` system for subtask 3: prompts → generation backend → post-processed answers of at most 75 words."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.config import control_overrides
from harness.data.model import Case, Subtask
from harness.errors import HarnessError
from harness.systems import Prediction, SystemCard
from systems.lora.basemodel import BaseModelRef, prepare_base_model
from systems.lora.cards import NO_ADAPTER, card_sha256, read_card
from systems.lora.postprocess import clean_answer
from systems.lora.prompts import render_prompt
from systems.qunlp.generator.config import GeneratorConfig, load_config
from systems.qunlp.generator.prompts import case_sample
from systems.qunlp.generator.resolve import CARD_KIND, adapter_in, model_dir_value, preflight_build, resolve_adapter_dir

logger = logging.getLogger(__name__)

VERSION = "0.1.0"
DESCRIPTION = "QU-NLP answer generator: 4-bit NF4 base model + two-stage LoRA adapter; answers of at most 75 words"
POSTPROCESS = (
    "strip <think> blocks and citation markers ([1, 2], |1,2|, (S3)); one paragraph; drop a sentence cut off by the "
    "token budget; cut to max_words at a sentence boundary where possible, else the word cut; empty -> fallback"
)


def build_generator(overrides: Mapping[str, Any]) -> QUNLPGenerator:
    """Resolve the config, the base model and the adapter; the model itself loads on the first prediction.

    Without ``config`` in the overrides, a given ``model_dir`` brings the config it was trained with (from its
    adapter's card), so ``--set model_dir=...`` alone uses what was trained; otherwise cpu-demo.yaml is the default.
    """
    overrides = control_overrides(overrides)  # adapter_dir → model_dir, warned once
    config = load_config(overrides, fallback=adapter_config(overrides))
    base = preflight_build(config)
    adapter_dir = resolve_adapter_dir(config, overrides)
    return QUNLPGenerator(config, base, adapter_dir)


def adapter_config(overrides: Mapping[str, Any]) -> dict[str, Any] | None:
    """The config recorded in the card of the adapter ``overrides["model_dir"]`` names, when there is one."""
    value = model_dir_value(overrides)
    if value is None or value.lower() in NO_ADAPTER:
        return None
    adapter = adapter_in(Path(value).expanduser())
    if adapter is None:
        return None  # resolve_adapter_dir reports it
    try:
        card = read_card(adapter, CARD_KIND)
    except ValueError:  # another system's card, or unreadable JSON: the build reports it
        return None
    return None if card is None else card.get("config")


class QUNLPGenerator:
    """Answers subtask-3 cases; the card's components hold the base model hash and the adapter card hash."""

    def __init__(self, config: GeneratorConfig, base: BaseModelRef, adapter_dir: Path | None) -> None:
        self.config = config
        self.base = base
        self.adapter_dir = adapter_dir
        base_sha = prepare_base_model(base)
        adapter = None
        if adapter_dir is not None:
            card = read_card(adapter_dir, CARD_KIND)
            assert card is not None  # resolve_adapter_dir checked it
            trained_on = card.get("base_model", {}).get("sha256")
            if trained_on != base_sha:
                logger.warning(
                    "adapter %s was trained on base model %s, but %s is %s",
                    adapter_dir,
                    trained_on,
                    base.path,
                    base_sha,
                )
            adapter = {
                "card_sha256": card_sha256(adapter_dir),
                "stage": card.get("stage"),
                "weights_sha256": card.get("training", {}).get("weights_sha256"),
            }
        card_config = config.to_json()
        card_config["model"]["path"] = None  # the base model is identified by its hash, not by where it lies
        self.card = SystemCard(
            name="qunlp",
            version=VERSION,
            subtasks=(3,),
            description=DESCRIPTION,
            config=card_config,
            components={
                "base_model": base.identity(base_sha),
                "adapter": adapter,
                "backend": config.generation.backend,
                "postprocess": POSTPROCESS,
                "fallback": config.generation.fallback,
            },
        )
        self._tokenizer: Any = None
        self._backend: Any = None
        logger.info("qunlp generator: base %s, adapter %s", base.path, adapter_dir or "none (untuned base model)")

    def prompts(self, cases: Sequence[Case]) -> list[str]:
        """The rendered prompts of ``cases`` (exactly what stage 2 trained on, without the answer)."""
        return [render_prompt(self.tokenizer, case_sample(case, self.config.prompt)) for case in cases]

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from systems.lora.modeling import load_tokenizer

            self._tokenizer = load_tokenizer(self.base.path)
        return self._tokenizer

    @property
    def backend(self) -> Any:
        if self._backend is None:
            from systems.qunlp.generator.generation import make_backend

            self._backend = make_backend(self.config, self.base.path, self.adapter_dir, self.tokenizer)
        return self._backend

    def predict(self, cases: Sequence[Case], subtask: Subtask) -> Iterator[Prediction]:
        if int(subtask) != int(Subtask.ANSWER_GENERATION):
            raise HarnessError(f"qunlp generates answers (subtask 3), not subtask {int(subtask)}")
        if not cases:
            return
        completions = self.backend.generate(self.prompts(cases))
        generation = self.config.generation
        for case, completion in zip(cases, completions, strict=True):
            answer = clean_answer(
                completion.text,
                max_words=generation.max_words,
                fallback=generation.fallback,
                finished=completion.finished,
            )
            meta = {
                "raw": completion.text,
                "finished": completion.finished,
                "words": answer.words,
                "cut": answer.cut,
                "fallback": answer.fallback,
            }
            yield Prediction(case.case_id, answer.text, meta)
