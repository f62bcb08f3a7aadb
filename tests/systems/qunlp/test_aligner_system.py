"""The aligner end to end with the packaged MiniLM cross-encoder: training, determinism, runs, raw scores, CLI.

One module-scoped model is trained exactly as the demo trains it (CPU demo config on synthetic dev).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archehr.pipeline import run_system
from harness.data import AnswerSentence, Case, NoteSentence, Subtask, inputs_for, load_dataset, write_split
from harness.errors import HarnessError
from harness.systems import TrainOptions, build_system, get_trainer
from systems.qunlp.aligner import train
from systems.qunlp.aligner.ablation import ROWS
from systems.qunlp.aligner.artifacts import CARD_FILE, AlignerModel
from systems.qunlp.aligner.cli import ablate_command
from systems.qunlp.aligner.config import CROSS_ENCODER_ENV, resolve_config
from systems.qunlp.aligner.cross_encoder import fine_tune, model_hash
from systems.qunlp.aligner.ensemble import apply, build_table
from systems.qunlp.aligner.evaluation import score_links
from systems.qunlp.aligner.queries import EVIDENCE_QUERY_ID, gold_links
from systems.qunlp.aligner.raw_scores import raw_scores_from_run
from systems.qunlp.aligner.training import SUBTASKS, training_pairs

CONFIGS = Path(__file__).resolve().parents[3] / "systems" / "qunlp" / "configs"
SINGLES = ("bm25", "tfidf", "cross_encoder")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three dev cases as ``dev`` and two test cases as ``test``, in the official layout."""
    root = tmp_path_factory.mktemp("tiny-data")
    synthetic = load_dataset("synthetic")
    write_split(synthetic.split("dev").select(["1", "2", "3"]), root / "dev")
    write_split(synthetic.split("test").select(synthetic.split("test").case_ids()[:2]), root / "test")
    return root


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's model: the CPU demo config on synthetic dev (about a minute on 2 shared cores)."""
    out = tmp_path_factory.mktemp("aligner-demo")
    summary = train(TrainOptions(config=str(CONFIGS / "aligner.yaml"), out=str(out)))
    assert summary["run_config"] == {"model_dir": str(out)}
    assert summary["cross_encoder"]["tuning_scores"] == "out-of-fold (2 folds)"
    return out


def _links_f1(links: dict, gold: dict, subtask: Subtask) -> float:
    return score_links({c: {(q, s) for q, ss in qs.items() for s in ss} for c, qs in links.items()}, gold, subtask).f1


def _check_run(name: str, subtask: Subtask, model: Path, data: str, out: Path) -> dict[str, float]:
    """Run through the harness pipeline; the run's raw scores must reproduce its submission. Returns F1 per row."""
    split = load_dataset(data).split("test")
    summary = run_system(name, split, inputs_for(split, subtask), subtask, out, config={"model_dir": str(model)})
    submission = json.loads(Path(summary["submission"]).read_text(encoding="utf-8"))
    raw = raw_scores_from_run(summary["predictions"])
    assert set(raw.components) == {"bm25", "tfidf", "cross_encoder", "ensemble"}
    aligner = AlignerModel.load(model)
    table = build_table(raw, scope=aligner.card["config"]["normalise_scope"], case_ids=split.case_ids())
    _, links = apply(table, aligner.params(subtask))
    if subtask == Subtask.EVIDENCE_ALIGNMENT:
        expected = {e["case_id"]: {a["answer_id"]: a["evidence_id"] for a in e["prediction"]} for e in submission}
        assert {c: {q: sorted(s, key=int) for q, s in qs.items()} for c, qs in links.items()} == expected
    else:
        expected = {e["case_id"]: e["prediction"] for e in submission}
        assert {c: sorted(qs[EVIDENCE_QUERY_ID], key=int) for c, qs in links.items()} == expected
    gold = gold_links(split.keys or {}, split.case_ids(), subtask)
    return {row: _links_f1(apply(table, aligner.params(subtask, row))[1], gold, subtask) for row in ROWS}


@pytest.mark.parametrize(("name", "subtask"), [("qunlp-aligner", Subtask(4)), ("qunlp-evidence", Subtask(2))])
def test_ensemble_beats_the_weakest_component_and_runs_keep_raw_scores(
    demo_model: Path, tmp_path: Path, name: str, subtask: Subtask
) -> None:
    f1 = _check_run(name, subtask, demo_model, "synthetic", tmp_path)
    assert f1["ensemble"] > min(f1[s] for s in SINGLES), f1


