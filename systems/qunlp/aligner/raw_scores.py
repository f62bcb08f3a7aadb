"""Raw component scores in the plain nested shape ``{case_id: {query_id: {sentence_id: score}}}``.

One nested mapping per component (``bm25``: raw BM25; ``tfidf``: cosine; ``cross_encoder``: logit;
``ensemble``: the combined score). The cross-encoder only scores pruned candidates, so its mapping
lists those alone; a missing entry means "not scored" (normalised to 0). Runs carry each case's part in
``Prediction.meta["raw_scores"]`` (``{component: {query_id: {sentence_id: score}}}``), so a run store's
JSONL holds the whole run's scores; :func:`raw_scores_from_run` reassembles them. Light: no numpy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.atomic import atomic_write_text
from harness.systems import Prediction

RAW_SCORES_SCHEMA_VERSION = 1
META_KEY = "raw_scores"

Nested = dict[str, dict[str, dict[str, float]]]


@dataclass
class RawScores:
    """Per-component nested scores of one subtask; ``components[name][case_id][query_id][sentence_id]``."""

    subtask: int
    components: dict[str, Nested] = field(default_factory=dict)

    def case_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for nested in self.components.values():
            seen.update(dict.fromkeys(nested))
        return list(seen)

    def case_part(self, case_id: str) -> dict[str, dict[str, dict[str, float]]]:
        """One case's scores as stored in a prediction's meta: ``{component: {query_id: {sentence_id: score}}}``."""
        return {name: nested.get(case_id, {}) for name, nested in self.components.items()}

    def add_case(self, case_id: str, part: Mapping[str, Mapping[str, Mapping[str, float]]]) -> None:
        for name, queries in part.items():
            self.components.setdefault(name, {})[case_id] = {q: dict(s) for q, s in queries.items()}

    def merge(self, other: RawScores) -> RawScores:
        if other.subtask != self.subtask:
            raise ValueError(f"cannot merge subtask {other.subtask} scores into subtask {self.subtask}")
        for case_id in other.case_ids():
            self.add_case(case_id, other.case_part(case_id))
        return self

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": RAW_SCORES_SCHEMA_VERSION, "subtask": self.subtask, "components": self.components}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RawScores:
        version = data.get("schema_version")
        if version != RAW_SCORES_SCHEMA_VERSION:
            raise ValueError(f"raw scores schema_version {version!r}; this code reads {RAW_SCORES_SCHEMA_VERSION}")
        components = {
            name: {
                c: {q: {s: float(v) for s, v in sents.items()} for q, sents in qs.items()} for c, qs in nested.items()
            }
            for name, nested in data["components"].items()
        }
        return cls(int(data["subtask"]), components)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(self.to_json(), ensure_ascii=False, allow_nan=False))
        return path

    @classmethod
    def load(cls, path: str | Path) -> RawScores:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def raw_scores_from_predictions(predictions: Iterable[Prediction], subtask: int) -> RawScores:
    """Reassemble a run's raw scores from its predictions' meta."""
    out = RawScores(int(subtask))
    for pred in predictions:
        part = pred.meta.get(META_KEY)
        if part is None:
            raise ValueError(f"case {pred.case_id}: prediction carries no raw scores (not an aligner run?)")
        out.add_case(pred.case_id, part)
    return out


def raw_scores_from_run(predictions_jsonl: str | Path) -> RawScores:
    """Raw scores of a run store file (``…/subtask<N>/predictions.jsonl``)."""
    subtask = None
    predictions = []
    for line in Path(predictions_jsonl).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if record.get("type") == "header":
            subtask = int(record["subtask"])
        elif record.get("type") == "prediction":
            predictions.append(Prediction(record["case_id"], record["prediction"], record.get("meta", {})))
    if subtask is None:
        raise ValueError(f"{predictions_jsonl}: no run header")
    return raw_scores_from_predictions(predictions, subtask)
