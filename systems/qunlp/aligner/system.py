"""The registered systems: ``qunlp-aligner`` (subtask 4) and ``qunlp-evidence`` (subtask 2).

Both score a batch of cases (:mod:`.scoring`), combine and decide with the tuned ensemble
(:mod:`.ensemble`), and attach each case's raw scores to its prediction's meta (``meta["raw_scores"]``,
see :mod:`.raw_scores`), so the run store keeps them with the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from harness.data.model import Case, Subtask
from harness.errors import HarnessError, MissingError
from harness.systems import Prediction, SystemCard
from systems.qunlp.aligner.artifacts import AlignerModel
from systems.qunlp.aligner.config import AlignerConfig, resolve_config
from systems.qunlp.aligner.cross_encoder import CrossEncoderScorer, load_scorer
from systems.qunlp.aligner.ensemble import ENSEMBLE_KEY, EnsembleParams, apply, build_table
from systems.qunlp.aligner.queries import case_queries, links_to_prediction
from systems.qunlp.aligner.raw_scores import META_KEY
from systems.qunlp.aligner.scoring import score_cases

logger = logging.getLogger(__name__)

VERSION = "0.1.0"
SYSTEM_SUBTASKS = {"qunlp-aligner": Subtask.EVIDENCE_ALIGNMENT, "qunlp-evidence": Subtask.EVIDENCE_IDENTIFICATION}
#: Config keys left out of the card: locations (the cross-encoder's hash stands for its identity).
_PATH_KEYS = ("cross_encoder", "base_model")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


class AlignerSystem:
    """BM25 + TF-IDF + cross-encoder ensemble for one subtask."""

    def __init__(
        self,
        name: str,
        config: AlignerConfig,
        params: EnsembleParams,
        scorer: CrossEncoderScorer,
        provenance: Mapping[str, Any],
    ) -> None:
        self.subtask = SYSTEM_SUBTASKS[name]
        self.config = config
        self.params = params
        self.scorer = scorer
        card_config = {k: v for k, v in config.to_json().items() if k not in _PATH_KEYS}
        bm25_package = "rank-bm25" if config.bm25_backend == "rank_bm25" else "bm25s"
        self.card = SystemCard(
            name=name,
            version=VERSION,
            subtasks=(int(self.subtask),),
            description=f"QU-NLP aligner: BM25 + TF-IDF + cross-encoder ensemble (subtask {int(self.subtask)})",
            config=card_config,
            components={
                "cross_encoder": {"sha256": scorer.sha256, **provenance},
                "ensemble": params.to_json(),
                "bm25": f"{bm25_package} {_version(bm25_package)}",
                "tfidf": f"scikit-learn {_version('scikit-learn')}",
                "sentence_transformers": _version("sentence-transformers"),
            },
        )

    def predict(self, cases: Sequence[Case], subtask: Subtask) -> Iterator[Prediction]:
        if Subtask(subtask) != self.subtask:
            raise HarnessError(f"{self.card.name} answers subtask {int(self.subtask)}, not {int(subtask)}")
        if not cases:
            return
        raw = score_cases(cases, self.subtask, self.config, self.scorer)
        table = build_table(raw, scope=self.config.normalise_scope, case_ids=[c.case_id for c in cases])
        scores, links = apply(table, self.params)
        raw.components[ENSEMBLE_KEY] = table.to_nested(scores)
        for case in cases:
            prediction = links_to_prediction(case_queries(case, self.subtask), links[case.case_id], self.subtask)
            yield Prediction(case.case_id, prediction, {META_KEY: raw.case_part(case.case_id)})


def build_aligner(name: str, overrides: Mapping[str, Any]) -> AlignerSystem:
    """Build from a trained model folder (``model_dir``), or from a user-named cross-encoder and default
    ensemble parameters (``cross_encoder`` / ``$ARCHEHR_CROSS_ENCODER``)."""
    subtask = SYSTEM_SUBTASKS[name]
    model_dir = overrides.get("model_dir")
    if model_dir:
        model = AlignerModel.load(model_dir)
        config = resolve_config(overrides, base=model.card["config"])
        params = model.params(subtask, config.component)
        explicit = overrides.get("cross_encoder")
        ce_dir = str(explicit) if explicit else str(model.cross_encoder_dir())
        provenance = {
            "source": "user" if explicit else model.card["cross_encoder"]["source"],
            "tuned_with": model.card["cross_encoder"]["sha256"],
        }
    else:
        config = resolve_config(overrides)
        if config.component != "ensemble":
            raise HarnessError(
                f"{name}: component={config.component} applies the parameters tuned for it in a trained model: "
                "--set model_dir=DIR (the --out of `archehr train`)"
            )
        ce_dir = config.cross_encoder_dir()
        if not ce_dir:
            raise MissingError(
                f"{name} needs a trained model: `archehr train {name} --out DIR`, then run with --set model_dir=DIR;"
                " or name a trained cross-encoder with --set cross_encoder=DIR (or $ARCHEHR_CROSS_ENCODER)"
            )
        d = config.defaults
        params = EnsembleParams(
            {"bm25": d.bm25, "tfidf": d.tfidf, "cross_encoder": d.cross_encoder},
            d.bm25_fraction,
            d.threshold,
            d.k,
            d.min_links,
        )
        provenance = {"source": "user", "tuned_with": None}
    scorer = load_scorer(ce_dir, config)
    if provenance["tuned_with"] not in (None, scorer.sha256):
        logger.warning("%s: the ensemble was tuned with another cross-encoder than %s", name, ce_dir)
    return AlignerSystem(name, config, params, scorer, provenance)
