"""The metric suite: lexical metrics built here, neural ones lazily, every failure an ``unavailable`` member."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from metrics import registry
from metrics.base import MetricUnavailable
from metrics.lexical import BleuMetric, RougeMetric
from metrics.sari import SariMetric
from metrics.suite import ScoringOptions, build_member, build_suite


def test_lexical_families_are_built_here():
    members = build_suite(("bleu", "rouge", "sari"), ScoringOptions())
    assert isinstance(members["bleu"].metric, BleuMetric)
    assert isinstance(members["rouge"].metric, RougeMetric)
    assert isinstance(members["sari"].metric, SariMetric)
    assert members["rouge"].spec.output_keys == ("rouge1", "rouge2", "rougeL", "rougeLsum")
    assert all(m.comparable and m.unavailable is None for m in members.values())


def test_lexical_only_skips_neural_families_and_says_so():
    members = build_suite(("bertscore", "alignscore", "medcon"), ScoringOptions(lexical_only=True))
    for family, member in members.items():
        assert member.metric is None
        assert member.unavailable is not None and "--lexical-only" in member.unavailable.reason
        assert member.signature() == f"{family}|unavailable"


def test_import_failure_is_unavailable_not_a_crash(monkeypatch):
    monkeypatch.setitem(sys.modules, "metrics.bertscore", None)  # import raises ImportError
    member = build_member("bertscore", ScoringOptions())
    assert member.metric is None and "cannot be imported" in member.unavailable.reason
    assert "requirements" in member.unavailable.fix


def test_metric_unavailable_at_construction_keeps_reason_and_fix(monkeypatch):
    def missing(options):
        raise MetricUnavailable("medcon", "no QuickUMLS index", "pass --medcon-index DIR")

    _factory(monkeypatch, "medcon", missing)
    member = build_member("medcon", ScoringOptions())
    assert (member.unavailable.reason, member.unavailable.fix) == ("no QuickUMLS index", "pass --medcon-index DIR")


def test_any_other_construction_error_is_a_bug_and_propagates(monkeypatch):
    def broken(options):
        raise RuntimeError("boom")

    _factory(monkeypatch, "alignscore", broken)
    with pytest.raises(RuntimeError, match="boom"):
        build_member("alignscore", ScoringOptions())


def _factory(monkeypatch, family, factory):
    spec = dataclasses.replace(registry.get_metric_spec(family), factory=factory)
    monkeypatch.setitem(registry._REGISTRY, family, spec)


def test_stand_ins_are_explicit_and_not_comparable():
    pytest.importorskip("metrics.bertscore")
    member = build_member("bertscore", ScoringOptions(bertscore_standin=True))
    assert member.metric is not None and not member.comparable
    assert "standin" in member.signature() and "not-comparable" in member.signature()
    official = build_member("bertscore", ScoringOptions())
    assert official.comparable and "standin" not in official.signature()


def test_options():
    with pytest.raises(ValueError):
        ScoringOptions(bertscore_standin=True, bertscore_model="/models/distilbert")
    with pytest.raises(ValueError):
        ScoringOptions(medcon_hpo=True, medcon_index="/umls")
    assert ScoringOptions().flags() == "official"
    assert ScoringOptions(lexical_only=True).flags() == "lexical-only"
    demo = ScoringOptions.demo()
    assert demo.bertscore_standin and demo.medcon_hpo and demo.flags() == "bertscore:standin,medcon:hpo"
    with pytest.raises(registry.UnknownMetricError):
        build_member("bleurt", ScoringOptions())
    with pytest.raises(ValueError, match="scored by rule"):
        build_member("evidence", ScoringOptions())


def test_importing_the_lexical_scorer_imports_no_torch():
    code = (
        "import sys, metrics, metrics.scoring, archehr.score_cli, metrics.suite; "
        "from metrics.suite import build_suite, ScoringOptions; "
        "build_suite(('bleu', 'rouge', 'sari', 'bertscore'), ScoringOptions(lexical_only=True)); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
