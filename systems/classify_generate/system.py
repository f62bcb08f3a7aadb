"""The ``classify-generate`` system: a relevance adapter picks items (subtask 2), an answer adapter writes the
answer from the picked items only (subtask 3). One 4-bit base model carries both LoRA adapters (switched per
task); nothing loads until the first prediction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.config import MODEL_DIR_KEY, control_overrides
from harness.data.model import Case, Subtask
from harness.errors import HarnessError
from harness.systems import Prediction, SystemCard
from systems.classify_generate.config import ClassifyGenerateConfig, load_config
from systems.classify_generate.data import QAView, view
from systems.classify_generate.prompts import classifier_messages, generator_messages
from systems.classify_generate.relevance import select, yes_probabilities
from systems.classify_generate.training import CARD_KIND, adapter_path, check_setup, default_out_dir
from systems.lora.basemodel import BaseModelRef, GeneratorSetupError, prepare_base_model
from systems.lora.cards import NO_ADAPTER, card_sha256, has_card, read_card
from systems.lora.postprocess import clean_answer
from systems.lora.prompts import ChatSample, render_prompt

logger = logging.getLogger(__name__)

NAME = "classify-generate"
VERSION = "0.1.0"
DESCRIPTION = "Classify-then-generate (arXiv 2501.13687): QLoRA yes/no relevance adapter per item, answer adapter"
RELEVANCE_ADAPTER, ANSWER_ADAPTER = "default", "answer"  # peft adapter names on the shared base model
_MODELS: dict[str, Any] = {}  # the loaded model of this process, by identity
_RELEVANCE_MEMO: dict[str, list[float]] = {}  # P(yes) per item, by (model, adapter, settings, case content)


def build(overrides: Mapping[str, Any]) -> ClassifyGenerateSystem:
    """Resolve config, base model and adapters (``model_dir``: a training output; ``none``: the untuned base)."""
    overrides = control_overrides(overrides)  # adapter_dir → model_dir, warned once
    config = load_config(overrides)
    base = check_setup(config)
    return ClassifyGenerateSystem(config, base, resolve_model_dir(config, overrides))


def resolve_model_dir(config: ClassifyGenerateConfig, overrides: Mapping[str, Any]) -> Path | None:
    value = control_overrides(overrides).get(MODEL_DIR_KEY)
    if value is not None and str(value).lower() in NO_ADAPTER:
        return None
    path = Path(str(value)).expanduser() if value else default_out_dir(config, "synthetic", "dev")
    if not has_card(adapter_path(path, "relevance")):
        hint = f"model_dir={path}" if value else f"no trained adapters for config {config.name!r} in {path}"
        raise GeneratorSetupError(
            f"{hint}: holds no relevance adapter; run `archehr train {NAME}` first and pass its run_config "
            "(--set model_dir=DIR), or --set model_dir=none for the untuned base model"
        )
    return path.resolve()


def relevance_prompts(tokenizer: Any, v: QAView) -> list[str]:
    """The rendered yes/no prompts of one case, one per item (they share everything before the item)."""
    return [
        render_prompt(tokenizer, ChatSample(f"{v.case_id}:{i.id}", tuple(classifier_messages(v.question, i))))
        for i in v.items
    ]


def answer_prompt(tokenizer: Any, v: QAView, selected: Sequence[str]) -> str:
    """The rendered answer prompt of one case, holding the ``selected`` items only (in record order)."""
    wanted = set(selected)
    items = [i for i in v.items if i.id in wanted]
    return render_prompt(tokenizer, ChatSample(v.case_id, tuple(generator_messages(v.question, items))))


def postprocess(completion: Any, config: ClassifyGenerateConfig) -> tuple[str, dict[str, Any]]:
    """The generator's post-processing of a backend ``Completion`` (no thinking, no citations, at most
    max_words, an unfinished last sentence dropped, never empty) and what it did."""
    gen = config.generation
    answer = clean_answer(completion.text, max_words=gen.max_words, fallback=gen.fallback, finished=completion.finished)
    meta = {"raw": completion.text, "finished": completion.finished, "words": answer.words, "cut": answer.cut}
    return answer.text, {**meta, "fallback": answer.fallback}


class ClassifyGenerateSystem:
    """Subtask 2 from the relevance adapter; subtask 3 from the answer adapter fed with the selected items."""

    def __init__(self, config: ClassifyGenerateConfig, base: BaseModelRef, model_dir: Path | None) -> None:
        self.config = config
        self.base = base
        self.model_dir = model_dir
        base_sha = prepare_base_model(base)
        adapters = {}
        for task in ("relevance", "answer"):
            folder = adapter_path(model_dir, task) if model_dir else None
            if folder is not None and has_card(folder):
                card = read_card(folder, CARD_KIND) or {}
                if card.get("base_model", {}).get("sha256") != base_sha:
                    logger.warning("%s adapter %s was trained on another base model", task, folder)
                adapters[task] = {
                    "card_sha256": card_sha256(folder),
                    "weights_sha256": card.get("training", {}).get("weights_sha256"),
                }
        card_config = config.to_json()
        card_config["model"]["path"] = None  # identified by its hash
        self.card = SystemCard(
            name=NAME,
            version=VERSION,
            subtasks=(2, 3),
            description=DESCRIPTION,
            config=card_config,
            components={"base_model": base.identity(base_sha), "adapters": adapters},
        )
        self.adapters = adapters
        self._tokenizer: Any = None
        self._model: Any = None
        self._backend: Any = None

    # ------------------------------------------------------------------ lazy model

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from systems.lora.modeling import load_tokenizer

            self._tokenizer = load_tokenizer(self.base.path)
        return self._tokenizer

    @property
    def model(self) -> Any:
        """The base model with the relevance adapter (``default``) and, when trained, the answer adapter; loaded
        once per process for the same base model, quantisation and adapters."""
        if self._model is None:
            key = json.dumps(
                [self.card.components, self.card.config["model"], self.card.config["quantization"]],
                sort_keys=True,
                default=str,
            )
            if key not in _MODELS:
                _MODELS.clear()  # one model at a time
                _MODELS[key] = self._load_model()
            self._model = _MODELS[key]
        return self._model

    def _load_model(self) -> Any:
        from systems.lora.modeling import attach_adapter, load_base_model

        model = load_base_model(self.config, self.base.path)
        if self.model_dir is not None:
            model = attach_adapter(self.config, model, adapter_path(self.model_dir, "relevance"), trainable=False)
            if "answer" in self.adapters:
                model.load_adapter(str(adapter_path(self.model_dir, "answer")), adapter_name=ANSWER_ADAPTER)
        return model.eval()

    def _use(self, adapter: str) -> Any:
        model = self.model
        if self.model_dir is not None:
            model.set_adapter(adapter)
        return model

    # ------------------------------------------------------------------ the two tasks

    def views(self, cases: Sequence[Case]) -> list[QAView]:
        r = self.config.relevance
        return [view(c, r.question, r.item_chars) for c in cases]

    def relevance(self, views: Sequence[QAView]) -> list[tuple[list[str], dict[str, float]]]:
        """Per view: the selected item ids (record order) and P(yes) of every item. Scores are memoised per
        process (the subtask-3 run reuses the subtask-2 run's), keyed by adapter, settings and case content."""
        r = self.config.relevance
        keys = [self._memo_key(v) for v in views]
        todo = [v for v, k in zip(views, keys, strict=True) if k not in _RELEVANCE_MEMO]
        if todo:
            groups = [relevance_prompts(self.tokenizer, v) for v in todo]
            scored = yes_probabilities(self._use(RELEVANCE_ADAPTER), self.tokenizer, groups, batch_size=r.batch_size)
            for v, probs in zip(todo, scored, strict=True):
                _RELEVANCE_MEMO[self._memo_key(v)] = probs
        out = []
        for v, key in zip(views, keys, strict=True):
            ids, probs = [i.id for i in v.items], _RELEVANCE_MEMO[key]
            chosen = select(ids, probs, threshold=r.threshold, min_items=r.min_items, max_items=r.max_items)
            out.append((chosen, dict(zip(ids, probs, strict=True))))
        return out

    def _memo_key(self, v: QAView) -> str:
        blob = json.dumps(
            [
                self.card.components["base_model"],
                self.adapters.get("relevance"),
                self.config.relevance.question,
                v.question,
                [(i.id, i.text) for i in v.items],
            ],
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def answers(self, views: Sequence[QAView], selected: Sequence[Sequence[str]]) -> list[tuple[str, dict[str, Any]]]:
        """Answers written from the selected items only, post-processed (no citations, at most max_words)."""
        if self.model_dir is not None and "answer" not in self.adapters:
            raise GeneratorSetupError(
                f"{self.model_dir} holds no answer adapter: run `archehr train {NAME} --stage 2` (or --stage all)"
            )
        from systems.lora.generation import HFBackend

        prompts = [answer_prompt(self.tokenizer, v, ids) for v, ids in zip(views, selected, strict=True)]
        model = self._use(ANSWER_ADAPTER)
        if self._backend is None:
            self._backend = HFBackend(self.config, model, self.tokenizer)
        return [postprocess(c, self.config) for c in self._backend.generate(prompts)]

    def predict(self, cases: Sequence[Case], subtask: Subtask) -> Iterator[Prediction]:
        if int(subtask) not in (2, 3):
            raise HarnessError(f"{NAME} answers subtasks 2 and 3, not {int(subtask)}")
        if not cases:
            return
        views = self.views(cases)
        picked = self.relevance(views)
        if int(subtask) == 2:
            for v, (ids, probs) in zip(views, picked, strict=True):
                yield Prediction(v.case_id, ids, {"p_yes": {i: round(probs[i], 4) for i in ids}})
            return
        answers = self.answers(views, [ids for ids, _ in picked])
        for v, (ids, _), (text, meta) in zip(views, picked, answers, strict=True):
            yield Prediction(v.case_id, text, {**meta, "evidence": ids})
