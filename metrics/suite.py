"""Build the metric objects a task needs, from the scoring options and the metric registry.

Every family comes from its :class:`~metrics.registry.MetricSpec` factory, which imports its module lazily
(listing and evidence or lexical scoring never import torch). Exactly two things make a family
``unavailable`` (with reason and fix) instead of an error: :class:`~metrics.base.MetricUnavailable` (an
asset is missing) and an ``ImportError`` of a neural family's optional extra; any other exception is a bug
and propagates. Stand-ins run only when asked for (``bertscore_standin``, ``medcon_hpo``) and are marked
``comparable=False``; ``lexical_only`` skips the neural families and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from metrics.alignscore import TRUNCATION_MODES
from metrics.base import Metric, MetricUnavailable
from metrics.registry import MetricSpec, get_metric_spec
from metrics.report import Unavailable

logger = logging.getLogger(__name__)


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
    meteor_wordnet: str = "auto"
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

    spec: MetricSpec
    metric: Metric | None
    unavailable: Unavailable | None = None
    comparable: bool = True

    @property
    def family(self) -> str:
        return self.spec.name

    def signature(self) -> str:
        if self.metric is not None:
            return self.metric.signature()
        return f"{self.family}|unavailable"


def build_member(family: str, options: ScoringOptions) -> SuiteMember:
    """Build one text-metric family; a missing asset or optional extra makes it ``unavailable``."""
    spec = get_metric_spec(family)
    if spec.factory is None:
        raise ValueError(f"metric family {family!r} is scored by rule ({spec.evidence_rule}), not built")
    if spec.kind == "neural" and options.lexical_only:
        return SuiteMember(spec, None, Unavailable("skipped: --lexical-only", spec.skipped_fix))
    try:
        built = spec.factory(options)
    except MetricUnavailable as exc:
        return SuiteMember(spec, None, Unavailable(exc.reason, exc.fix))
    except ImportError as exc:
        if spec.install is None:  # a core family must import: that is a broken install, not a missing extra
            raise
        logger.warning("%s cannot be imported: %s", family, exc)
        return SuiteMember(spec, None, Unavailable(f"metrics.{family} cannot be imported ({exc})", spec.install))
    return SuiteMember(spec, built.metric, comparable=built.comparable)


def build_suite(families: Sequence[str], options: ScoringOptions) -> dict[str, SuiteMember]:
    """One member per text-metric family, in the given order (evidence families are scored by rule)."""
    return {f: build_member(f, options) for f in families if get_metric_spec(f).factory is not None}
