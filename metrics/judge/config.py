"""The judge configuration (``--judge CONFIG.yaml``): one flat dataclass read by :mod:`harness.config`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from harness.config import ConfigError, ConfigSpec, check_ranges

Protocol = Literal["blind", "non-blind"]


class JudgeConfigError(ConfigError):
    """A bad judge config key or value; the message names the key."""


@dataclass(frozen=True)
class JudgeConfig:
    # --- where the judge model runs (an OpenAI-compatible server; `archehr llm serve` by default)
    base_url: str = "http://127.0.0.1:8011/v1"
    model: str = "local"  # the server's model name; "local": the model `archehr llm serve` serves
    api_key_env: str = "ARCHEHR_LLM_API_KEY"
    allow_remote: bool = False  # data-use guard (llmkit.guard): non-private hosts need this
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    concurrency: int = 4
    timeout_s: float = 300.0
    max_retries: int = 4  # HTTP retries (429, 5xx, timeouts)
    # --- protocol
    protocol: Protocol = "blind"
    author: str | None = None  # non-blind `archehr score --judge`: the system named as the answers' author
    judge_system_name: str | None = None  # the system the judge model itself is (non-blind "self")
    # --- sampling and output handling
    temperature: float = 0.0
    retry_temperature: float = 0.7  # parse retries (a greedy retry would repeat the same output)
    top_p: float = 1.0
    seed: int = 0
    samples: int = 1  # verdicts per answer; the case's score is the mean over its valid samples
    max_tokens: int = 400
    parse_retries: int = 2  # extra attempts per sample whose output does not parse
    # --- data
    rubric: str | None = None  # a rubric YAML (None: metrics/judge/rubric.yaml)
    prompt_dir: str | None = None  # a folder whose system/pointwise/pairwise.txt replace the built-in ones
    few_shot: bool = True  # show the rubric's worked examples before each case (docs/llm_judge.md)
    cache: str | None = None  # folder of judge_cache.jsonl (None: next to the report, else the submission)

    def __post_init__(self) -> None:
        checks = {
            "concurrency": self.concurrency >= 1,
            "samples": 1 <= self.samples <= 100,
            "parse_retries": 0 <= self.parse_retries <= 10,
            "max_tokens": self.max_tokens >= 1,
            "max_retries": self.max_retries >= 0,
            "timeout_s": self.timeout_s > 0,
            "temperature": self.temperature >= 0,
            "retry_temperature": self.retry_temperature >= 0,
        }
        check_ranges(self, "judge config", checks, JudgeConfigError)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["extra_body"] = dict(self.extra_body)
        return data


SPEC: ConfigSpec[JudgeConfig] = ConfigSpec("judge config", JudgeConfig, error=JudgeConfigError)


def load_config(path: str | None, overrides: Mapping[str, Any] | None = None) -> JudgeConfig:
    """The judge config from a YAML file and overrides (every problem in one :class:`JudgeConfigError`)."""
    return SPEC.load(dict(overrides or {}), path=path)
