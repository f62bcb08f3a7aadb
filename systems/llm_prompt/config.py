"""The ``llm-prompt`` configuration: one flat dataclass, from a YAML file (``--config``) and ``--set`` overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.config import ConfigError, ConfigSpec, check_ranges

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


class LLMPromptConfigError(ConfigError):
    """A bad config key or value; the message names the key."""


@dataclass(frozen=True)
class LLMPromptConfig:
    # --- where the model runs
    backend: Literal["openai", "transformers"] = "openai"
    base_url: str = "http://127.0.0.1:8011/v1"  # any OpenAI-compatible server; default: `archehr llm serve`
    model: str = "local"  # the server's model name; "local": the model `archehr llm serve` serves
    model_path: str | None = None  # transformers backend: a model folder (None: the packaged SmolLM2-135M)
    api_key_env: str = "ARCHEHR_LLM_API_KEY"  # environment variable holding the API key, if the server wants one
    allow_remote: bool = False  # data-use guard: hosts outside loopback/private networks need this
    extra_body: Mapping[str, Any] = field(default_factory=dict)  # extra request fields, e.g. chat_template_kwargs
    concurrency: int = 4
    timeout_s: float = 300.0
    max_retries: int = 4  # HTTP retries on 429/5xx/timeouts (exponential backoff)
    # --- sampling
    temperature: float = 0.0  # single-sample requests
    sc_temperature: float = 0.7  # self-consistency samples (samples > 1) and parse retries
    top_p: float = 0.95
    seed: int = 0
    max_tokens: int = 256
    # --- subtasks 2 and 4
    samples: int = 1  # self-consistency: samples per case
    vote_threshold: float = 0.5  # keep an id (or link) cited by at least this fraction of the valid samples
    evidence_mode: Literal["select", "answer-first"] = "select"  # subtask 2: list ids, or draft a cited answer
    # --- subtasks 1 and 3
    fewshot_k: int = 3  # the k most similar annotated cases as examples (never the case itself)
    fewshot_data: str = "synthetic"  # data folder of the examples, or "synthetic"
    fewshot_split: str = "dev"
    fallback_text: str = "The note does not allow an answer."  # text subtasks' safe prediction when all fails
    # --- output handling and prompts
    parse_retries: int = 2  # extra attempts for an output that does not parse
    prompt_dir: str | None = None  # a folder whose files replace the same-named templates of prompts/
    prompts: Mapping[str, str] = field(default_factory=dict)  # template name -> file path (wins over prompt_dir)

    def __post_init__(self) -> None:
        checks = {
            "concurrency": self.concurrency >= 1,
            "samples": 1 <= self.samples <= 100,
            "vote_threshold": 0 < self.vote_threshold <= 1,
            "fewshot_k": self.fewshot_k >= 0,
            "parse_retries": self.parse_retries >= 0,
            "max_tokens": self.max_tokens >= 1,
            "max_retries": self.max_retries >= 0,
            "timeout_s": self.timeout_s > 0,
            "fallback_text": bool(self.fallback_text.strip()),
        }
        check_ranges(self, "llm-prompt config", checks, LLMPromptConfigError)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["prompts"] = dict(self.prompts)
        data["extra_body"] = dict(self.extra_body)
        return data


#: How the system reads its config (``harness.config``: YAML plus ``--set``, every problem in one line).
SPEC: ConfigSpec[LLMPromptConfig] = ConfigSpec("llm-prompt config", LLMPromptConfig, error=LLMPromptConfigError)
