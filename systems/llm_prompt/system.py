"""The ``llm-prompt`` system: one prompt per case and sample, outputs parsed with bounded retries, votes across
samples for the evidence subtasks (what each subtask does: the package docstring and docs/llm_systems.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.atomic import atomic_write_text
from harness.data.model import Case, Subtask
from harness.systems import Prediction, SystemCard
from harness.tasks import get_task
from harness.textutil import cut_words
from llmkit.backends import Backend, ChatRequest, Completion, OpenAIBackend, TransformersBackend, messages
from llmkit.cache import ResponseCache
from llmkit.client import LLMClient, UsageStats
from llmkit.guard import check_endpoint
from systems.llm_prompt.config import LLMPromptConfig
from systems.llm_prompt.fewshot import FewShotRetriever
from systems.llm_prompt.parsing import clean_text, parse_alignment, parse_cited_answer, parse_id_list
from systems.llm_prompt.prompts import load_prompts

logger = logging.getLogger(__name__)

VERSION = "0.1.0"
NAME = "llm-prompt"
#: Files the system keeps in its run folder (``bind_run``): the response cache and the usage totals.
CACHE_FILE = "llm_cache.jsonl"
USAGE_FILE = "llm_usage.json"
#: Raw outputs kept in a prediction's meta when a case ends invalid (each cut to this many characters).
_RAW_KEEP_CHARS = 400


def vote(samples: Sequence[Sequence[Any]], threshold: float) -> set[Any]:
    """Items cited by at least ``threshold`` of the samples (each sample counted once per item)."""
    if not samples:
        return set()
    counts: dict[Any, int] = {}
    for sample in samples:
        for item in set(sample):
            counts[item] = counts.get(item, 0) + 1
    return {item for item, count in counts.items() if count / len(samples) >= threshold - 1e-9}


@dataclass
class _Job:
    """One case's samples through the parse-and-retry rounds."""

    case: Case
    parsed: list[Any] = field(default_factory=list)  # per sample: the parsed value, or None while invalid
    raws: list[str] = field(default_factory=list)  # every raw output, attempts included
    usage: UsageStats = field(default_factory=UsageStats)  # this case's requests, cache hits, tokens, latency

    def record(self, completion: Completion) -> None:
        self.raws.append(completion.text)
        self.usage.add(completion)


@dataclass(frozen=True)
class _Handler:
    """What one subtask does: the prompt, the parser, how samples combine, and the safe prediction."""

    template: str
    context: Callable[[Case], dict[str, Any]]
    parse: Callable[[str, Case], Any]
    combine: Callable[[list[Any], Case], Any]
    fallback: Callable[[Case], Any]
    sampled: bool  # self-consistency applies (subtasks 2 and 4)
    skip: Callable[[Case], Any | None] = lambda case: None  # a prediction needing no model (e.g. no sentences)


