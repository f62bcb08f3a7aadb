"""Questions generated from a record: the wording, the relevant resource ids and the reference answer.

Labels are correct by construction: every question kind picks its relevant resources by a rule over
the record (a LOINC code and the latest date, an active status, a condition family), and the reference
answer states facts (values, names, dates) rendered by the same helpers that render those resources, so
each fact's text occurs in the resource it is attributed to (:class:`~fhirqa.model.Fact`). Questions whose
answer is an absence ("No allergies are recorded") have no relevant resource.

The rules read generic FHIR R4 (LOINC codes, ICD-10 or SNOMED conditions matched by code prefix or
keyword), so they work on Synthea bundles as on the synthetic ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fhirqa.model import Fact, FhirQuestion, PatientRecord, RecordItem
from fhirqa.render import codes_of, component_texts, concept_text, medication_name, value_text

#: Lay names of common LOINC codes (labs and vital signs); other codes use their display text.
LOINC_NAMES: dict[str, str] = {
    "2951-2": "sodium",
    "2823-3": "potassium",
    "2075-0": "chloride",
    "2028-9": "carbon dioxide (bicarbonate)",
    "17861-6": "calcium",
    "1751-7": "albumin",
    "3094-0": "urea nitrogen (BUN)",
    "6299-2": "urea nitrogen (BUN)",
    "2160-0": "creatinine",
    "38483-4": "creatinine",
    "33914-3": "eGFR",
    "62238-1": "eGFR",
    "98979-8": "eGFR",
    "2345-7": "glucose",
    "2339-0": "glucose",
    "1558-6": "fasting glucose",
    "1742-6": "ALT",
    "1920-8": "AST",
    "6768-6": "alkaline phosphatase",
    "1975-2": "total bilirubin",
    "718-7": "hemoglobin",
    "4544-3": "hematocrit",
    "789-8": "red blood cell count",
    "6690-2": "white blood cell count",
    "777-3": "platelet count",
    "2093-3": "total cholesterol",
    "2085-9": "HDL cholesterol",
    "13457-7": "LDL cholesterol",
    "18262-6": "LDL cholesterol",
    "2089-1": "LDL cholesterol",
    "2571-8": "triglycerides",
    "4548-4": "hemoglobin A1c",
    "9318-7": "urine albumin-to-creatinine ratio",
    "14957-5": "urine microalbumin",
    "8302-2": "height",
    "29463-7": "weight",
    "39156-5": "BMI",
    "8867-4": "heart rate",
    "9279-1": "breathing rate",
    "8310-5": "body temperature",
    "59408-5": "oxygen saturation",
    "2708-6": "oxygen saturation",
    "85354-9": "blood pressure",
    "55284-4": "blood pressure",
}


@dataclass(frozen=True)
class Panel:
    """A group of tests asked about together."""

    key: str
    codes: frozenset[str]
    lay: str  # "cholesterol results"
    clinical: str  # "lipid panel"


PANELS: tuple[Panel, ...] = (
    Panel(
        "lipids",
        frozenset({"2093-3", "2085-9", "13457-7", "18262-6", "2089-1", "2571-8"}),
        "cholesterol results",
        "lipid panel",
    ),
    Panel(
        "kidney",
        frozenset({"2160-0", "38483-4", "33914-3", "62238-1", "98979-8", "3094-0", "6299-2"}),
        "kidney function tests",
        "renal function tests",
    ),
    Panel(
        "blood_count", frozenset({"718-7", "4544-3", "789-8", "6690-2", "777-3"}), "blood count", "complete blood count"
    ),
    Panel("liver", frozenset({"1742-6", "1920-8", "6768-6", "1975-2"}), "liver tests", "liver function tests"),
)


@dataclass(frozen=True)
class ConditionFamily:
    """A condition as patients name it, recognised by ICD-10 code prefix or keyword."""

    lay: str
    prefixes: tuple[str, ...]
    keywords: tuple[str, ...]

    def matches(self, item: RecordItem) -> bool:
        text = (concept_text(item.resource.get("code")) or "").lower()
        codes = codes_of(item.resource.get("code"))
        return any(c.startswith(self.prefixes) for c in codes) or any(k in text for k in self.keywords)


CONDITION_FAMILIES: tuple[ConditionFamily, ...] = (
    ConditionFamily("type 2 diabetes", ("E11",), ("type 2 diabetes", "diabetes mellitus type 2")),
    ConditionFamily("high blood pressure", ("I10",), ("hypertension",)),
    ConditionFamily("high cholesterol", ("E78",), ("hyperlipidemia", "hypercholesterolemia")),
    ConditionFamily("obesity", ("E66",), ("obesity",)),
    ConditionFamily("chronic kidney disease", ("N18",), ("chronic kidney disease",)),
    ConditionFamily("anemia", ("D50", "D51", "D52", "D53", "D63", "D64"), ("anemia", "anaemia")),
    ConditionFamily("coronary artery disease", ("I25",), ("coronary", "atherosclerotic heart")),
    ConditionFamily("heart failure", ("I50",), ("heart failure",)),
    ConditionFamily("an underactive thyroid", ("E03",), ("hypothyroid",)),
    ConditionFamily("asthma", ("J45",), ("asthma",)),
    ConditionFamily("COPD", ("J44",), ("obstructive pulmonary", "copd")),
    ConditionFamily("atrial fibrillation", ("I48",), ("atrial fibrillation",)),
    ConditionFamily("gout", ("M10", "M1A"), ("gout",)),
    ConditionFamily("migraine", ("G43",), ("migraine",)),
    ConditionFamily("osteoporosis", ("M80", "M81"), ("osteoporosis",)),
    ConditionFamily("depression", ("F32", "F33"), ("depress",)),
)

_ACTIVE = {"active", "recurrence", "relapse"}


@dataclass(frozen=True)
class Draft:
    """A generated question before it gets its id."""

    category: str
    question: str
    clinician_question: str
    relevant: tuple[RecordItem, ...]
    answer: str
    facts: tuple[Fact, ...]


Builder = Callable[[random.Random], Draft]


# ----------------------------------------------------------------------------- helpers


def loinc_key(item: RecordItem) -> str | None:
    """The first code of an Observation (LOINC in practice), as the test's identity."""
    codes = sorted(codes_of(item.resource.get("code")))
    return codes[0] if codes else concept_text(item.resource.get("code"))


