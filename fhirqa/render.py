"""One line of text per FHIR resource: what systems read, and what reference answers quote.

The question generator states facts with the same helpers (:func:`format_quantity`, :func:`concept_text`,
:func:`resource_date`), so a value in a reference answer is, character for character, the value in the
rendered resource it comes from.

Examples::

    Observation (laboratory, 2026-01-01): Sodium [Moles/volume] in Serum or Plasma: 146 mmol/L
    Condition (active, onset 2019-04-02): Chronic kidney disease, stage 3b
    Medication request (active, 2026-01-01): amlodipine 5 MG Oral Tablet
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Resource = Mapping[str, Any]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_SPACE = re.compile(r"\s+")

#: Where each resource type keeps its clinically meaningful date, in order of preference.
DATE_FIELDS: dict[str, tuple[str, ...]] = {
    "Observation": ("effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued"),
    "Condition": ("onsetDateTime", "onsetPeriod.start", "recordedDate"),
    "MedicationRequest": ("authoredOn",),
    "MedicationStatement": ("effectiveDateTime", "effectivePeriod.start", "dateAsserted"),
    "AllergyIntolerance": ("onsetDateTime", "recordedDate"),
    "Encounter": ("period.start",),
    "Procedure": ("performedDateTime", "performedPeriod.start"),
    "Immunization": ("occurrenceDateTime",),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod.start", "issued"),
    "CarePlan": ("period.start",),
}

_LABELS = {
    "MedicationRequest": "Medication request",
    "MedicationStatement": "Medication statement",
    "AllergyIntolerance": "Allergy",
    "DiagnosticReport": "Diagnostic report",
    "CarePlan": "Care plan",
}


def one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _get(resource: Resource, path: str) -> Any:
    value: Any = resource
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def concept_text(concept: Any) -> str | None:
    """A CodeableConcept's text, else its first coding's display, else its first code."""
    if not isinstance(concept, Mapping):
        return None
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return one_line(concept["text"])
    for coding in concept.get("coding") or ():
        if isinstance(coding, Mapping) and isinstance(coding.get("display"), str) and coding["display"].strip():
            return one_line(coding["display"])
    for coding in concept.get("coding") or ():
        if isinstance(coding, Mapping) and coding.get("code"):
            return str(coding["code"])
    return None


def codes_of(concept: Any) -> set[str]:
    """The codes of a CodeableConcept (any system)."""
    if not isinstance(concept, Mapping):
        return set()
    return {str(c["code"]) for c in concept.get("coding") or () if isinstance(c, Mapping) and c.get("code")}


def format_number(value: Any) -> str:
    """``146`` → "146", ``81.5`` → "81.5", ``32.0`` → "32"."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def format_quantity(quantity: Any) -> str | None:
    """A Quantity as "146 mmol/L" (value, then its unit or UCUM code)."""
    if not isinstance(quantity, Mapping) or quantity.get("value") is None:
        return None
    unit = quantity.get("unit") or quantity.get("code") or ""
    comparator = quantity.get("comparator") or ""
    return one_line(f"{comparator}{format_number(quantity['value'])} {unit}")


def iso_date(value: Any) -> str | None:
    """The ``YYYY-MM-DD`` part of a FHIR date or dateTime."""
    if isinstance(value, str) and _DATE.match(value):
        return value[:10]
    return None


def resource_date(resource: Resource) -> str | None:
    for path in DATE_FIELDS.get(str(resource.get("resourceType")), ("effectiveDateTime", "period.start")):
        found = iso_date(_get(resource, path))
        if found:
            return found
    return None


def value_text(element: Resource) -> str | None:
    """The ``value[x]`` of an Observation or one of its components, as text."""
    if "valueQuantity" in element:
        return format_quantity(element["valueQuantity"])
    if "valueCodeableConcept" in element:
        return concept_text(element["valueCodeableConcept"])
    for key in ("valueString", "valueInteger", "valueBoolean", "valueDateTime"):
        if key in element:
            return one_line(format_number(element[key]))
    return None


