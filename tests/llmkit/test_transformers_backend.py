from __future__ import annotations

from llmkit.backends import ChatRequest, TransformersBackend, messages
from llmkit.server import local_model_folder


def test_in_process_backend_generates_and_is_seeded() -> None:
    backend = TransformersBackend(local_model_folder())
    assert backend.model_id.startswith("transformers:SmolLM2-135M-Instruct")
    request = ChatRequest(messages("Answer briefly.", "Name a fruit."), max_tokens=4, temperature=0.9, seed=3)
    first = backend.complete(request)
    assert first.prompt_tokens > 5 and 1 <= first.completion_tokens <= 4 and first.text.strip()
    assert backend.complete(request).text == first.text  # same seed, same sample
    greedy = backend.complete(ChatRequest(messages(None, "Name a fruit."), max_tokens=4))
    assert greedy.finish_reason in ("stop", "length")
