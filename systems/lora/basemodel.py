"""Find the base model folder (a local path or a harness asset; a packaged gguf is converted once by
:mod:`harness.assets`), hash it.

Checking (:func:`check_base_model`) is light and fails fast with one line saying what is missing and how to
supply it; preparing (:func:`prepare_base_model`) may convert a gguf file into a safetensors folder in the cache
(once, under a file lock) and hashes the folder's files (hashes are cached by size and modification time).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import assets
from harness.errors import MissingError
from systems.lora.config import ModelSection

logger = logging.getLogger(__name__)

_MODEL_FILE_SUFFIXES = (".json", ".safetensors", ".bin", ".model", ".txt", ".jinja", ".tiktoken")


class GeneratorSetupError(MissingError):
    """Something a QLoRA system needs is missing (weights, data, a GPU); the message says how to supply it."""


@dataclass(frozen=True)
class BaseModelRef:
    """The base model to load: its folder, its display name and where it came from (path, asset, gguf)."""

    name: str
    path: Path
    source: str
    gguf: Path | None = None  # set when ``path`` is (to be) converted from this gguf file

    def identity(self, sha256: str) -> dict[str, Any]:
        """What cards record: no absolute path, so moving the weights keeps fingerprints."""
        return {"name": self.name, "source": self.source, "sha256": sha256}


def generator_cache() -> Path:
    """The cache of converted base models, file hashes and default training outputs (name kept from the generator)."""
    return assets.cache_dir() / "qunlp-generator"


def check_device(model: ModelSection) -> None:
    """Fail when the config asks for a CUDA GPU that torch cannot see."""
    if model.device != "cuda":
        return
    import torch

    if not torch.cuda.is_available():
        raise GeneratorSetupError(
            "a CUDA GPU (model.device=cuda), and torch sees none: on CPU use a cpu-demo.yaml config"
        )


def check_setup(model: ModelSection, label: str, *, more: Sequence[str] = ()) -> BaseModelRef:
    """The base model of ``model`` after checking it and the device; one error naming all that is missing
    (``more``: the caller's own missing pieces), prefixed with ``label``."""
    problems: list[str] = []
    base = None
    try:
        base = check_base_model(model)
    except GeneratorSetupError as exc:
        problems.append(str(exc))
    try:
        check_device(model)
    except GeneratorSetupError as exc:
        problems.append(f"needs {exc}")
    problems += more
    if problems:
        raise GeneratorSetupError(f"{label}: " + "; ".join(problems))
    assert base is not None
    return base


def check_base_model(model: ModelSection) -> BaseModelRef:
    """Locate the base model without loading anything; raises :class:`GeneratorSetupError` when missing."""
    if model.path:
        path = Path(model.path).expanduser()
        if not (path / "config.json").is_file():
            raise GeneratorSetupError(
                f"{model.name} base model not found: model.path={path} holds no config.json "
                "(give a local Hugging Face model folder with --set model.path=DIR)"
            )
        return BaseModelRef(model.name, path.resolve(), "path")
    if not model.asset:
        raise GeneratorSetupError(f"{model.name} base model: set model.path or model.asset in the generator config")
    status = assets.locate(model.asset)
    if status.found_at is None:
        detail = f" ({status.problem})" if status.problem and status.problem != "not found" else ""
        raise GeneratorSetupError(
            f"{model.name} base model not found{detail}: {status.how_to_supply}; or --set model.path=DIR"
        )
    found = status.found_at
    if found.is_file() and found.suffix == ".gguf":
        folder = assets.gguf_folder(found)
        return BaseModelRef(model.name, folder, f"asset:{model.asset} (gguf, converted)", gguf=found)
    return BaseModelRef(model.name, found, f"asset:{model.asset}")


def prepare_base_model(ref: BaseModelRef) -> str:
    """Convert a gguf base model once if needed; returns the sha256 of the model folder."""
    if ref.gguf is not None and not (ref.path / "config.json").is_file():
        assets.convert_gguf(ref.gguf, ref.path)
    return dir_sha256(ref.path)


def dir_sha256(folder: Path) -> str:
    """sha256 over the model files of ``folder`` (relative names and content hashes, sorted)."""
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _MODEL_FILE_SUFFIXES)
    for path in files:
        digest.update(f"{path.relative_to(folder).as_posix()}\0{assets.file_sha256(path)}\n".encode())
    return digest.hexdigest()