def test_name(item: RecordItem) -> str:
    for code in sorted(codes_of(item.resource.get("code"))):
        if code in LOINC_NAMES:
            return LOINC_NAMES[code]
    text = concept_text(item.resource.get("code")) or "test"
    return text.split(" [", 1)[0].split(" in Serum", 1)[0].lower()


def _observation_value(item: RecordItem) -> tuple[str, list[str]] | None:
    """The value phrase of an observation and the fact strings it contains."""
    value = value_text(item.resource)
    if value:
        return value, [value]
    comps = component_texts(item.resource)
    if comps:
        return ", ".join(f"{name.lower()} {v}" for name, v in comps), [v for _, v in comps]
    return None


def _is_vital(item: RecordItem) -> bool:
    categories = {(concept_text(c) or "").lower() for c in item.resource.get("category") or ()}
    codes = {c for cat in item.resource.get("category") or () for c in codes_of(cat)}
    return "vital-signs" in codes or "vital signs" in categories


def _latest(items: Sequence[RecordItem]) -> list[RecordItem]:
    """The items with the latest date (all of them when none has a date)."""
    dated = [i.date for i in items if i.date]
    if not dated:
        return list(items)
    last = max(dated)
    return [i for i in items if i.date == last]


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _status_is_active(item: RecordItem) -> bool:
    status = item.resource.get("status")
    if isinstance(status, str):
        return status == "active"
    clinical = concept_text(item.resource.get("clinicalStatus"))
    codes = codes_of(item.resource.get("clinicalStatus"))
    return clinical is None or bool(codes & _ACTIVE) or clinical.lower() in _ACTIVE


# ----------------------------------------------------------------------------- question kinds


def _observation_builders(record: PatientRecord, vitals: bool) -> list[Builder]:
    by_code: dict[str, list[RecordItem]] = {}
    for item in record.of_type("Observation"):
        key = loinc_key(item)
        if key and _is_vital(item) == vitals and _observation_value(item):
            by_code.setdefault(key, []).append(item)
    return [_observation_builder(items, vitals) for _, items in sorted(by_code.items())]


