from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmkit.backends import ChatRequest, LLMError, OpenAIBackend, RetryPolicy, messages
from llmkit.cache import ResponseCache
from llmkit.client import LLMClient
from llmkit.testing import ScriptedServer


def _request(sample: int = 0, temperature: float = 0.0) -> ChatRequest:
    return ChatRequest(messages("sys", "question"), max_tokens=8, temperature=temperature, sample_index=sample)


def test_cache_key_covers_model_prompt_sampling_and_sample_index() -> None:
    base = _request()
    keys = {
        base.cache_key("m"),
        base.cache_key("other-model"),
        _request(sample=1).cache_key("m"),
        _request(temperature=0.7).cache_key("m"),
        ChatRequest(messages("sys", "another question"), max_tokens=8).cache_key("m"),
    }
    assert len(keys) == 5
    assert base.cache_key("m") == _request().cache_key("m")


def test_retries_429_and_5xx_then_succeeds() -> None:
    with ScriptedServer([429, 503, "ok"]) as server:
        backend = OpenAIBackend(server.base_url, "m", retry=RetryPolicy(max_retries=3, backoff_s=0.01))
        completion = backend.complete(_request())
    assert completion.text == "ok"
    assert completion.completion_tokens == 5
    assert len(server.bodies) == 3


def test_gives_up_after_the_retry_budget_and_refuses_4xx_at_once() -> None:
    with ScriptedServer([500, 500, 500, 400]) as server:
        backend = OpenAIBackend(server.base_url, "m", retry=RetryPolicy(max_retries=2, backoff_s=0.01))
        with pytest.raises(LLMError, match="giving up after 3 attempts"):
            backend.complete(_request())
        with pytest.raises(LLMError, match="HTTP 400"):
            backend.complete(_request())
    assert len(server.bodies) == 4


def test_a_second_client_on_the_same_cache_file_asks_nothing(tmp_path: Path) -> None:
    requests = [_request(sample=i, temperature=0.7) for i in range(4)]
    with ScriptedServer(lambda body: f"reply seed {body['seed']}") as server:
        first = LLMClient(OpenAIBackend(server.base_url, "m"), ResponseCache(tmp_path / "c.jsonl"), concurrency=3)
        texts = [c.text for c in first.complete_many(requests)]
        first.close()
        assert first.usage.requests == 4 and first.usage.completion_tokens == 20
        resumed = LLMClient(OpenAIBackend(server.base_url, "m"), ResponseCache(tmp_path / "c.jsonl"))
        again = resumed.complete_many(requests)
    assert [c.text for c in again] == texts == [f"reply seed {i}" for i in range(4)]  # order kept
    assert all(c.cached for c in again)
    assert resumed.usage.requests == 0 and resumed.usage.cache_hits == 4
    assert len(server.bodies) == 4


def test_a_torn_last_line_is_dropped_and_appends_start_on_a_fresh_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    cache = ResponseCache(path)
    from llmkit.backends import Completion

    cache.put("m", _request(0), Completion("a"))
    cache.sync()
    with open(path, "ab") as handle:
        handle.write(b'{"key": "torn')  # a killed run
    reopened = ResponseCache(path)
    assert len(reopened) == 1
    reopened.put("m", _request(1), Completion("b"))
    reopened.sync()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["completion"]["text"] for line in lines] == ["a", "b"]
    assert reopened.get("m", _request(1)) is not None and reopened.get("m", _request(2)) is None


def test_no_server_is_one_clear_error() -> None:
    from llmkit.server import free_port

    backend = OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", "m", retry=RetryPolicy(max_retries=1, backoff_s=0.01))
    with pytest.raises(LLMError, match="is the server running"):
        backend.complete(_request())