def test_fine_tuning_and_scoring_are_deterministic(tiny_data: Path, demo_model: Path, tmp_path: Path) -> None:
    config = resolve_config({"config": str(CONFIGS / "aligner.yaml")})
    split = load_dataset(str(tiny_data)).split("dev")
    cases = {s: inputs_for(split, s) for s in SUBTASKS}
    gold = {s: gold_links(split.keys or {}, split.case_ids(), s) for s in SUBTASKS}
    pairs, labels = training_pairs(cases, gold, config, {"1"})
    fine_tune(pairs, labels, config, tmp_path / "one")
    fine_tune(pairs, labels, config, tmp_path / "two")
    assert model_hash(tmp_path / "one") == model_hash(tmp_path / "two")
    system = build_system("qunlp-aligner", {"model_dir": str(demo_model)})
    test_cases = inputs_for(load_dataset(str(tiny_data)).split("test"), Subtask(4))
    one, two = list(system.predict(test_cases, Subtask(4))), list(system.predict(test_cases, Subtask(4)))
    assert [p.meta for p in one] == [p.meta for p in two] and [p.prediction for p in one] == [p.prediction for p in two]
    # a case's scores do not depend on the other cases of the batch (int8 scales activations per batch)
    assert system.scorer.quantized
    assert next(iter(system.predict(test_cases[1:], Subtask(4)))).meta == one[1].meta


def test_edge_cases_empty_answers_one_sentence_and_unicode(demo_model: Path) -> None:
    system = build_system("qunlp-aligner", {"model_dir": str(demo_model)})
    note = (NoteSentence("1", "0", 0, "Amiodarone was started for atrial fibrillation."),)
    cases = [
        Case("a", "Why?", (), "Why amiodarone?", note[0].text, note, None, ()),
        Case(
            "b", "Why?", (), "Why amiodarone?", note[0].text, note, None, (AnswerSentence("1", "He got amiodarone."),)
        ),
        Case(
            "c",
            "Pourquoi l'amiodarone ? 为什么",
            (),
            "Why was amiodarone (胺碘酮) started?",
            "x",
            (NoteSentence("1", "0", 0, "胺碘酮 — café, naïve ✓."), NoteSentence("2", "0", 9, "")),
            None,
            (AnswerSentence("1", "Naïve café ✓ 胺碘酮."), AnswerSentence("2", "")),
        ),
    ]
    out = {p.case_id: p for p in system.predict(cases, Subtask(4))}
    assert out["a"].prediction == [] and out["a"].meta["raw_scores"]["bm25"] == {}
    assert [a["answer_id"] for a in out["b"].prediction] == ["1"]
    assert [a["answer_id"] for a in out["c"].prediction] == ["1", "2"]
    evidence = build_system("qunlp-evidence", {"model_dir": str(demo_model)})
    assert all(isinstance(p.prediction, list) for p in evidence.predict(cases, Subtask(2)))
    with pytest.raises(HarnessError, match="subtask 4"):
        list(system.predict(cases, Subtask(2)))


def test_card_fingerprint_follows_the_tuned_parameters(demo_model: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(demo_model, tmp_path / "copy"))
    base = build_system("qunlp-aligner", {"model_dir": str(demo_model)}).card
    assert build_system("qunlp-aligner", {"model_dir": str(copy)}).card.fingerprint == base.fingerprint
    card = json.loads((copy / CARD_FILE).read_text(encoding="utf-8"))
    card["subtasks"]["4"]["ensemble"]["params"]["threshold"] += 0.05
    (copy / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    changed = build_system("qunlp-aligner", {"model_dir": str(copy)}).card
    assert changed.fingerprint != base.fingerprint
    assert base.components["cross_encoder"]["sha256"] == AlignerModel.load(demo_model).card["cross_encoder"]["sha256"]


def test_building_needs_a_trained_model_or_a_named_cross_encoder(
    demo_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CROSS_ENCODER_ENV, raising=False)
    with pytest.raises(HarnessError, match="archehr train qunlp-aligner"):
        build_system("qunlp-aligner", {})
    monkeypatch.setenv(CROSS_ENCODER_ENV, str(demo_model / "cross_encoder"))
    with pytest.raises(HarnessError, match="not a cross-encoder"):
        build_system("qunlp-evidence", {"cross_encoder": str(demo_model)})
    system = build_system("qunlp-evidence", {})
    assert system.card.components["cross_encoder"]["source"] == "user"
    assert get_trainer("qunlp-aligner") is get_trainer("qunlp-evidence") is train


def test_ablate_command_prints_json_and_a_table(tiny_data: Path, demo_model: Path) -> None:
    result = CliRunner().invoke(
        ablate_command, ["qunlp-aligner", "--data", str(tiny_data), "--split", "test", "--model-dir", str(demo_model)]
    )
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    assert [r["name"] for r in table["rows"]] == [*SINGLES, "ensemble"]
    assert all(0 <= r["micro_f1"] <= 100 for r in table["rows"])
    assert "ensemble" in result.stderr


def test_importing_the_package_is_light() -> None:
    code = (
        "import sys, systems.qunlp.aligner, systems.qunlp.aligner.cli;"
        "print(sorted(m for m in ('torch', 'sklearn', 'sentence_transformers', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