class LLMPromptSystem:
    """Prompted LLM for 2026 subtasks 1-4 through :mod:`llmkit` (any OpenAI-compatible server, or in process)."""

    def __init__(self, config: LLMPromptConfig, *, cache_path: str | Path | None = None) -> None:
        self.config = config
        self.prompts = load_prompts(config)
        if config.backend == "openai":
            check_endpoint(config.base_url, allow_remote=config.allow_remote)
        self.card = SystemCard(
            name=NAME,
            version=VERSION,
            subtasks=(1, 2, 3, 4),
            description="Prompted LLM: few-shot rewriting (1), evidence selection with self-consistency (2), "
            "retrieval-augmented few-shot answers (3), voted alignment (4)",
            config=config.to_json(),
            components={"prompts": self.prompts.hashes()},
        )
        self._cache_path = Path(cache_path) if cache_path else None
        self._run_folder: Path | None = None
        self._client: LLMClient | None = None
        self._retrievers: dict[bool, FewShotRetriever] = {}

    # ------------------------------------------------------------ run hooks (harness.systems.RunAware)

    def bind_run(self, folder: Path) -> None:
        """Keep the response cache and usage totals in the run folder (so a killed run resumes)."""
        self._run_folder = Path(folder)
        self._cache_path = self._run_folder / CACHE_FILE
        if self._client is not None:
            self._client.close()
            self._client = None

    def run_stats(self) -> dict[str, Any]:
        """Requests, cache hits, tokens and latency so far, with the model and the cache file."""
        client = self._client
        return {
            "model": client.backend.describe() if client else None,
            "usage": client.usage.to_json() if client else None,
            "cache": str(self._cache_path) if self._cache_path else None,
        }

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # ------------------------------------------------------------ backend

    def _backend(self) -> Backend:
        from llmkit import server

        cfg = self.config
        if cfg.backend == "transformers":
            folder = Path(cfg.model_path).expanduser() if cfg.model_path else server.local_model_folder()
            return TransformersBackend(folder)
        return OpenAIBackend.from_settings(cfg)

    @property
    def client(self) -> LLMClient:
        if self._client is None:
            cache = ResponseCache(self._cache_path) if self._cache_path else None
            self._client = LLMClient(self._backend(), cache, concurrency=self.config.concurrency)
        return self._client

    # ------------------------------------------------------------ subtasks

    def _retriever(self, need_answer: bool) -> FewShotRetriever:
        if need_answer not in self._retrievers:
            from harness.data.loader import load_dataset

            split = load_dataset(self.config.fewshot_data).split(self.config.fewshot_split)
            retriever = FewShotRetriever(split, need_answer=need_answer)
            if not retriever.pool and self.config.fewshot_k > 0:
                logger.warning(
                    "llm-prompt: %s/%s has no annotated case to use as a few-shot example; prompting zero-shot",
                    self.config.fewshot_data,
                    self.config.fewshot_split,
                )
            self._retrievers[need_answer] = retriever
        return self._retrievers[need_answer]

    def _handler(self, subtask: Subtask) -> _Handler:
        cfg = self.config
        q_limit = get_task("2026/1").max_words or 15
        a_limit = get_task("2026/3").max_words or 75
        fallback = cfg.fallback_text

        def ids(case: Case) -> list[str]:
            return case.sentence_ids()

        def in_note_order(chosen: set[str], case: Case) -> list[str]:
            return [i for i in ids(case) if i in chosen]

        if subtask == Subtask.QUESTION_INTERPRETATION:
            return _Handler(
                "subtask1",
                lambda case: {"examples": self._retriever(False).examples(case, cfg.fewshot_k), "limit": q_limit},
                lambda raw, case: clean_text(raw, q_limit, first_line=True),
                lambda samples, case: samples[0],
                lambda case: cut_words(fallback, q_limit),
                sampled=False,
            )
        if subtask == Subtask.EVIDENCE_IDENTIFICATION:
            answer_first = cfg.evidence_mode == "answer-first"
            return _Handler(
                "subtask2_answer_first" if answer_first else "subtask2",
                lambda case: {"limit": a_limit},
                (lambda raw, case: parse_cited_answer(raw, ids(case)))
                if answer_first
                else (lambda raw, case: parse_id_list(raw, ids(case))),
                lambda samples, case: in_note_order(vote(samples, cfg.vote_threshold), case),
                lambda case: [],
                sampled=True,
                skip=lambda case: [] if not case.sentences else None,
            )
        if subtask == Subtask.ANSWER_GENERATION:
            return _Handler(
                "subtask3",
                lambda case: {"examples": self._retriever(True).examples(case, cfg.fewshot_k), "limit": a_limit},
                lambda raw, case: clean_text(raw, a_limit),
                lambda samples, case: samples[0],
                lambda case: cut_words(fallback, a_limit),
                sampled=False,
            )

        def combine_links(samples: list[dict[str, list[str]]], case: Case) -> list[dict[str, Any]]:
            pairs = vote([[(a, e) for a, evidence in s.items() for e in evidence] for s in samples], cfg.vote_threshold)
            return [
                {"answer_id": a.id, "evidence_id": [i for i in ids(case) if (a.id, i) in pairs]}
                for a in case.answer_sentences or ()
            ]

        return _Handler(
            "subtask4",
            lambda case: {"answers": case.answer_sentences or ()},
            lambda raw, case: parse_alignment(raw, [a.id for a in case.answer_sentences or ()], ids(case)),
            combine_links,
            lambda case: [{"answer_id": a.id, "evidence_id": []} for a in case.answer_sentences or ()],
            sampled=True,
            skip=lambda case: (
                [{"answer_id": a.id, "evidence_id": []} for a in case.answer_sentences or ()]
                if not case.sentences or not case.answer_sentences
                else None
            ),
        )

    def _request(self, user: str, system: str, sample: int, attempt: int, n: int) -> ChatRequest:
        cfg = self.config
        greedy = n == 1 and attempt == 0
        return ChatRequest(
            messages=messages(system, user),
            max_tokens=cfg.max_tokens,
            temperature=cfg.temperature if greedy else cfg.sc_temperature,
            top_p=cfg.top_p,
            seed=cfg.seed,
            sample_index=attempt * 1000 + sample,  # retries are new samples, never the cached invalid one
        )

    def predict(self, cases: Sequence[Case], subtask: Subtask) -> Iterator[Prediction]:
        subtask = Subtask(subtask)
        handler = self._handler(subtask)
        n = self.config.samples if handler.sampled else 1
        system_prompt = self.prompts.render("system")
        jobs: list[_Job] = []
        prompts: dict[int, str] = {}
        skipped: dict[int, Any] = {}
        for index, case in enumerate(cases):
            jobs.append(_Job(case, [None] * n))
            direct = handler.skip(case)
            if direct is not None:
                skipped[index] = direct
                continue
            context = {"case": case, "sentences": case.sentences or (), **handler.context(case)}
            prompts[index] = self.prompts.render(handler.template, **context)
        for attempt in range(self.config.parse_retries + 1):
            pending = [(i, s) for i in prompts for s in range(n) if jobs[i].parsed[s] is None]
            if not pending:
                break
            requests = [self._request(prompts[i], system_prompt, s, attempt, n) for i, s in pending]
            for (i, s), completion in zip(pending, self.client.complete_many(requests), strict=True):
                jobs[i].record(completion)
                jobs[i].parsed[s] = handler.parse(completion.text, jobs[i].case)
        for index, job in enumerate(jobs):
            yield self._prediction(index, job, handler, skipped, subtask)
        self._write_usage()

    def _prediction(
        self, index: int, job: _Job, handler: _Handler, skipped: dict[int, Any], subtask: Subtask
    ) -> Prediction:
        case_id = job.case.case_id
        if index in skipped:
            return Prediction(case_id, skipped[index], {"llm": "skipped: nothing to ask"})
        valid = [p for p in job.parsed if p is not None]
        meta: dict[str, Any] = {
            "requests": job.usage.requests,
            "cache_hits": job.usage.cache_hits,
            "prompt_tokens": job.usage.prompt_tokens,
            "completion_tokens": job.usage.completion_tokens,
            "latency_s": round(job.usage.latency_s, 3),
            "samples": len(job.parsed),
            "valid_samples": len(valid),
        }
        if valid:
            return Prediction(case_id, handler.combine(valid, job.case), meta)
        logger.warning(
            "llm-prompt: case %s subtask %d: no valid output after %d attempt(s); safe empty prediction recorded",
            case_id,
            int(subtask),
            self.config.parse_retries + 1,
        )
        meta["invalid"] = True
        meta["invalid_outputs"] = [raw[:_RAW_KEEP_CHARS] for raw in job.raws]
        return Prediction(case_id, handler.fallback(job.case), meta)

    def _write_usage(self) -> None:
        if self._run_folder is not None:
            atomic_write_text(self._run_folder / USAGE_FILE, json.dumps(self.run_stats(), indent=1))
