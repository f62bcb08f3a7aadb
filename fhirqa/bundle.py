"""Reading FHIR R4 bundles into patient records (Synthea output, carebundle, bulk-export ndjson).

A record file is a ``Bundle`` (any type: Synthea's and carebundle's are transactions) or a ``.ndjson``
file with one resource per line. Each kept resource becomes a :class:`~fhirqa.model.RecordItem` with id
``ResourceType/id``: the resource's ``id``, else the last part of its entry's ``fullUrl`` (``urn:uuid:…``
in transaction bundles). Only clinical types are kept (billing, provenance and directory resources
are not what patients ask about). A MedicationRequest's ``medicationReference`` to a Medication in the
same file is inlined as ``medicationCodeableConcept`` (in the item's copy of the resource), so an item
names its drug on its own.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fhirqa.model import PatientRecord, RecordItem
from fhirqa.render import Resource, render, resource_date
from harness.errors import InputError, Problem

logger = logging.getLogger(__name__)

#: Resource types kept in a record, by default.
CLINICAL_TYPES: tuple[str, ...] = (
    "Encounter",
    "Condition",
    "Observation",
    "MedicationRequest",
    "MedicationStatement",
    "AllergyIntolerance",
    "Procedure",
    "Immunization",
    "DiagnosticReport",
    "CarePlan",
)
BUNDLE_SUFFIXES = (".json", ".ndjson")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


def record_id_for(path: str | Path) -> str:
    """A record id from a file name (``Jane_Doe_1f2e.json`` → ``Jane_Doe_1f2e``)."""
    return _SAFE_ID.sub("_", Path(path).name.removesuffix(".ndjson").removesuffix(".json")).strip("_") or "record"


def read_entries(path: str | Path) -> list[tuple[str | None, Resource]]:
    """``(fullUrl, resource)`` pairs of a bundle file, or ``(None, resource)`` per line of an ndjson file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.one(f"cannot read ({exc})", file=path) from None
    if path.suffix == ".ndjson":
        out: list[tuple[str | None, Resource]] = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                out.append((None, _object(_json(line, path, f"line {number}"), path, f"line {number}")))
        return out
    return bundle_entries(_json(text, path, None), path)


def bundle_entries(data: Any, path: str | Path | None = None) -> list[tuple[str | None, Resource]]:
    """``(fullUrl, resource)`` pairs of a parsed Bundle (or ``[(None, resource)]`` for a single resource)."""
    data = _object(data, path, None)
    if data.get("resourceType") != "Bundle":
        return [(None, data)]
    entries = []
    for i, entry in enumerate(data.get("entry") or ()):
        entry = _object(entry, path, f"entry[{i}]")
        resource = entry.get("resource")
        if resource is None:
            continue
        full_url = entry.get("fullUrl")
        entries.append((full_url if isinstance(full_url, str) else None, _object(resource, path, f"entry[{i}]")))
    return entries


def _json(text: str, path: str | Path | None, where: str | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.one(f"not JSON ({exc})", file=path, field=where) from None


def _object(value: Any, path: str | Path | None, where: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError.one("expected a JSON object (a FHIR resource or Bundle)", file=path, field=where)
    return value


def resource_key(full_url: str | None, resource: Resource) -> str | None:
    """``ResourceType/id`` of a resource, from its ``id`` or its entry's ``fullUrl``."""
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return None
    rid = resource.get("id")
    if not (isinstance(rid, str) and rid):
        rid = full_url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1] if full_url else None
    return f"{rtype}/{rid}" if rid else None


def record_from_entries(
    record_id: str,
    entries: Sequence[tuple[str | None, Resource]],
    *,
    types: Iterable[str] = CLINICAL_TYPES,
    source: str | None = None,
) -> PatientRecord:
    """A record from bundle entries; ids must be unique among the kept resources."""
    wanted = set(types)
    index: dict[str, Resource] = {}
    keys: list[str | None] = []
    for full_url, resource in entries:
        key = resource_key(full_url, resource)
        keys.append(key)
        if key:
            index[key] = resource
        if full_url:
            index[full_url] = resource

    def resolve(reference: str) -> Resource | None:
        return index.get(reference)

    items: list[RecordItem] = []
    seen: set[str] = set()
    problems: list[Problem] = []
    patient = None
    for i, ((_, resource), key) in enumerate(zip(entries, keys, strict=True)):
        rtype = resource.get("resourceType")
        if rtype == "Patient" and patient is None:
            patient = resource
        if rtype not in wanted:
            continue
        if key is None:
            problems.append(Problem(f"{rtype} has neither an id nor a fullUrl", source, record_id, f"entry[{i}]"))
            continue
        if key in seen:
            problems.append(Problem(f"resource {key} occurs twice", source, record_id, f"entry[{i}]"))
            continue
        seen.add(key)
        resource = _inline_medication(resource, resolve)
        items.append(RecordItem(key, str(rtype), render(resource), resource_date(resource), resource))
    if problems:
        raise InputError(problems)
    if patient is None:
        logger.warning("%s: no Patient resource (is this a Synthea hospital/practitioner file?)", source or record_id)
    return PatientRecord(record_id, tuple(items), patient, source)


def _inline_medication(resource: Resource, resolve: Callable[[str], Resource | None]) -> Resource:
    ref = resource.get("medicationReference")
    if "medicationCodeableConcept" in resource or not isinstance(ref, Mapping) or not ref.get("reference"):
        return resource
    target = resolve(str(ref["reference"]))
    if target is None or not isinstance(target.get("code"), Mapping):
        return resource
    return {**resource, "medicationCodeableConcept": target["code"]}


def load_record(
    path: str | Path, *, record_id: str | None = None, types: Iterable[str] = CLINICAL_TYPES
) -> PatientRecord:
    """Read one bundle (or ndjson) file into a record named ``record_id`` (default: from the file name)."""
    path = Path(path)
    return record_from_entries(record_id or record_id_for(path), read_entries(path), types=types, source=str(path))


def bundle_files(folder: str | Path) -> list[Path]:
    """The bundle files of a folder (``*.json``, ``*.ndjson``), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError.one("no such folder of FHIR bundles", file=folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in BUNDLE_SUFFIXES)


def load_records(
    folder: str | Path, *, types: Iterable[str] = CLINICAL_TYPES, patients_only: bool = True
) -> dict[str, PatientRecord]:
    """Every record of a folder, by record id; with ``patients_only``, files without a Patient are skipped
    (Synthea writes hospital and practitioner bundles next to the patients')."""
    records: dict[str, PatientRecord] = {}
    for path in bundle_files(folder):
        record = load_record(path, types=types)
        if patients_only and record.patient is None:
            logger.info("skipping %s: no Patient resource", path)
            continue
        if record.record_id in records:
            raise InputError.one(f"two files give record id {record.record_id}", file=path)
        records[record.record_id] = record
    return records
