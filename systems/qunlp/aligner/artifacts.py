"""A trained aligner folder: the cross-encoder, the card (JSON) and the tuning data's raw scores.

Layout::

    MODEL_DIR/
      aligner_card.json               config, cross-encoder hash and training facts, tuned parameters and
                                      cross-validated scores per subtask (ensemble and each component alone)
      cross_encoder/                  the fine-tuned cross-encoder (absent when the user named one)
      raw_scores/dev-subtask4.json    raw scores of the tuning split (re-tune without recomputing)
      raw_scores/dev-subtask2.json

Light: JSON only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atomic import atomic_write_text
from harness.errors import MissingError
from systems.qunlp.aligner.ensemble import EnsembleParams

CARD_FILE = "aligner_card.json"
CROSS_ENCODER_DIR = "cross_encoder"
RAW_SCORES_DIR = "raw_scores"
CARD_SCHEMA_VERSION = 1
ENSEMBLE = "ensemble"


class ModelDirError(MissingError):
    """The model folder is not a trained aligner (or lacks what a subtask needs); says how to train one."""


def raw_scores_name(split: str, subtask: int) -> str:
    return f"{RAW_SCORES_DIR}/{split.replace('/', '__')}-subtask{int(subtask)}.json"


@dataclass(frozen=True)
class AlignerModel:
    """A loaded model folder (the card is kept as plain JSON)."""

    root: Path
    card: Mapping[str, Any]

    @classmethod
    def load(cls, model_dir: str | Path) -> AlignerModel:
        root = Path(model_dir).expanduser()
        path = root / CARD_FILE
        if not path.is_file():
            raise ModelDirError(
                f"{root} is not a trained aligner (no {CARD_FILE}); train one: `archehr train qunlp-aligner --out DIR`"
            )
        card = json.loads(path.read_text(encoding="utf-8"))
        if card.get("schema_version") != CARD_SCHEMA_VERSION:
            raise ModelDirError(
                f"{path}: card schema_version {card.get('schema_version')!r}, expected {CARD_SCHEMA_VERSION}"
            )
        return cls(root, card)

    def cross_encoder_dir(self) -> Path:
        """The cross-encoder the card records: inside the folder, or the user-named one (absolute)."""
        stored = Path(self.card["cross_encoder"]["path"])
        return stored if stored.is_absolute() else self.root / stored

    def tuned(self, subtask: int, component: str = ENSEMBLE) -> Mapping[str, Any]:
        try:
            return self.card["subtasks"][str(int(subtask))][component]
        except KeyError:
            raise ModelDirError(
                f"{self.root}: no tuned {component} for subtask {int(subtask)} in {CARD_FILE}"
            ) from None

    def params(self, subtask: int, component: str = ENSEMBLE) -> EnsembleParams:
        return EnsembleParams.from_json(self.tuned(subtask, component)["params"])


def write_card(root: str | Path, card: Mapping[str, Any]) -> Path:
    path = Path(root) / CARD_FILE
    atomic_write_text(path, json.dumps({"schema_version": CARD_SCHEMA_VERSION, **card}, indent=2, ensure_ascii=False))
    return path
