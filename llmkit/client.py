"""The client systems and metrics call: cache first, then the backend, with a concurrency limit and usage totals."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from llmkit.backends import Backend, ChatRequest, Completion
from llmkit.cache import ResponseCache

logger = logging.getLogger(__name__)


@dataclass
class UsageStats:
    """Totals over a run: requests sent and answered from the cache, tokens, summed request latency."""

    requests: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    wall_s: float = 0.0

    def add(self, completion: Completion) -> None:
        if completion.cached:
            self.cache_hits += 1
            return
        self.requests += 1
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.latency_s += completion.latency_s

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_s"] = round(self.latency_s, 3)
        data["wall_s"] = round(self.wall_s, 3)
        data["mean_latency_s"] = round(self.latency_s / self.requests, 3) if self.requests else None
        data["completion_tokens_per_s"] = round(self.completion_tokens / self.wall_s, 2) if self.wall_s else None
        return data


class LLMClient:
    """``complete_many`` answers requests in order: cached ones at once, the rest ``concurrency`` at a time."""

    def __init__(self, backend: Backend, cache: ResponseCache | None = None, *, concurrency: int = 4) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.backend = backend
        self.cache = cache
        self.concurrency = concurrency
        self.usage = UsageStats()
        self._lock = threading.Lock()

    def _one(self, request: ChatRequest) -> Completion:
        completion = self.backend.complete(request)
        if self.cache is not None:
            self.cache.put(self.backend.model_id, request, completion)
        return completion

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        start = time.perf_counter()
        results: list[Completion | None] = [None] * len(requests)
        todo: list[int] = []
        for i, request in enumerate(requests):
            hit = self.cache.get(self.backend.model_id, request) if self.cache is not None else None
            if hit is not None:
                results[i] = hit
            else:
                todo.append(i)
        try:
            if len(todo) == 1 or self.concurrency == 1:
                for i in todo:
                    results[i] = self._one(requests[i])
            elif todo:
                with ThreadPoolExecutor(max_workers=min(self.concurrency, len(todo))) as pool:
                    for i, completion in zip(todo, pool.map(self._one, [requests[i] for i in todo]), strict=True):
                        results[i] = completion
        finally:
            if self.cache is not None:
                self.cache.sync()
        done = [r for r in results if r is not None]
        with self._lock:
            for completion in done:
                self.usage.add(completion)
            if todo:
                self.usage.wall_s += time.perf_counter() - start
        return done

    def complete(self, request: ChatRequest) -> Completion:
        return self.complete_many([request])[0]

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
