"""Metrics and scorers of the ArchEHR-QA shared task, reproducing the official scorers.

- :mod:`metrics.base`: the metric protocol, :class:`MetricUnavailable`, the :class:`SingleOutput` mixin.
- :mod:`metrics.registry`: one :class:`~metrics.registry.MetricSpec` per metric family (outputs, scale, assets).
- :mod:`metrics.lexical`: BLEU and ROUGE (official settings, batched); :mod:`metrics.sari`: SARI.
- :mod:`metrics.bertscore`, :mod:`metrics.alignscore`, :mod:`metrics.medcon`: the neural metrics
  (imported lazily; they need the model stack and local assets).
- :mod:`metrics.evidence`: evidence precision / recall / F1 with every empty-set convention.
- :mod:`metrics.meteor`: METEOR (the FHIR track's answer metric); :mod:`metrics.sentences`: the shared Punkt
  sentence splitter (NLTK 3.8.1's splits); :mod:`metrics.ranking`: average precision, ROC AUC and F1-tuned
  thresholds of a scorer.
- :mod:`metrics.combine`: combined keys (the official formulas of :mod:`harness.tasks`).
- :mod:`metrics.scoring`: :func:`score_submission` → :class:`metrics.report.ScoreReport`.
- :mod:`metrics.suite`: which metric objects to build from :class:`ScoringOptions`.
- :mod:`metrics.many`: many submissions against one key in one process (reports, summary rows).
- :mod:`metrics.official_style`: per-case loops shaped like the official scorers (equality tests, benchmarks).
- :mod:`archehr.score_cli`: the ``archehr score`` command.

Importing this package imports no torch and no model.
"""

from __future__ import annotations

from metrics.base import Metric, MetricUnavailable, SingleOutput

__all__ = ["Metric", "MetricUnavailable", "SingleOutput"]