def _observation_builder(items: list[RecordItem], vitals: bool) -> Builder:
    def build(rng: random.Random) -> Draft:
        latest = _latest(items)
        name = test_name(latest[0])
        phrases = [_observation_value(i) for i in latest]
        values = [p[0] for p in phrases if p]
        facts = tuple(Fact(i.id, f) for i, p in zip(latest, phrases, strict=True) if p for f in p[1])
        when = f" on {latest[0].date}" if latest[0].date else ""
        answer = f"Your most recent {name} was {_join(values)}{when}."
        wordings = (
            [f"What was my {name} at my last check?", f"What is my {name}?", f"Can you tell me my latest {name}?"]
            if vitals
            else [f"What was my {name} result?", f"What did my {name} test show?", f"What is my latest {name} level?"]
        )
        return Draft(
            "vital" if vitals else "lab",
            rng.choice(wordings),
            f"What is the patient's most recent {name}?",
            tuple(latest),
            answer,
            facts,
        )

    return build


def _panel_builders(record: PatientRecord) -> list[Builder]:
    builders = []
    for panel in PANELS:
        members: dict[str, list[RecordItem]] = {}
        for item in record.of_type("Observation"):
            key = loinc_key(item)
            if key in panel.codes and value_text(item.resource):
                members.setdefault(test_name(item), []).append(item)
        if len(members) >= 2:
            builders.append(_panel_builder(panel, members))
    return builders


def _panel_builder(panel: Panel, members: dict[str, list[RecordItem]]) -> Builder:
    def build(rng: random.Random) -> Draft:
        relevant: list[RecordItem] = []
        parts, facts = [], []
        for name, items in members.items():
            for item in _latest(items):
                value = value_text(item.resource) or ""
                relevant.append(item)
                parts.append(f"{name} {value}")
                facts.append(Fact(item.id, value))
        wordings = [f"What were my {panel.lay}?", f"How did my {panel.lay} look?", f"Can you explain my {panel.lay}?"]
        return Draft(
            "panel",
            rng.choice(wordings),
            f"What are the results of the patient's most recent {panel.clinical}?",
            tuple(relevant),
            f"Your most recent {panel.lay}: {_join(parts)}.",
            tuple(facts),
        )

    return build


def _conditions_builder(record: PatientRecord) -> list[Builder]:
    active = [i for i in record.of_type("Condition") if _status_is_active(i)]

    def build(rng: random.Random) -> Draft:
        names = [concept_text(i.resource.get("code")) or "a condition" for i in active]
        wordings = [
            "What conditions do I have?",
            "What health problems are listed in my record?",
            "What have I been diagnosed with?",
        ]
        answer = (
            f"Your record lists these active conditions: {'; '.join(names)}."
            if active
            else "No active conditions are recorded in your record."
        )
        return Draft(
            "conditions",
            rng.choice(wordings),
            "What are the patient's active diagnoses?",
            tuple(active),
            answer,
            tuple(Fact(i.id, n) for i, n in zip(active, names, strict=True)),
        )

    return [build]


def _family_of(item: RecordItem) -> ConditionFamily | None:
    return next((f for f in CONDITION_FAMILIES if f.matches(item)), None)


def _condition_check_builders(record: PatientRecord) -> tuple[list[Builder], list[Builder]]:
    """(present, absent) condition questions."""
    conditions = record.of_type("Condition")
    active = [i for i in conditions if _status_is_active(i)]
    present: dict[str, list[RecordItem]] = {}
    for item in active:
        family = _family_of(item)
        lay = family.lay if family else (concept_text(item.resource.get("code")) or "").lower()
        if lay:
            members = [i for i in active if family.matches(i)] if family else [item]
            present.setdefault(lay, members)
    absent = [f for f in CONDITION_FAMILIES if not any(f.matches(i) for i in conditions)]

    def positive(lay: str, members: list[RecordItem]) -> Builder:
        def build(rng: random.Random) -> Draft:
            names = [concept_text(i.resource.get("code")) or lay for i in members]
            return Draft(
                "condition_present",
                rng.choice(_condition_wordings(lay)),
                f"Does the patient have a documented diagnosis of {lay}?",
                tuple(members),
                f"Yes. Your record lists {_join(names)} as active.",
                tuple(Fact(i.id, n) for i, n in zip(members, names, strict=True)),
            )

        return build

    def negative(family: ConditionFamily) -> Builder:
        def build(rng: random.Random) -> Draft:
            return Draft(
                "condition_absent",
                rng.choice(_condition_wordings(family.lay)),
                f"Does the patient have a documented diagnosis of {family.lay}?",
                (),
                f"No. Your record does not list {family.lay}.",
                (),
            )

        return build

    return [positive(lay, m) for lay, m in sorted(present.items())], [negative(f) for f in absent]


