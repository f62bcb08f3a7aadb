"""The generator's configuration: typed sections loaded from YAML, overridable key by key.

A config file (``systems/qunlp/configs/*.yaml``) holds every section below; ``--set`` overrides take dotted
keys (``stage1.max_steps=5``) or the shortcuts in :data:`SHORTCUTS` (``batch_size=4``). Light: no torch here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import yaml

from harness.errors import HarnessError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
DEFAULT_CONFIG = CONFIG_DIR / "cpu-demo.yaml"

#: Top-level override keys accepted by the builder besides dotted config keys.
SHORTCUTS: dict[str, str] = {
    "batch_size": "generation.batch_size",
    "max_new_tokens": "generation.max_new_tokens",
    "backend": "generation.backend",
    "device": "model.device",
}
#: Override keys that are not config fields (handled by the builder and the trainer).
CONTROL_KEYS = frozenset({"config", "adapter_dir"})


class GeneratorConfigError(HarnessError):
    """A bad config file or override; the message names the key."""


@dataclass(frozen=True)
class ModelSection:
    name: str = "SmolLM2-135M-Instruct"  # display name, recorded in cards
    asset: str | None = "smollm2-135m-gguf"  # a harness asset (`archehr assets status`); a .gguf is converted once
    path: str | None = None  # a local Hugging Face model folder; overrides ``asset``
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"  # dtype of the unquantised parts
    attn_implementation: str | None = None  # None: the transformers default (sdpa)
    num_threads: int | None = None  # CPU threads for torch; None: torch's default (all cores)


@dataclass(frozen=True)
class QuantizationSection:
    load_in_4bit: bool = True
    quant_type: Literal["nf4", "fp4"] = "nf4"
    double_quant: bool = True
    compute_dtype: Literal["float32", "bfloat16", "float16"] = "float32"


@dataclass(frozen=True)
class LoraSection:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"  # every linear projection except the output head


@dataclass(frozen=True)
class PromptSection:
    system: str = (
        "You are a clinician answering a patient's question about their hospital stay using their clinical note. "
        "Answer in plain, patient-friendly language, in at most 75 words, without citations."
    )
    stage1_instruction: str = (
        "Answer the question with the exact words from the note. If the note does not contain the answer, say so."
    )
    unanswerable_answer: str = "The note does not contain the answer to this question."
    max_context_chars: int | None = 1500  # stage 1: the note is cut to a window around the answer
    max_note_words: int | None = None  # stage 2 and inference: keep the note sentences closest to the question


@dataclass(frozen=True)
class StageSection:
    data: str | None = None  # stage 1: corpus file/folder or "synthetic"; stage 2: unused (TrainOptions data/split)
    data_env: str | None = None  # stage 1: environment variable holding the corpus path when ``data`` is null
    limit: int | None = None  # stage 1: number of samples (first N of the corpus)
    # stage 1: a bad answer span stops training ("error") or its question is left out and reported ("skip")
    bad_spans: Literal["error", "skip"] = "error"
    init_adapter: str | None = None  # stage 2: adapter to continue from (default: OUT/stage1/adapter)
    max_steps: int = -1  # > 0 overrides ``epochs``
    epochs: float = 1.0
    learning_rate: float = 2e-4
    batch_size: int = 4
    grad_accum: int = 1
    warmup: float = 0.03  # < 1: a fraction of the steps
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_seq_len: int = 1024
    optim: str = "adamw_torch"
    gradient_checkpointing: bool = False
    logging_steps: int = 10
    save_steps: int = 100
    save_total_limit: int = 2


@dataclass(frozen=True)
class GenerationSection:
    backend: Literal["hf", "vllm"] = "hf"
    batch_size: int = 8
    max_new_tokens: int = 160
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    dequantize: bool = False  # generate with the NF4 weights dequantised once (faster on CPU; more memory)
    max_words: int = 75
    fallback: str = "The note does not give enough information to answer this question; please ask your care team."
    vllm_gpu_memory_utilization: float = 0.85
    vllm_max_model_len: int = 4096


@dataclass(frozen=True)
class GeneratorConfig:
    name: str = "cpu-demo"
    description: str = ""
    seed: int = 13
    model: ModelSection = field(default_factory=ModelSection)
    quantization: QuantizationSection = field(default_factory=QuantizationSection)
    lora: LoraSection = field(default_factory=LoraSection)
    prompt: PromptSection = field(default_factory=PromptSection)
    stage1: StageSection = field(default_factory=StageSection)
    stage2: StageSection = field(default_factory=StageSection)
    generation: GenerationSection = field(default_factory=GenerationSection)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode("utf-8")).hexdigest()

    def stage(self, stage: str) -> StageSection:
        return self.stage1 if stage == "1" else self.stage2


def load_config(
    overrides: Mapping[str, Any] | None = None,
    path: str | Path | None = None,
    fallback: Mapping[str, Any] | None = None,
) -> GeneratorConfig:
    """The config from ``path`` or ``overrides["config"]``, else ``fallback`` (e.g. the config an adapter was
    trained with), else cpu-demo.yaml; with ``overrides`` applied.

    A mapping of overrides that carries ``name`` is taken as a whole config (``archehr run --config FILE``
    passes the file's content) and is applied over the defaults instead.
    """
    overrides = dict(overrides or {})
    chosen = path or overrides.get("config")
    if chosen:
        base = read_yaml(Path(chosen))
    elif "name" in overrides:
        base = {}
    elif fallback is not None:
        base = dict(fallback)
    else:
        base = read_yaml(DEFAULT_CONFIG)
    data = copy.deepcopy(base)
    for key, value in overrides.items():
        if key in CONTROL_KEYS:
            continue
        set_dotted(data, SHORTCUTS.get(key, key), copy.deepcopy(value))  # never alias the caller's mappings
    return build_section(GeneratorConfig, data, "")


def config_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``overrides`` that are config keys (not ``config`` or ``adapter_dir``)."""
    return {k: v for k, v in overrides.items() if k not in CONTROL_KEYS}


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise GeneratorConfigError(f"cannot read generator config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise GeneratorConfigError(f"generator config {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise GeneratorConfigError(f"generator config {path} must be a YAML mapping")
    return data


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, Mapping) and "." not in key and isinstance(data.get(key), dict):
        for sub, subvalue in value.items():  # a nested mapping merges into its section
            set_dotted(data, f"{key}.{sub}", subvalue)
        return
    head, dot, rest = key.partition(".")
    if not dot:
        data[key] = value
        return
    section = data.setdefault(head, {})
    if not isinstance(section, dict):
        raise GeneratorConfigError(f"generator config key {head!r} is not a section, cannot set {key!r}")
    set_dotted(section, rest, value)


def build_section(cls: type, data: Mapping[str, Any], prefix: str) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        where = f"section {prefix.rstrip('.')!r}" if prefix else "the generator config"
        shortcuts = f"; shortcuts: {', '.join(SHORTCUTS)}" if not prefix else ""
        raise GeneratorConfigError(
            f"unknown key(s) {', '.join(prefix + k for k in unknown)} in {where}; known: {', '.join(sorted(known))}"
            + shortcuts
        )
    values: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        if is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise GeneratorConfigError(f"generator config key {prefix + name!r} must be a mapping")
            values[name] = build_section(hint, value, f"{prefix}{name}.")
        else:
            values[name] = _coerce(value, hint, prefix + name)
    return cls(**values)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against a simple type hint (int, float, bool, str, Literal, unions with None, lists)."""
    options = get_args(hint) if get_origin(hint) in (types.UnionType, typing.Union) else ()
    if options:
        errors = []
        for option in options:
            try:
                return _coerce(value, option, key)
            except GeneratorConfigError as exc:
                errors.append(str(exc))
        raise GeneratorConfigError(f"generator config key {key!r}: {value!r} is not allowed ({'; '.join(errors)})")
    if hint is type(None):
        if value is None:
            return None
        raise GeneratorConfigError(f"generator config key {key!r}: expected null")
    if get_origin(hint) is Literal:
        if value in get_args(hint):
            return value
        raise GeneratorConfigError(f"generator config key {key!r}: {value!r} is not one of {list(get_args(hint))}")
    if get_origin(hint) is list:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise GeneratorConfigError(f"generator config key {key!r}: expected a list of strings")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise GeneratorConfigError(f"generator config key {key!r}: expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise GeneratorConfigError(f"generator config key {key!r}: expected an integer, got {value!r}")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise GeneratorConfigError(f"generator config key {key!r}: expected a number, got {value!r}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise GeneratorConfigError(f"generator config key {key!r}: expected a string, got {value!r}")
    raise GeneratorConfigError(f"generator config key {key!r}: unsupported type {hint!r}")
