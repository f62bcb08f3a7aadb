"""Adapter cards: the JSON saved next to each adapter (its ``kind``: which system family made it; base model and
hash, stage, data and hash, hyperparameters, training results, library versions). The card's sha256 identifies
the adapter in system fingerprints; the ``kind`` keeps one system from loading another's adapter."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.atomic import atomic_write_text
from harness.errors import HarnessError

CARD_FILE = "adapter_card.json"
CARD_SCHEMA_VERSION = 1
#: ``model_dir`` values meaning "no adapter: the untuned base model".
NO_ADAPTER = ("none", "base")
_LIBRARIES = ("torch", "transformers", "peft", "bitsandbytes", "accelerate", "archehr-harness")


class AdapterCardError(HarnessError, ValueError):
    """An adapter folder holds the card of another system's adapter (or no valid card)."""


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def card_path(adapter_dir: Path) -> Path:
    return Path(adapter_dir) / CARD_FILE


def write_card(adapter_dir: Path, card: dict[str, Any], kind: str) -> Path:
    """Write the card atomically (its presence marks a complete adapter); ``kind`` names the system family."""
    body = {"schema_version": CARD_SCHEMA_VERSION, "kind": kind, **card}
    body.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    return atomic_write_text(card_path(adapter_dir), json.dumps(body, indent=1, ensure_ascii=False, default=str) + "\n")


def read_card(adapter_dir: Path, kind: str) -> dict[str, Any] | None:
    """The card of the ``kind`` adapter in ``adapter_dir``, or None when there is none (no adapter, or an
    incomplete one); a card of another kind is an error (an adapter of another system)."""
    path = card_path(adapter_dir)
    if not path.is_file():
        return None
    card = json.loads(path.read_text(encoding="utf-8"))
    found = card.get("kind") if isinstance(card, dict) else None
    if found != kind:
        raise AdapterCardError(
            f"{path} is the card of a {found or 'unknown'} adapter, not of a {kind} adapter: point to this "
            "system's training output, or delete the folder and train again"
        )
    return card


def card_sha256(adapter_dir: Path) -> str:
    return hashlib.sha256(card_path(adapter_dir).read_bytes()).hexdigest()


def has_card(adapter_dir: Path) -> bool:
    """Whether ``adapter_dir`` holds a complete adapter (its card is written last)."""
    return card_path(adapter_dir).is_file()
