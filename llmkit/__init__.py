"""LLM plumbing shared by systems and metrics: chat backends, a resumable response cache, a data-use guard
and the local OpenAI-compatible server.

Light on import: the ``openai`` client and torch load only when a backend is built.
"""

from __future__ import annotations

from llmkit.backends import Backend, ChatRequest, Completion, LLMError
from llmkit.cache import ResponseCache
from llmkit.client import LLMClient, UsageStats
from llmkit.guard import DataUseError, check_endpoint

__all__ = [
    "Backend",
    "ChatRequest",
    "Completion",
    "DataUseError",
    "LLMClient",
    "LLMError",
    "ResponseCache",
    "UsageStats",
    "check_endpoint",
]