def component_texts(resource: Resource) -> list[tuple[str, str]]:
    """(name, value) of each Observation component that has both."""
    out = []
    for comp in resource.get("component") or ():
        if isinstance(comp, Mapping):
            name, value = concept_text(comp.get("code")), value_text(comp)
            if name and value:
                out.append((name, value))
    return out


def medication_name(resource: Resource) -> str | None:
    """The medication of a MedicationRequest/Statement: its concept, else its reference's display
    (:mod:`fhirqa.bundle` inlines references to Medication resources of the same bundle)."""
    name = concept_text(resource.get("medicationCodeableConcept"))
    if name:
        return name
    ref = resource.get("medicationReference")
    if isinstance(ref, Mapping) and isinstance(ref.get("display"), str) and ref["display"].strip():
        return one_line(ref["display"])
    return None


def _status(resource: Resource) -> str | None:
    status = resource.get("status")
    if isinstance(status, str):
        return status
    return concept_text(resource.get("clinicalStatus"))


def _head(label: str, *details: str | None) -> str:
    shown = [d for d in details if d]
    return f"{label} ({', '.join(shown)})" if shown else label


def render(resource: Resource) -> str:
    """The one-line text of ``resource``."""
    rtype = str(resource.get("resourceType") or "Resource")
    date = resource_date(resource)
    status = _status(resource)
    if rtype == "Observation":
        category = next((concept_text(c) for c in resource.get("category") or () if concept_text(c)), None)
        name = concept_text(resource.get("code")) or "observation"
        parts = [p for p in [value_text(resource)] if p]
        parts += [f"{n} {v}" for n, v in component_texts(resource)]
        body = f"{name}: {'; '.join(parts)}" if parts else name
        return one_line(f"{_head('Observation', category and category.lower(), date)}: {body}")
    if rtype == "Condition":
        onset = f"onset {date}" if date else None
        return one_line(f"{_head('Condition', status, onset)}: {concept_text(resource.get('code')) or 'condition'}")
    if rtype in ("MedicationRequest", "MedicationStatement"):
        body = medication_name(resource) or "medication"
        dosage = next(
            (
                d.get("text")
                for d in resource.get("dosageInstruction") or resource.get("dosage") or ()
                if isinstance(d, Mapping) and d.get("text")
            ),
            None,
        )
        return one_line(f"{_head(_LABELS[rtype], status, date)}: {body}" + (f"; {dosage}" if dosage else ""))
    if rtype == "AllergyIntolerance":
        criticality = resource.get("criticality")
        body = concept_text(resource.get("code")) or "allergy"
        reactions = [
            concept_text(m)
            for r in resource.get("reaction") or ()
            if isinstance(r, Mapping)
            for m in r.get("manifestation") or ()
        ]
        shown = [r for r in reactions if r]
        extra = f"; reaction: {', '.join(shown)}" if shown else ""
        return one_line(f"{_head('Allergy', status, criticality and f'{criticality} criticality')}: {body}{extra}")
    if rtype == "Encounter":
        kind = next((concept_text(t) for t in resource.get("type") or () if concept_text(t)), None)
        kind = kind or _get(resource, "class.display") or _get(resource, "class.code") or "encounter"
        reason = next((concept_text(r) for r in resource.get("reasonCode") or () if concept_text(r)), None)
        return one_line(f"{_head('Encounter', status, date)}: {kind}" + (f"; reason: {reason}" if reason else ""))
    if rtype == "DiagnosticReport":
        n = len(resource.get("result") or ())
        body = concept_text(resource.get("code")) or "report"
        return one_line(f"{_head(_LABELS[rtype], status, date)}: {body}" + (f" ({n} results)" if n else ""))
    if rtype == "Immunization":
        return one_line(
            f"{_head('Immunization', status, date)}: {concept_text(resource.get('vaccineCode')) or 'vaccine'}"
        )
    if rtype == "CarePlan":
        body = next((concept_text(c) for c in resource.get("category") or () if concept_text(c)), None) or "care plan"
        return one_line(f"{_head(_LABELS[rtype], status, date)}: {body}")
    body = concept_text(resource.get("code")) or rtype
    return one_line(f"{_head(_LABELS.get(rtype, rtype), status, date)}: {body}")
