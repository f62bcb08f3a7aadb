"""Chat backends: any OpenAI-compatible server through the ``openai`` client, or transformers in process.

A backend answers one :class:`ChatRequest` at a time (the :class:`~llmkit.client.LLMClient` adds the cache and
concurrency). The OpenAI backend retries 429, 5xx, timeouts and refused connections with exponential backoff
(honouring ``Retry-After``); other HTTP errors fail at once with the server's message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.errors import HarnessError
from llmkit.guard import check_endpoint

logger = logging.getLogger(__name__)


class LLMError(HarnessError):
    """A request that failed for good (bad model name, refused request, retries exhausted)."""


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion: messages, sampling settings and the index of this sample among n."""

    messages: tuple[tuple[str, str], ...]  # (role, content)
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0  # base seed; the sample's seed is seed + sample_index
    sample_index: int = 0

    @property
    def sample_seed(self) -> int:
        return self.seed + self.sample_index

    def sampling(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "temperature": self.temperature, "top_p": self.top_p, "seed": self.seed}

    def cache_key(self, model_id: str) -> str:
        """sha256 of model id, rendered messages, sampling settings and sample index."""
        payload = {
            "model": model_id,
            "messages": [list(m) for m in self.messages],
            "sampling": self.sampling(),
            "sample_index": self.sample_index,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    finish_reason: str | None = None
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("cached")
        return data


class Backend(Protocol):
    #: What the cache key and cards record as the model (server model name, or ``transformers:<name>``).
    model_id: str

    def complete(self, request: ChatRequest) -> Completion: ...

    def describe(self) -> dict[str, Any]:
        """JSON-able identity for system cards (no secrets)."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    backoff_s: float = 1.0  # first wait; doubled each retry, with jitter
    max_backoff_s: float = 30.0

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        base = min(self.max_backoff_s, self.backoff_s * (2**attempt))
        delay = base * (0.5 + random.random() / 2)
        return max(delay, min(retry_after or 0.0, self.max_backoff_s))


class EndpointSettings(Protocol):
    """The endpoint keys a config shares (``metrics.judge.config``, ``systems.llm_prompt.config``)."""

    base_url: str
    model: str
    api_key_env: str
    timeout_s: float
    max_retries: int
    allow_remote: bool
    extra_body: Mapping[str, Any]


@dataclass
class OpenAIBackend:
    """An OpenAI-compatible ``/v1/chat/completions`` endpoint (vLLM, SGLang, llama.cpp, Ollama, transformers)."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    allow_remote: bool = False
    extra_body: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: EndpointSettings) -> OpenAIBackend:
        """The endpoint a config names (the judge's, llm-prompt's): the API key read from ``api_key_env``, and
        model ``"local"`` (:data:`llmkit.server.LOCAL_MODEL`) the one ``archehr llm serve`` serves."""
        from llmkit.server import LOCAL_MODEL, local_model_name

        return cls(
            base_url=settings.base_url,
            model=local_model_name() if settings.model == LOCAL_MODEL else settings.model,
            api_key=os.environ.get(settings.api_key_env),
            timeout_s=settings.timeout_s,
            retry=RetryPolicy(max_retries=settings.max_retries),
            allow_remote=settings.allow_remote,
            extra_body=dict(settings.extra_body),
        )

    def __post_init__(self) -> None:
        check_endpoint(self.base_url, allow_remote=self.allow_remote)
        import openai

        self._openai = openai
        self._client = openai.OpenAI(
            base_url=self.base_url, api_key=self.api_key or "not-needed", timeout=self.timeout_s, max_retries=0
        )

    @property
    def model_id(self) -> str:
        return self.model

    def describe(self) -> dict[str, Any]:
        return {"backend": "openai", "base_url": self.base_url, "model": self.model}

    def complete(self, request: ChatRequest) -> Completion:
        openai = self._openai
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                response = self._client.chat.completions.create(
                    model=self.model,
                    messages=[{"role": r, "content": c} for r, c in request.messages],  # type: ignore[misc]
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    top_p=request.top_p,
                    seed=request.sample_seed,
                    extra_body=dict(self.extra_body) or None,
                )
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                # APITimeoutError is an APIConnectionError; InternalServerError covers every 5xx.
                if attempt >= self.retry.max_retries:
                    hint = ""
                    if isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError):
                        hint = " (is the server running? the local one starts with `archehr llm serve`)"
                    raise LLMError(
                        f"{self.base_url}: giving up after {attempt + 1} attempts: {_describe(exc)}{hint}"
                    ) from exc
                retry_after = _retry_after(exc)
                delay = self.retry.wait(attempt, retry_after)
                logger.warning("%s: %s; retry %d in %.1f s", self.base_url, _describe(exc), attempt + 1, delay)
                time.sleep(delay)
                attempt += 1
                continue
            except openai.APIStatusError as exc:
                raise LLMError(f"{self.base_url}: request refused: {_describe(exc)}") from exc
            latency = time.perf_counter() - start
            choice = response.choices[0] if response.choices else None
            if choice is None:
                raise LLMError(f"{self.base_url}: response without choices")
            usage = response.usage
            return Completion(
                text=choice.message.content or "",
                prompt_tokens=int(usage.prompt_tokens) if usage else 0,
                completion_tokens=int(usage.completion_tokens) if usage else 0,
                latency_s=latency,
                finish_reason=choice.finish_reason,
            )


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"HTTP {status}: {message}" if status else f"{type(exc).__name__}: {message}"


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class TransformersBackend:
    """A local Hugging Face model folder generating in process (CPU by default); one request at a time."""

    def __init__(self, model_path: str | Path, *, name: str | None = None, device: str = "cpu") -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._torch = torch
        self.path = Path(model_path)
        if not (self.path / "config.json").is_file():
            raise LLMError(f"model folder {self.path} holds no config.json")
        self.name = name or self.path.name
        self.device = device
        self._tokenizer = AutoTokenizer.from_pretrained(self.path)
        self._model = AutoModelForCausalLM.from_pretrained(self.path, dtype=torch.float32).to(device)
        self._model.eval()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"transformers:{self.name}"

    def describe(self) -> dict[str, Any]:
        return {"backend": "transformers", "model": self.name, "device": self.device}

    def complete(self, request: ChatRequest) -> Completion:
        torch = self._torch
        messages = [{"role": r, "content": c} for r, c in request.messages]
        with self._lock:
            start = time.perf_counter()
            inputs = self._tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            ).to(self.device)
            sample = request.temperature > 0
            kwargs: dict[str, Any] = {"max_new_tokens": request.max_tokens, "do_sample": sample}
            if sample:
                kwargs.update(temperature=request.temperature, top_p=request.top_p)
                torch.manual_seed(request.sample_seed)
            with torch.inference_mode():
                output = self._model.generate(**inputs, **kwargs, pad_token_id=self._tokenizer.eos_token_id)
            prompt_len = int(inputs["input_ids"].shape[1])
            new = output[0, prompt_len:]
            text = self._tokenizer.decode(new, skip_special_tokens=True)
            finish = "length" if len(new) >= request.max_tokens else "stop"
            return Completion(text, prompt_len, len(new), time.perf_counter() - start, finish)


def messages(system: str | None, user: str) -> tuple[tuple[str, str], ...]:
    """A system prompt (when given) and one user turn."""
    turns: Sequence[tuple[str, str]] = ([("system", system)] if system else []) + [("user", user)]
    return tuple(turns)
