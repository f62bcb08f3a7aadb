"""Building a FHIR track data folder: synthetic (seeded ``carebundle`` bundles) or from users' own bundles.

Everything derives from the seed: patient ``i`` gets profile ``PROFILES[i % 5]`` and a sex drawn from
``Random("patients:<seed>")``, and its bundle is ``carebundle.generate_bundle(profile, seed, sex, index=i)``
(byte-identical for a seed, the package's contract); records are assigned to splits by
``Random("splits:<seed>")``; each record's questions come from ``Random("<seed>:<record_id>")``.
String seeds hash the same in every process, so a build is reproducible whatever ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fhirqa.bundle import bundle_entries, bundle_files, load_record, record_from_entries
from fhirqa.dataset import read_questions, write_dataset
from fhirqa.model import FhirDataset, FhirQuestion, PatientRecord
from fhirqa.questions import generate_questions
from harness.data.json_io import read_json
from harness.errors import HarnessError

logger = logging.getLogger(__name__)

CAREBUNDLE_PIN = "carebundle==0.5.0"
PROFILES: tuple[str, ...] = ("healthy", "type2_diabetes", "hypertension", "ckd_stage3", "anaemia")
DEFAULT_FRACTIONS: tuple[tuple[str, float], ...] = (("train", 0.6), ("dev", 0.2), ("test", 0.2))


@dataclass(frozen=True)
class BuildOptions:
    seed: int = 13
    patients: int = 30
    questions_per_patient: int = 6
    fractions: tuple[tuple[str, float], ...] = DEFAULT_FRACTIONS


def assign_splits(record_ids: Sequence[str], options: BuildOptions) -> dict[str, list[str]]:
    """Shuffle the records (seeded) and cut them by the split fractions; the last split takes the rest."""
    order = sorted(record_ids)
    random.Random(f"splits:{options.seed}").shuffle(order)
    total = sum(f for _, f in options.fractions)
    out: dict[str, list[str]] = {}
    start = 0
    for n, (name, fraction) in enumerate(options.fractions):
        last = n == len(options.fractions) - 1
        size = len(order) - start if last else round(len(order) * fraction / total)
        out[name] = sorted(order[start : start + size])
        start += size
    return out


def generate_splits(records: Mapping[str, PatientRecord], options: BuildOptions) -> dict[str, list[FhirQuestion]]:
    """Generated questions for every record, grouped by the split its record is assigned to."""
    return {
        name: [
            q
            for rid in ids
            for q in generate_questions(
                records[rid], random.Random(f"{options.seed}:{rid}"), options.questions_per_patient
            )
        ]
        for name, ids in assign_splits(list(records), options).items()
    }


def synthetic_bundles(options: BuildOptions) -> dict[str, str]:
    """``{record_id: bundle JSON}`` for ``options.patients`` carebundle patients."""
    try:
        from carebundle import generate_bundle, to_json
    except ImportError:
        raise HarnessError(f"the synthetic FHIR data needs carebundle: pip install {CAREBUNDLE_PIN}") from None
    rng = random.Random(f"patients:{options.seed}")
    out = {}
    for i in range(options.patients):
        profile = PROFILES[i % len(PROFILES)]
        sex = rng.choice("FM")
        bundle = generate_bundle(profile=profile, seed=options.seed, sex=sex, index=i)
        out[f"p{i + 1:03d}"] = to_json(bundle) + "\n"
    return out


def build_synthetic(out: str | Path, options: BuildOptions = BuildOptions()) -> FhirDataset:
    """Write the synthetic dataset to ``out`` and return it as loaded back."""
    bundles = synthetic_bundles(options)
    records = {rid: record_from_entries(rid, bundle_entries(json.loads(text))) for rid, text in bundles.items()}
    manifest = {"generator": "carebundle", "carebundle_version": _version("carebundle"), **_options_json(options)}
    files = {f"{rid}.json": text for rid, text in bundles.items()}
    return write_dataset(out, files, generate_splits(records, options), manifest)


def build_from_bundles(
    out: str | Path,
    bundles_dir: str | Path,
    options: BuildOptions = BuildOptions(),
    questions_file: str | Path | None = None,
    split: str = "test",
) -> FhirDataset:
    """A data folder from users' bundles (Synthea's ``output/fhir``): questions from ``questions_file``
    (all in ``split``, unless an entry names its own ``split``), else generated as for the synthetic set."""
    records = {r.record_id: r for r in map(load_record, bundle_files(bundles_dir)) if r.patient is not None}
    if not records:
        raise HarnessError(f"{bundles_dir}: no bundle with a Patient resource")
    if questions_file is None:
        splits = generate_splits(records, options)
        manifest: dict[str, Any] = {
            "generator": "fhirqa.questions",
            "bundles": str(bundles_dir),
            **_options_json(options),
        }
    else:
        splits = _questions_by_split(questions_file, split)
        manifest = {"generator": "user", "bundles": str(bundles_dir), "questions": str(questions_file)}
    kept = {Path(r.source or "").name: Path(r.source or "").read_text(encoding="utf-8") for r in records.values()}
    return write_dataset(out, kept, splits, manifest)


def _questions_by_split(path: str | Path, default: str) -> dict[str, list[FhirQuestion]]:
    raw = read_json(path)
    names = [e.get("split", default) if isinstance(e, dict) else default for e in raw] if isinstance(raw, list) else []
    out: dict[str, list[FhirQuestion]] = {}
    for name, q in zip(names, read_questions(path), strict=True):
        out.setdefault(str(name), []).append(q)
    return out


def _options_json(options: BuildOptions) -> dict[str, Any]:
    data = asdict(options)
    data["fractions"] = {name: f for name, f in options.fractions}
    return data


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
