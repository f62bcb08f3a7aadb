"""Build the metric objects a formula needs, from the scoring options.

Lexical metrics (BLEU, ROUGE, SARI) are built here. The neural ones come from their own modules,
imported lazily inside the factories so that listing or lexical scoring never imports torch:
``metrics.bertscore.BertScoreMetric``, ``metrics.alignscore.AlignScoreMetric``,
``metrics.medcon.MedconMetric`` / ``MedconHpoMetric``. A family that cannot be built (module missing,
import failing, assets absent: :class:`~metrics.base.MetricUnavailable`) becomes a member with
``unavailable`` set, reason and fix included: the suite never crashes and never substitutes another
metric silently. Stand-ins run only when asked for explicitly (``bertscore_standin``, ``medcon_hpo``)
and are marked ``comparable=False``; ``lexical_only`` skips the neural families and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from metrics.alignscore import TRUNCATION_MODES
from metrics.base import Metric, MetricUnavailable
from metrics.lexical import BleuMetric, RougeMetric
from metrics.report import Unavailable
from metrics.sari import SariMetric
from metrics.subtasks import FAMILY_OUTPUTS, NEURAL_FAMILIES

logger = logging.getLogger(__name__)

_ML_FIX = "install the model stack: pip install -r requirements/ml.txt"


@dataclass(frozen=True)
class ScoringOptions:
    """Which metric implementations to use and where their assets are.

    ``None`` paths mean "locate the asset the usual way" (environment, assets file, cache; see
    :mod:`harness.assets`); a family whose asset cannot be found is reported unavailable.
    """

    lexical_only: bool = False
    bertscore_model: str | None = None
    bertscore_standin: bool = False
    alignscore_ckpt: str | None = None
    alignscore_base_model: str | None = None
    trust_checkpoint: bool = False
    alignscore_truncation: str = "official"
    medcon_index: str | None = None
    medcon_hpo: bool = False
    validate: bool = True

    def __post_init__(self) -> None:
        if self.bertscore_standin and self.bertscore_model:
            raise ValueError("give either a BERTScore model folder or the stand-in, not both")
        if self.medcon_hpo and self.medcon_index:
            raise ValueError("give either a MEDCON QuickUMLS index or MEDCON-HPO, not both")
        if self.alignscore_truncation not in TRUNCATION_MODES:
            modes = " or ".join(TRUNCATION_MODES)
            raise ValueError(f"AlignScore truncation is {modes}, not {self.alignscore_truncation!r}")

    @classmethod
    def demo(cls) -> ScoringOptions:
        """The offline demo: the packaged stand-ins (BERTScore MiniLM, MEDCON-HPO), never comparable."""
        return cls(bertscore_standin=True, medcon_hpo=True)

    def flags(self) -> str:
        """The options that change numbers, for the scorer signature."""
        parts = []
        if self.lexical_only:
            parts.append("lexical-only")
        if self.bertscore_standin:
            parts.append("bertscore:standin")
        if self.alignscore_truncation != "official":
            parts.append(f"alignscore:{self.alignscore_truncation}")
        if self.medcon_hpo:
            parts.append("medcon:hpo")
        return ",".join(parts) or "official"


@dataclass(frozen=True)
class SuiteMember:
    """One metric family: its object, or why it is unavailable."""

    family: str
    metric: Metric | None
    unavailable: Unavailable | None = None
    comparable: bool = True

    @property
    def outputs(self) -> tuple[str, ...]:
        return FAMILY_OUTPUTS[self.family]

    def signature(self) -> str:
        if self.metric is not None:
            return self.metric.signature()
        return f"{self.family}|unavailable"


def _bertscore(options: ScoringOptions) -> tuple[Any, bool]:
    from metrics.bertscore import BertScoreMetric

    if options.bertscore_standin:
        return BertScoreMetric(None, stand_in=True), False
    return BertScoreMetric(options.bertscore_model), True


def _alignscore(options: ScoringOptions) -> tuple[Any, bool]:
    from metrics.alignscore import AlignScoreMetric

    return (
        AlignScoreMetric(
            options.alignscore_ckpt,
            options.alignscore_base_model,
            trust_checkpoint=options.trust_checkpoint,
            truncation=options.alignscore_truncation,
        ),
        True,
    )


def _medcon(options: ScoringOptions) -> tuple[Any, bool]:
    from metrics.medcon import MedconHpoMetric, MedconMetric

    if options.medcon_hpo:
        return MedconHpoMetric(), False
    return MedconMetric(options.medcon_index), True


_LEXICAL: dict[str, Callable[[], Metric]] = {"bleu": BleuMetric, "rouge": RougeMetric, "sari": SariMetric}
_NEURAL: dict[str, Callable[[ScoringOptions], tuple[Any, bool]]] = {
    "bertscore": _bertscore,
    "alignscore": _alignscore,
    "medcon": _medcon,
}
_SKIPPED_FIX = {
    "bertscore": "drop --lexical-only (needs distilbert-base-uncased: --bertscore-model DIR)",
    "alignscore": "drop --lexical-only (needs AlignScore-base.ckpt and roberta-base: --alignscore-ckpt PATH)",
    "medcon": "drop --lexical-only (needs a QuickUMLS index over UMLS: --medcon-index DIR)",
}


def build_member(family: str, options: ScoringOptions) -> SuiteMember:
    """Build one family, turning every way it can fail to exist into an ``unavailable`` member."""
    if family in _LEXICAL:
        return SuiteMember(family, _LEXICAL[family]())
    if family not in _NEURAL:
        raise ValueError(f"unknown metric family {family!r}")
    if options.lexical_only:
        return SuiteMember(family, None, Unavailable("skipped: --lexical-only", _SKIPPED_FIX[family]))
    try:
        metric, comparable = _NEURAL[family](options)
    except MetricUnavailable as exc:
        return SuiteMember(family, None, Unavailable(exc.reason, exc.fix))
    except ImportError as exc:
        logger.warning("%s cannot be imported: %s", family, exc)
        return SuiteMember(family, None, Unavailable(f"metrics.{family} cannot be imported ({exc})", _ML_FIX))
    except Exception as exc:  # a broken optional module must not take the lexical scores down with it
        logger.warning("%s could not be built", family, exc_info=True)
        return SuiteMember(
            family, None, Unavailable(f"{family} could not be built ({type(exc).__name__}: {exc})", _ML_FIX)
        )
    return SuiteMember(family, metric, comparable=comparable)


def build_suite(families: Sequence[str], options: ScoringOptions) -> dict[str, SuiteMember]:
    """One member per family, in the given order."""
    return {family: build_member(family, options) for family in families}


def is_neural(family: str) -> bool:
    return family in NEURAL_FAMILIES