def _condition_wordings(lay: str) -> list[str]:
    return [f"Do I have {lay}?", f"Was I diagnosed with {lay}?", f"Does my record say I have {lay}?"]


def _list_builder(
    record: PatientRecord,
    category: str,
    types: tuple[str, ...],
    name_of: Callable[[RecordItem], str | None],
    wordings: list[str],
    clinician: str,
    present: str,
    empty: str,
) -> list[Builder]:
    items = [i for i in record.of_type(*types) if _status_is_active(i) and name_of(i)]

    def build(rng: random.Random) -> Draft:
        names = [name_of(i) or "" for i in items]
        answer = present.format("; ".join(names)) if items else empty
        facts = tuple(Fact(i.id, n) for i, n in zip(items, names, strict=True))
        return Draft(category, rng.choice(wordings), clinician, tuple(items), answer, facts)

    return [build]


def _visit_builder(record: PatientRecord) -> list[Builder]:
    visits = [i for i in record.of_type("Encounter") if i.date]
    if not visits:
        return []

    def build(rng: random.Random) -> Draft:
        latest = _latest(visits)
        kinds = [next((concept_text(t) for t in i.resource.get("type") or () if concept_text(t)), None) for i in latest]
        shown = [k for k in kinds if k]
        answer = f"Your most recent visit was on {latest[0].date}" + (f": {_join(shown)}." if shown else ".")
        facts = [Fact(i.id, latest[0].date or "") for i in latest]
        facts += [Fact(i.id, k) for i, k in zip(latest, kinds, strict=True) if k]
        wordings = [
            "When was my last visit?",
            "When did I last see the doctor?",
            "When was my most recent appointment?",
        ]
        return Draft(
            "last_visit",
            rng.choice(wordings),
            "When was the patient's most recent encounter?",
            tuple(latest),
            answer,
            tuple(facts),
        )

    return [build]


def question_kinds(record: PatientRecord) -> dict[str, list[Builder]]:
    """Every question kind this record supports, with one builder per instance (test, condition …)."""
    present, absent = _condition_check_builders(record)
    kinds = {
        "lab": _observation_builders(record, vitals=False),
        "vital": _observation_builders(record, vitals=True),
        "panel": _panel_builders(record),
        "conditions": _conditions_builder(record),
        "condition_present": present,
        "condition_absent": absent,
        "medications": _list_builder(
            record,
            "medications",
            ("MedicationRequest", "MedicationStatement"),
            lambda i: medication_name(i.resource),
            ["What medications am I taking?", "What medicines was I prescribed?", "Which drugs am I on?"],
            "What are the patient's active medications?",
            "Your record lists these active medications: {}.",
            "No active medications are recorded in your record.",
        ),
        "allergies": _list_builder(
            record,
            "allergies",
            ("AllergyIntolerance",),
            lambda i: concept_text(i.resource.get("code")),
            ["Do I have any allergies?", "Am I allergic to anything?", "What allergies are on my record?"],
            "What allergies or intolerances are documented for the patient?",
            "Your record lists these allergies: {}.",
            "No allergies are recorded in your record.",
        ),
        "last_visit": _visit_builder(record),
    }
    return {k: v for k, v in kinds.items() if v}


def generate_questions(record: PatientRecord, rng: random.Random, count: int) -> list[FhirQuestion]:
    """``count`` questions of distinct kinds (as many as the record supports), ids ``<record>-q<k>``."""
    kinds = question_kinds(record)
    chosen = rng.sample(sorted(kinds), min(count, len(kinds)))
    order = {item_id: n for n, item_id in enumerate(record.item_ids())}
    out = []
    for k, kind in enumerate(chosen, 1):
        draft = rng.choice(kinds[kind])(rng)
        relevant = sorted({i.id for i in draft.relevant}, key=order.__getitem__)
        out.append(
            FhirQuestion(
                question_id=f"{record.record_id}-q{k}",
                record_id=record.record_id,
                question=draft.question,
                clinician_question=draft.clinician_question,
                category=draft.category,
                relevant_ids=tuple(relevant),
                answer=draft.answer,
                facts=draft.facts,
            )
        )
    return out
