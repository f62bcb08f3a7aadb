"""Config loading and overrides, light registration, and fail-fast errors of paper.yaml on a machine without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import systems.qunlp.generator as generator
from harness.errors import HarnessError
from harness.systems import TrainOptions
from systems.qunlp.generator.config import CONFIG_DIR, GeneratorConfigError, load_config

PAPER = CONFIG_DIR / "paper.yaml"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def no_assets(tmp_path, monkeypatch):
    """No Qwen3-4B, no emrQA corpus, an empty cache and assets file."""
    for var in ("ARCHEHR_QWEN3_4B", "ARCHEHR_EMRQA_MEDSQUAD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ARCHEHR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ARCHEHR_ASSETS_FILE", str(tmp_path / "assets.yaml"))
    return tmp_path


def test_import_is_light_and_registers() -> None:
    code = (
        "import sys, systems.qunlp.generator\n"
        "from harness.systems import _REGISTRY\n"
        "assert 'qunlp' in _REGISTRY and _REGISTRY['qunlp'].trainer is not None\n"
        "assert _REGISTRY['qunlp'].subtasks == (3,)\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'bitsandbytes') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_default_is_cpu_demo_and_overrides_apply() -> None:
    config = load_config({})
    assert config.name == "cpu-demo" and config.model.asset == "smollm2-135m-gguf"
    assert config.quantization.load_in_4bit and config.quantization.quant_type == "nf4"
    assert config.quantization.double_quant
    changed = load_config(
        {
            "batch_size": 3,
            "max_new_tokens": 7,
            "stage1.max_steps": 2,
            "generation": {"max_words": 60},
            "adapter_dir": "x",
        }
    )
    assert (changed.generation.batch_size, changed.generation.max_new_tokens) == (3, 7)
    assert changed.stage1.max_steps == 2 and changed.generation.max_words == 60
    assert changed.stage2 == config.stage2


def test_overrides_are_not_mutated() -> None:
    whole = {"name": "x", "generation": {"max_words": 50}, "model": {"dtype": "float32"}}
    load_config({**whole, "generation.max_words": 40, "generation.batch_size": 2})
    assert whole == {"name": "x", "generation": {"max_words": 50}, "model": {"dtype": "float32"}}


def test_config_file_and_whole_mapping() -> None:
    paper = load_config({"config": str(PAPER)})
    assert paper.name == "paper" and paper.model.asset == "qwen3-4b" and paper.stage1.limit == 30000
    assert paper.model.device == "cuda" and paper.stage1.data_env == "ARCHEHR_EMRQA_MEDSQUAD"
    # `archehr run qunlp --config FILE` passes the file's mapping: it replaces the defaults, not cpu-demo.yaml.
    import yaml

    as_mapping = load_config(yaml.safe_load(PAPER.read_text(encoding="utf-8")))
    assert as_mapping == paper


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"stage1.max_stepz": 1}, "unknown generator config key(s) stage1.max_stepz"),
        ({"nonsense": 1}, "shortcuts: batch_size"),
        ({"batch_size": "many"}, "expected an integer"),
        ({"generation.backend": "tgi"}, "not one of ['hf', 'vllm']"),
        ({"quantization.double_quant": "yes"}, "expected true or false"),
        ({"config": "/no/such.yaml"}, "cannot read generator config"),
    ],
)
def test_bad_overrides_name_the_key(overrides, fragment) -> None:
    with pytest.raises(GeneratorConfigError) as info:
        load_config(overrides)
    assert fragment in str(info.value)


def test_paper_training_fails_fast_in_one_line(no_assets) -> None:
    with pytest.raises(HarnessError) as info:
        generator.train(TrainOptions(config=str(PAPER), out=str(no_assets / "out")))
    message = str(info.value)
    assert "\n" not in message
    assert "Qwen3-4B base model not found" in message and "ARCHEHR_QWEN3_4B" in message
    assert "CUDA GPU" in message and "cpu-demo.yaml" in message
    assert "ARCHEHR_EMRQA_MEDSQUAD" in message
    assert not (no_assets / "out").exists()


def test_paper_build_fails_fast_in_one_line(no_assets) -> None:
    with pytest.raises(HarnessError) as info:
        generator.build({"config": str(PAPER)})
    message = str(info.value)
    assert "\n" not in message and "ARCHEHR_QWEN3_4B" in message and "CUDA GPU" in message


def test_paper_with_weights_path_still_needs_the_gpu(no_assets) -> None:
    weights = no_assets / "qwen3-4b"
    weights.mkdir()
    (weights / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(HarnessError) as info:
        generator.build({"config": str(PAPER), "model.path": str(weights)})
    assert "base model not found" not in str(info.value) and "CUDA GPU" in str(info.value)


def test_unknown_stage_and_missing_stage1_adapter(no_assets) -> None:
    with pytest.raises(HarnessError, match="stages 1, 2 and all"):
        generator.train(TrainOptions(stage="3"))
    from systems.qunlp.generator.training import train

    with pytest.raises(HarnessError, match="run --stage 1 first"):
        train(TrainOptions(stage="2", out=str(no_assets / "out")))


def test_build_without_trained_adapter_says_how(no_assets) -> None:
    with pytest.raises(HarnessError, match="run `archehr train qunlp`"):
        generator.build({})
    with pytest.raises(HarnessError, match="not a trained qunlp adapter"):
        generator.build({"adapter_dir": str(no_assets)})


def test_vllm_backend_fails_clearly_when_absent(monkeypatch) -> None:
    import builtins

    from systems.qunlp.generator.vllm_backend import INSTALL_HINT, VLLMBackend

    real_import = builtins.__import__

    def no_vllm(name, *args, **kwargs):
        if name == "vllm" or name.startswith("vllm."):
            raise ImportError("No module named 'vllm'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_vllm)
    with pytest.raises(HarnessError) as info:
        VLLMBackend(load_config({"backend": "vllm"}), Path("/nowhere"), None)
    assert str(info.value) == INSTALL_HINT
