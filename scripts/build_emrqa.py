"""Build the packaged synthetic emrQA-MedSQuAD-style corpus (stdlib only, seeded, byte-reproducible).

Every note, name, date and value is invented from templates; nothing comes from emrQA or n2c2.
Answer offsets are computed while each note is assembled, so every span is correct by construction.

    python scripts/build_emrqa.py                       # rebuild the shipped files
    python scripts/build_emrqa.py --out /tmp/x.json     # also writes /tmp/DATA_CARD.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SEED = 20240617
DEFAULT_NOTES = 124
DEFAULT_OUT = (
    Path(__file__).resolve().parent.parent
    / "systems"
    / "qunlp"
    / "generator"
    / "synthetic_emrqa"
    / "emrqa-medsquad-synthetic.json"
)
CARD_NAME = "DATA_CARD.md"
UNANSWERABLE_RATE = 0.55  # chance per note of one unanswerable question (about 10% of all questions)

# --------------------------------------------------------------------------------------------------------------------
# Invented vocabularies
# --------------------------------------------------------------------------------------------------------------------

# fmt: off
FIRST_NAMES = {
    "F": [
        "Alma", "Beatrix", "Corinne", "Delphine", "Edith", "Fern", "Greta", "Hollis", "Imogen", "Juniper",
        "Lorna", "Marisol", "Noreen", "Odette", "Philippa", "Rosalind", "Sabine", "Tamsin", "Ursula", "Verity",
    ],
    "M": [
        "Alden", "Bertram", "Cormac", "Desmond", "Emory", "Fitz", "Gideon", "Horatio", "Ignatius", "Jasper",
        "Lucius", "Mordecai", "Nestor", "Osric", "Percival", "Quill", "Rufus", "Silas", "Thaddeus", "Wendell",
    ],
}
LAST_NAMES = [
    "Ashgrove", "Brackwell", "Calloway", "Dunmore", "Elsworth", "Fairbank", "Greystone", "Hollowell", "Ivesdale",
    "Jessup", "Kettleby", "Larkspur", "Merriweather", "Northcott", "Oakhurst", "Pemberton", "Quarrington", "Redfern",
    "Stillwater", "Thistlewood", "Underhill", "Vantongeren", "Whitlock", "Yarborough", "Zellweger",
]
DOCTORS = [
    "Abernathy", "Okonkwo", "Varga", "Lindqvist", "Moreau", "Takahashi", "Reyes", "Kowalczyk",
    "Haddad", "Brennan", "Sato", "Oyelaran", "Petrakis", "Nakamura", "Delacroix", "Fairweather",
]
# fmt: on
PRONOUNS = {"F": ("she", "her", "woman", "Ms."), "M": ("he", "his", "man", "Mr.")}


@dataclass(frozen=True)
class HomeMed:
    condition: str
    drug: str
    doses: tuple[str, ...]
    route: str
    frequency: str
    sex: str | None = None  # only for this sex


HOME_MEDS = [
    HomeMed("hypertension", "lisinopril", ("10 mg", "20 mg", "40 mg"), "by mouth", "daily"),
    HomeMed("hypertension", "amlodipine", ("5 mg", "10 mg"), "by mouth", "daily"),
    HomeMed("hypertension", "metoprolol tartrate", ("25 mg", "50 mg"), "by mouth", "twice daily"),
    HomeMed("hyperlipidemia", "atorvastatin", ("20 mg", "40 mg", "80 mg"), "by mouth", "at bedtime"),
    HomeMed("hyperlipidemia", "rosuvastatin", ("10 mg", "20 mg"), "by mouth", "daily"),
    HomeMed("type 2 diabetes mellitus", "metformin", ("500 mg", "1000 mg"), "by mouth", "twice daily"),
    HomeMed("type 2 diabetes mellitus", "glipizide", ("5 mg", "10 mg"), "by mouth", "daily with breakfast"),
    HomeMed(
        "hypothyroidism",
        "levothyroxine",
        ("50 mcg", "75 mcg", "100 mcg", "125 mcg"),
        "by mouth",
        "daily before breakfast",
    ),
    HomeMed("gastroesophageal reflux disease", "omeprazole", ("20 mg", "40 mg"), "by mouth", "daily"),
    HomeMed("depression", "sertraline", ("50 mg", "100 mg"), "by mouth", "daily"),
    HomeMed("depression", "escitalopram", ("10 mg", "20 mg"), "by mouth", "daily"),
    HomeMed("benign prostatic hyperplasia", "tamsulosin", ("0.4 mg",), "by mouth", "at bedtime", sex="M"),
    HomeMed("peripheral neuropathy", "gabapentin", ("300 mg", "600 mg"), "by mouth", "three times daily"),
    HomeMed("coronary artery disease", "aspirin", ("81 mg",), "by mouth", "daily"),
    HomeMed("osteoporosis", "alendronate", ("70 mg",), "by mouth", "once weekly"),
    HomeMed("gout", "allopurinol", ("100 mg", "300 mg"), "by mouth", "daily"),
    HomeMed("asthma", "fluticasone-salmeterol", ("250/50 mcg",), "inhaled", "twice daily"),
    HomeMed("chronic insomnia", "trazodone", ("50 mg",), "by mouth", "at bedtime as needed"),
    HomeMed("generalized anxiety disorder", "buspirone", ("10 mg", "15 mg"), "by mouth", "twice daily"),
    HomeMed("glaucoma", "latanoprost", ("0.005% one drop",), "in each eye", "at bedtime"),
    HomeMed("migraine", "topiramate", ("25 mg", "50 mg"), "by mouth", "twice daily"),
    HomeMed("chronic low back pain", "acetaminophen", ("650 mg", "1000 mg"), "by mouth", "every 8 hours as needed"),
]
HISTORY_ONLY = [
    "chronic kidney disease stage 3",
    "obstructive sleep apnea",
    "osteoarthritis of both knees",
    "iron deficiency anemia",
    "diverticulosis",
    "remote nephrolithiasis",
]

PAST_PROCEDURES = [  # (name, with article, detail templates)
    (
        "colonoscopy",
        "a colonoscopy",
        [
            "colonoscopy in {year} that showed two small tubular adenomas",
            "colonoscopy in {year} that was normal",
            "colonoscopy in {year} that showed sigmoid diverticulosis",
        ],
    ),
    ("appendectomy", "an appendectomy", ["appendectomy in {year}", "laparoscopic appendectomy in {year}"]),
    ("cholecystectomy", "a cholecystectomy", ["laparoscopic cholecystectomy in {year} for symptomatic gallstones"]),
    (
        "total knee replacement",
        "a total knee replacement",
        ["right total knee replacement in {year}", "left total knee replacement in {year}"],
    ),
    ("cataract surgery", "cataract surgery", ["bilateral cataract surgery in {year}"]),
    (
        "hernia repair",
        "a hernia repair",
        ["open inguinal hernia repair in {year}", "umbilical hernia repair in {year}"],
    ),
    ("tonsillectomy", "a tonsillectomy", ["tonsillectomy in childhood"]),
    ("hysterectomy", "a hysterectomy", ["hysterectomy in {year} for uterine fibroids"]),
    ("carpal tunnel release", "a carpal tunnel release", ["right carpal tunnel release in {year}"]),
]
SMOKING = [
    "never smoker",
    "former smoker who quit in {year} after a {packs} pack-year history",
    "current smoker with a {packs} pack-year history",
    "smokes about half a pack of cigarettes per day",
]
ALCOHOL = [
    "denies alcohol use",
    "drinks {n} glasses of wine per week",
    "drinks alcohol socially",
    "reports {n} beers on weekends",
]
LIVING = [
    "lives with {poss} spouse",
    "lives alone",
    "lives with {poss} daughter",
    "lives in an assisted living facility",
]
ALLERGIES = [
    ("penicillin", ["hives", "rash", "anaphylaxis"]),
    ("sulfa drugs", ["rash", "hives"]),
    ("codeine", ["nausea and vomiting", "itching"]),
    ("iodinated contrast", ["hives", "throat tightness"]),
    ("latex", ["contact dermatitis"]),
    ("cephalexin", ["rash"]),
    ("morphine", ["itching", "confusion"]),
]
COMPLICATIONS = [  # (as written in the note, as named in the question, treatments)
    (
        "acute kidney injury",
        "acute kidney injury",
        ["holding nephrotoxic medications and intravenous fluids", "gentle intravenous hydration"],
    ),
    ("hypokalemia", "hypokalemia", ["oral potassium chloride repletion", "intravenous potassium repletion"]),
    ("Clostridioides difficile colitis", "C. difficile colitis", ["a 10-day course of oral vancomycin"]),
    ("urinary retention", "urinary retention", ["a Foley catheter and a voiding trial before discharge"]),
    ("hospital-acquired delirium", "delirium", ["reorientation, sleep hygiene and melatonin at night"]),
    (
        "a superficial phlebitis at the left forearm IV site",
        "phlebitis",
        ["warm compresses and removal of the catheter"],
    ),
    ("a fall without injury", "fall", ["a physical therapy evaluation and a bed alarm"]),
    ("a gout flare of the right knee", "gout flare", ["a short course of colchicine"]),
]
DISPOSITIONS = [
    "home",
    "home with visiting nurse services",
    "a skilled nursing facility",
    "an acute rehabilitation facility",
]
FOLLOW_UP_DELAYS = ["in 1 week", "in 2 weeks", "in 10 days", "in 3 weeks", "in 1 month"]


@dataclass(frozen=True)
class Drug:
    name: str
    doses: tuple[str, ...]
    route: str
    frequency: str
    indication: str


@dataclass(frozen=True)
class Lab:
    name: str
    unit: str
    low: int  # range in the smallest displayed unit (10**-decimals), integers so no float formatting
    high: int
    decimals: int = 1


@dataclass(frozen=True)
class Scenario:
    service: str
    specialty: str
    complaints: tuple[str, ...]
    admit_reason: str
    diagnosis: str
    inpatient: tuple[Drug, ...]
    discharge_new: tuple[Drug, ...]
    labs: tuple[Lab, ...]
    studies: tuple[tuple[str, tuple[str, ...]], ...]
    procedure: tuple[str, str, tuple[str, ...]] | None  # (name, with article, findings)
    improvement: str
    excludes: tuple[str, ...] = ()  # home-med conditions that would clash with this scenario


SCENARIOS = [
    Scenario(
        "cardiology",
        "cardiology",
        ("worsening shortness of breath and bilateral leg swelling", "orthopnea and a 6-pound weight gain"),
        "acute decompensated heart failure",
        "acute on chronic systolic heart failure",
        (Drug("furosemide", ("40 mg", "60 mg", "80 mg"), "intravenously", "twice daily", "volume overload"),),
        (
            Drug(
                "spironolactone",
                ("12.5 mg", "25 mg"),
                "by mouth",
                "daily",
                "heart failure with reduced ejection fraction",
            ),
        ),
        (Lab("BNP", "pg/mL", 800, 3600, 0), Lab("troponin T", "ng/mL", 1, 4, 2)),
        (
            (
                "chest x-ray",
                (
                    "bilateral pleural effusions with pulmonary vascular congestion",
                    "cardiomegaly with interstitial edema",
                ),
            ),
            (
                "echocardiogram",
                (
                    "a left ventricular ejection fraction of 25% with global hypokinesis",
                    "a left ventricular ejection fraction of 30% and moderate mitral regurgitation",
                ),
            ),
        ),
        None,
        "net diuresis of 4 liters with resolution of the leg edema",
    ),
    Scenario(
        "medicine",
        "pulmonary",
        ("fever, productive cough and pleuritic chest pain", "three days of fever and cough with rusty sputum"),
        "community-acquired pneumonia",
        "community-acquired pneumonia of the right lower lobe",
        (
            Drug("ceftriaxone", ("1 g", "2 g"), "intravenously", "daily", "community-acquired pneumonia"),
            Drug("azithromycin", ("500 mg",), "by mouth", "daily", "atypical pneumonia coverage"),
        ),
        (Drug("cefpodoxime", ("200 mg",), "by mouth", "twice daily", "completion of the antibiotic course"),),
        (Lab("white blood cell count", "K/uL", 128, 224, 1), Lab("procalcitonin", "ng/mL", 8, 64, 1)),
        (
            ("chest x-ray", ("right lower lobe consolidation", "a right lower lobe infiltrate with a small effusion")),
            ("blood cultures", ("no growth at five days",)),
        ),
        None,
        "defervescence and improved oxygenation on room air",
    ),
    Scenario(
        "gastroenterology",
        "gastroenterology",
        ("black tarry stools and lightheadedness", "two episodes of coffee-ground emesis"),
        "an upper gastrointestinal bleed",
        "upper gastrointestinal bleed from a gastric ulcer",
        (Drug("pantoprazole", ("40 mg", "80 mg"), "intravenously", "twice daily", "upper gastrointestinal bleeding"),),
        (Drug("sucralfate", ("1 g",), "by mouth", "four times daily", "mucosal protection of the gastric ulcer"),),
        (Lab("hemoglobin", "g/dL", 58, 86, 1), Lab("BUN", "mg/dL", 38, 72, 0)),
        (("Helicobacter pylori stool antigen", ("positive", "negative")),),
        (
            "upper endoscopy",
            "an upper endoscopy",
            ("a 1 cm clean-based gastric ulcer", "a 2 cm gastric ulcer with a visible vessel that was clipped"),
        ),
        "a stable hemoglobin after transfusion of 2 units of packed red blood cells",
        excludes=("coronary artery disease",),
    ),
    Scenario(
        "cardiology",
        "cardiology",
        ("substernal chest pressure radiating to the left arm", "exertional chest pain and diaphoresis"),
        "a non-ST-elevation myocardial infarction",
        "non-ST-elevation myocardial infarction",
        (
            Drug(
                "heparin", ("18 units/kg/hour",), "intravenously", "as a continuous infusion", "acute coronary syndrome"
            ),
        ),
        (Drug("clopidogrel", ("75 mg",), "by mouth", "daily", "dual antiplatelet therapy after stenting"),),
        (Lab("troponin T", "ng/mL", 4, 38, 2), Lab("LDL cholesterol", "mg/dL", 110, 190, 0)),
        (("electrocardiogram", ("ST depressions in the lateral leads", "T-wave inversions in V4 through V6")),),
        (
            "cardiac catheterization",
            "a cardiac catheterization",
            (
                "a 90% stenosis of the left anterior descending artery treated with a drug-eluting stent",
                "an 80% stenosis of the right coronary artery treated with a drug-eluting stent",
            ),
        ),
        "no recurrent chest pain after stenting",
        excludes=("coronary artery disease",),
    ),
    Scenario(
        "medicine",
        "pulmonary",
        ("increased dyspnea and wheezing", "worsening cough and shortness of breath despite inhaler use"),
        "an acute exacerbation of chronic obstructive pulmonary disease",
        "acute exacerbation of chronic obstructive pulmonary disease",
        (
            Drug("prednisone", ("40 mg",), "by mouth", "daily", "the COPD exacerbation"),
            Drug("ipratropium-albuterol", ("3 mL",), "by nebulizer", "every 6 hours", "bronchospasm"),
        ),
        (Drug("tiotropium", ("18 mcg",), "inhaled", "daily", "maintenance therapy of COPD"),),
        (Lab("arterial pCO2", "mmHg", 46, 68, 0), Lab("white blood cell count", "K/uL", 82, 146, 1)),
        (("chest x-ray", ("hyperinflation without focal consolidation", "flattened diaphragms and no infiltrate")),),
        None,
        "a return to the baseline exercise tolerance",
        excludes=("asthma",),
    ),
    Scenario(
        "medicine",
        "endocrinology",
        ("nausea, vomiting and polyuria", "abdominal pain, vomiting and confusion"),
        "diabetic ketoacidosis",
        "diabetic ketoacidosis",
        (
            Drug(
                "regular insulin",
                ("0.1 units/kg/hour",),
                "intravenously",
                "as a continuous infusion",
                "diabetic ketoacidosis",
            ),
        ),
        (Drug("insulin glargine", ("18 units", "24 units"), "subcutaneously", "at bedtime", "glycemic control"),),
        (
            Lab("glucose", "mg/dL", 420, 780, 0),
            Lab("bicarbonate", "mmol/L", 6, 14, 0),
            Lab("anion gap", "mmol/L", 22, 31, 0),
        ),
        (("urinalysis", ("large ketones and glucosuria",)),),
        None,
        "closure of the anion gap and transition to subcutaneous insulin",
        excludes=("type 2 diabetes mellitus",),
    ),
    Scenario(
        "medicine",
        "infectious disease",
        ("redness, warmth and swelling of the left lower leg", "a painful, spreading rash on the right shin"),
        "lower extremity cellulitis",
        "nonpurulent cellulitis of the lower extremity",
        (Drug("cefazolin", ("2 g",), "intravenously", "every 8 hours", "cellulitis"),),
        (Drug("cephalexin", ("500 mg",), "by mouth", "four times daily", "completion of cellulitis treatment"),),
        (Lab("white blood cell count", "K/uL", 104, 168, 1), Lab("C-reactive protein", "mg/L", 45, 180, 0)),
        (("lower extremity venous duplex ultrasound", ("no deep vein thrombosis",)),),
        None,
        "receding erythema within the marked borders",
    ),
    Scenario(
        "neurology",
        "neurology",
        ("sudden right arm weakness and slurred speech", "acute left facial droop and word-finding difficulty"),
        "an acute ischemic stroke",
        "acute ischemic stroke of the left middle cerebral artery territory",
        (Drug("aspirin", ("325 mg",), "by mouth", "once", "acute ischemic stroke"),),
        (Drug("clopidogrel", ("75 mg",), "by mouth", "daily", "secondary stroke prevention"),),
        (Lab("hemoglobin A1c", "%", 54, 96, 1), Lab("LDL cholesterol", "mg/dL", 100, 180, 0)),
        (
            ("CT of the head", ("no intracranial hemorrhage",)),
            (
                "MRI of the brain",
                (
                    "an acute infarct in the left middle cerebral artery territory",
                    "restricted diffusion in the left corona radiata",
                ),
            ),
        ),
        None,
        "improvement of the arm strength to 4 out of 5",
        excludes=("coronary artery disease",),
    ),
    Scenario(
        "medicine",
        "urology",
        ("fever, dysuria and right flank pain", "shaking chills and left flank pain"),
        "acute pyelonephritis",
        "acute pyelonephritis",
        (Drug("ceftriaxone", ("1 g",), "intravenously", "daily", "pyelonephritis"),),
        (Drug("ciprofloxacin", ("500 mg",), "by mouth", "twice daily", "completion of pyelonephritis treatment"),),
        (Lab("white blood cell count", "K/uL", 136, 212, 1), Lab("lactate", "mmol/L", 14, 38, 1)),
        (
            ("urine culture", ("pan-sensitive Escherichia coli", "Klebsiella pneumoniae sensitive to ceftriaxone")),
            (
                "CT of the abdomen and pelvis",
                ("right perinephric stranding without hydronephrosis", "no obstructing stone"),
            ),
        ),
        None,
        "resolution of fever and flank pain",
    ),
    Scenario(
        "cardiology",
        "cardiology",
        ("palpitations and lightheadedness", "a racing heartbeat and fatigue"),
        "atrial fibrillation with rapid ventricular response",
        "new-onset atrial fibrillation",
        (Drug("diltiazem", ("10 mg",), "intravenously", "as a bolus", "rate control"),),
        (
            Drug("apixaban", ("5 mg",), "by mouth", "twice daily", "stroke prevention in atrial fibrillation"),
            Drug("diltiazem extended-release", ("120 mg", "180 mg"), "by mouth", "daily", "rate control"),
        ),
        (Lab("TSH", "mIU/L", 4, 38, 1), Lab("magnesium", "mg/dL", 15, 21, 1)),
        (
            (
                "electrocardiogram",
                (
                    "atrial fibrillation with a ventricular rate of 142",
                    "atrial fibrillation with a ventricular rate of 128",
                ),
            ),
            ("echocardiogram", ("a normal ejection fraction and a mildly dilated left atrium",)),
        ),
        None,
        "a heart rate below 100 at rest",
        excludes=("hypertension",),
    ),
    Scenario(
        "medicine",
        "pulmonary",
        ("pleuritic chest pain and shortness of breath", "sudden dyspnea after a long car trip"),
        "an acute pulmonary embolism",
        "acute pulmonary embolism without right heart strain",
        (Drug("enoxaparin", ("1 mg/kg",), "subcutaneously", "every 12 hours", "pulmonary embolism"),),
        (Drug("rivaroxaban", ("15 mg",), "by mouth", "twice daily for 21 days", "treatment of pulmonary embolism"),),
        (Lab("D-dimer", "ng/mL", 1800, 6400, 0), Lab("troponin T", "ng/mL", 1, 3, 2)),
        (
            (
                "CT pulmonary angiogram",
                ("a right lower lobe segmental pulmonary embolism", "bilateral subsegmental pulmonary emboli"),
            ),
            ("lower extremity venous duplex ultrasound", ("a left popliteal deep vein thrombosis",)),
        ),
        None,
        "resolution of the hypoxemia",
    ),
    Scenario(
        "surgery",
        "general surgery",
        ("epigastric pain radiating to the back", "severe upper abdominal pain with nausea"),
        "acute gallstone pancreatitis",
        "acute gallstone pancreatitis",
        (
            Drug(
                "lactated Ringer's solution", ("250 mL/hour",), "intravenously", "continuously", "fluid resuscitation"
            ),
            Drug("hydromorphone", ("0.5 mg",), "intravenously", "every 3 hours as needed", "abdominal pain"),
        ),
        (Drug("oxycodone", ("5 mg",), "by mouth", "every 6 hours as needed", "postoperative pain"),),
        (Lab("lipase", "U/L", 1400, 6200, 0), Lab("total bilirubin", "mg/dL", 12, 41, 1)),
        (
            (
                "right upper quadrant ultrasound",
                (
                    "cholelithiasis without gallbladder wall thickening",
                    "multiple gallstones and a common bile duct of 5 mm",
                ),
            ),
        ),
        (
            "laparoscopic cholecystectomy",
            "a laparoscopic cholecystectomy",
            ("an inflamed gallbladder with multiple stones", "a distended gallbladder with a stone in the neck"),
        ),
        "tolerance of a low-fat diet",
        excludes=(),
    ),
    Scenario(
        "nephrology",
        "nephrology",
        ("decreased urine output and fatigue", "poor oral intake and dizziness on standing"),
        "acute kidney injury",
        "prerenal acute kidney injury",
        (Drug("normal saline", ("1 liter",), "intravenously", "as a bolus", "hypovolemia"),),
        (Drug("sodium bicarbonate", ("650 mg",), "by mouth", "twice daily", "metabolic acidosis"),),
        (Lab("creatinine", "mg/dL", 24, 58, 1), Lab("BUN", "mg/dL", 44, 98, 0)),
        (("renal ultrasound", ("normal-sized kidneys without hydronephrosis",)),),
        None,
        "a return of the creatinine toward baseline",
        excludes=("chronic kidney disease stage 3",),
    ),
]

ABSENT_DRUGS = [
    "warfarin",
    "digoxin",
    "hydrochlorothiazide",
    "prednisone",
    "amiodarone",
    "lorazepam",
    "metformin",
    "lisinopril",
    "insulin glargine",
    "doxycycline",
    "montelukast",
    "clonidine",
]
ABSENT_TESTS = [
    "colonoscopy",
    "stress test",
    "pulmonary function tests",
    "MRI of the lumbar spine",
    "bone density scan",
    "echocardiogram",
    "CT of the chest",
    "carotid ultrasound",
]
ABSENT_LABS = ["hemoglobin A1c", "TSH", "ferritin", "INR", "lactate", "lipase", "BNP", "vitamin B12 level"]
ABSENT_PROCEDURES = [
    "a colonoscopy",
    "an appendectomy",
    "a cardiac catheterization",
    "a knee replacement",
    "a thyroidectomy",
    "a lumbar puncture",
    "a bronchoscopy",
]


# --------------------------------------------------------------------------------------------------------------------
# Note assembly with tracked spans
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Note:
    """A note being written: appended text, and named spans with their offsets."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    spans: dict[str, tuple[int, str]] = field(default_factory=dict)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def span(self, key: str, text: str) -> None:
        """Append ``text`` and remember where it starts under ``key``."""
        self.spans[key] = (self.length, text)
        self.add(text)

    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True)
class QA:
    family: str
    question: str
    answer_key: str | None  # None = unanswerable
    subject: str | None = None  # a term that must occur exactly once in the note for the question to be clear


def _value(rng: random.Random, lab: Lab) -> str:
    raw = rng.randint(lab.low, lab.high)
    if lab.decimals == 0:
        return str(raw)
    scale = 10**lab.decimals
    return f"{raw // scale}.{raw % scale:0{lab.decimals}d}"


def _date(day: dt.date) -> str:
    return f"{day.month:02d}/{day.day:02d}/{day.year}"


def _list_phrase(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def build_note(rng: random.Random) -> tuple[str, list[QA], Note]:
    """Write one invented discharge summary and the candidate questions over it."""
    scenario = rng.choice(SCENARIOS)
    sex = rng.choice(["F", "M"])
    subj, poss, noun, title = PRONOUNS[sex]
    first, last = rng.choice(FIRST_NAMES[sex]), rng.choice(LAST_NAMES)
    age = rng.randint(28, 93)
    admitted = dt.date(2091, 1, 1) + dt.timedelta(days=rng.randint(0, 3000))
    stay = rng.randint(2, 9)
    discharged = admitted + dt.timedelta(days=stay)
    attending, follow_doc = rng.sample(DOCTORS, 2)
    scenario_drugs = {d.name for d in scenario.inpatient + scenario.discharge_new}

    eligible = [
        m
        for m in HOME_MEDS
        if (m.sex is None or m.sex == sex)
        and m.drug not in scenario_drugs
        and m.condition not in scenario.excludes
        and not any(m.drug in d or d in m.drug for d in scenario_drugs)
    ]
    rng.shuffle(eligible)
    wanted = rng.randint(2, 5)
    home: list[HomeMed] = []
    for med in eligible:
        if len(home) < wanted and all(med.condition != h.condition for h in home):
            home.append(med)
    extra_history = [h for h in HISTORY_ONLY if h not in scenario.excludes]
    history = [m.condition for m in home] + rng.sample(extra_history, rng.randint(0, 2))
    doses = {m.drug: rng.choice(m.doses) for m in home}
    qas: list[QA] = []
    note = Note()

    note.add(f"DISCHARGE SUMMARY\n{first} {last}, MRN {rng.randint(1000000, 9999999)}, attending Dr. {attending}\n")
    note.add(f"Admitted {_date(admitted)}, discharged {_date(discharged)}\n\n")

    # History of present illness
    note.add(f"HISTORY OF PRESENT ILLNESS:\n{title} {last} is a ")
    note.span("age", str(age))
    note.add(f"-year-old {noun} with {_list_phrase(history[:2])} who presented with ")
    note.span("complaint", rng.choice(scenario.complaints))
    note.add(f" for {rng.randint(2, 6)} days.\n\n")

    # Past history
    note.add("PAST MEDICAL HISTORY: ")
    for i, condition in enumerate(history):
        note.add("; " if i else "")
        note.span(f"history:{condition}", condition)
    note.add(".\n")
    current = scenario.procedure[0] if scenario.procedure else ""
    past_pool = [p for p in PAST_PROCEDURES if (sex == "F" or p[0] != "hysterectomy") and p[0] not in current]
    procedures = rng.sample(past_pool, rng.randint(0, 2))
    note.add("PAST SURGICAL HISTORY: ")
    if procedures:
        for i, (name, _article, details) in enumerate(procedures):
            note.add("; " if i else "")
            year = rng.randint(2060, 2090)
            detail = rng.choice(details).format(year=year)
            note.span(f"pastproc:{name}", detail)
            if str(year) in detail:
                note.spans[f"pastyear:{name}"] = (
                    note.spans[f"pastproc:{name}"][0] + detail.index(str(year)),
                    str(year),
                )
        note.add(".\n")
    else:
        note.add("none.\n")

    # Social history and allergies
    smoking = rng.choice(SMOKING).format(year=rng.randint(2060, 2088), packs=rng.randint(5, 60))
    note.add(f"SOCIAL HISTORY: {rng.choice(LIVING).format(poss=poss).capitalize()}. ")
    note.span("smoking", smoking[0].upper() + smoking[1:])
    note.add(f". {rng.choice(ALCOHOL).format(n=rng.randint(1, 6)).capitalize()}.\n")
    allergy_absent = [a for a in ALLERGIES if not any(a[0] in d for d in scenario_drugs)]
    allergy = rng.choice(allergy_absent) if rng.random() < 0.6 else None
    note.add("ALLERGIES: ")
    if allergy:
        note.span("allergen", allergy[0])
        note.add(" (")
        note.span("reaction", rng.choice(allergy[1]))
        note.add(").\n\n")
    else:
        note.span("nkda", "No known drug allergies")
        note.add(".\n\n")

    # Exam and results
    note.add("ADMISSION VITALS: BP ")
    note.span("bp", f"{rng.randint(96, 182)}/{rng.randint(54, 104)}")
    note.add(", HR ")
    note.span("hr", str(rng.randint(58, 138)))
    note.add(f", RR {rng.randint(14, 28)}, T {rng.randint(970, 1024) // 10}.{rng.randint(0, 9)} F, SpO2 ")
    note.span("spo2", f"{rng.randint(86, 100)}%")
    note.add(" on room air.\n\nPERTINENT RESULTS:\nAdmission labs: ")
    basic = [
        Lab("sodium", "mmol/L", 127, 146, 0),
        Lab("potassium", "mmol/L", 31, 54, 1),
        Lab("creatinine", "mg/dL", 6, 19, 1),
        Lab("hemoglobin", "g/dL", 96, 156, 1),
    ]
    labs = [lab for lab in basic if all(lab.name != s.name for s in scenario.labs)] + list(scenario.labs)
    for i, lab in enumerate(labs):
        note.add(", " if i else "")
        note.add(f"{lab.name} ")
        note.span(f"lab:{lab.name}", f"{_value(rng, lab)} {lab.unit}".replace(" %", "%"))
    note.add(".\n")
    for name, findings in scenario.studies:
        note.add(f"{name[0].upper() + name[1:]}: ")
        note.span(f"study:{name}", rng.choice(findings))
        note.add(".\n")

    # Hospital course
    note.add(f"\nHOSPITAL COURSE:\n{title} {last} was admitted to the {scenario.service} service for ")
    note.span("reason", scenario.admit_reason)
    note.add(". ")
    for drug in scenario.inpatient:
        dose = rng.choice(drug.doses)
        opener = rng.choice(
            [
                f"{subj.capitalize()} was started on ",
                f"{subj.capitalize()} received ",
                f"{subj.capitalize()} was treated with ",
            ]
        )
        note.add(opener)
        note.span(f"drug:{drug.name}", drug.name)
        note.add(" ")
        note.span(f"ipdose:{drug.name}", dose)
        note.add(f" {drug.route} {drug.frequency} for ")
        note.span(f"indication:{drug.name}", drug.indication)
        note.add(". ")
    proc_day = None
    if scenario.procedure:
        name, _article, findings = scenario.procedure
        proc_day = admitted + dt.timedelta(days=rng.randint(1, max(1, stay - 1)))
        note.add("On ")
        note.span("procdate", _date(proc_day))
        note.add(f", {subj} underwent {name}, which showed ")
        note.span("procfinding", rng.choice(findings))
        note.add(". ")
    complication = None
    if rng.random() < 0.6:
        complication = rng.choice(COMPLICATIONS)
        note.add(f"{poss.capitalize()} course was complicated by ")
        note.span("complication", complication[0])
        note.add(", which was managed with ")
        note.span("comptreatment", rng.choice(complication[2]))
        note.add(". ")
    else:
        note.add("The hospital course was otherwise uncomplicated. ")
    note.add(f"By discharge {subj} had {scenario.improvement}.\n\n")

    # Discharge medications, diagnosis, disposition, follow-up
    note.add("DISCHARGE MEDICATIONS:\n")
    lines: list[tuple[str, str, str, str, str]] = [
        (m.drug, doses[m.drug], m.route, m.frequency, m.condition) for m in home
    ] + [(d.name, rng.choice(d.doses), d.route, d.frequency, d.indication) for d in scenario.discharge_new]
    for i, (drug, dose, route, frequency, indication) in enumerate(lines, 1):
        note.add(f"{i}. ")
        start = note.length
        note.span(f"medname:{drug}", drug)
        note.add(" ")
        note.span(f"dose:{drug}", dose)
        note.add(f" {route} ")
        note.span(f"freq:{drug}", frequency)
        note.add(" for ")
        note.span(f"why:{drug}", indication)
        note.spans[f"medline:{drug}"] = (start, note.text()[start:])
        note.add("\n")
    note.add("\nDISCHARGE DIAGNOSIS: ")
    note.span("diagnosis", scenario.diagnosis)
    note.add(".\nDISPOSITION: Discharged to ")
    note.span("disposition", rng.choice(DISPOSITIONS))
    note.add(".\nFOLLOW-UP: Follow up with ")
    note.span("followdoc", f"Dr. {follow_doc} in {scenario.specialty} clinic")
    note.add(" ")
    note.span("followwhen", rng.choice(FOLLOW_UP_DELAYS))
    note.add(".\n")

    # Candidate questions, grouped by family
    q = qas.append
    q(
        QA(
            "admission-reason",
            rng.choice(
                [
                    "Why was the patient admitted?",
                    "What was the reason for admission?",
                    "Why was the patient hospitalized?",
                ]
            ),
            "reason",
        )
    )
    q(
        QA(
            "presenting-symptoms",
            rng.choice(["What symptoms did the patient present with?", "What brought the patient to the hospital?"]),
            "complaint",
        )
    )
    q(QA("age", rng.choice(["How old is the patient?", "What is the patient's age?"]), "age"))
    condition = rng.choice(history)
    q(QA("history-of", f"Does the patient have a history of {condition}?", f"history:{condition}"))
    for drug, _dose, _route, _frequency, indication in lines:
        q(
            QA(
                "dosage",
                rng.choice(
                    [
                        f"What is the dosage of {drug}?",
                        f"What dose of {drug} is the patient on?",
                        f"What is the patient's {drug} dose?",
                    ]
                ),
                f"dose:{drug}",
                drug,
            )
        )
        q(
            QA(
                "frequency",
                rng.choice([f"How often does the patient take {drug}?", f"How frequently should {drug} be taken?"]),
                f"freq:{drug}",
                drug,
            )
        )
        q(
            QA(
                "medication-reason",
                rng.choice([f"Why is the patient on {drug}?", f"Why was {drug} prescribed?"]),
                f"why:{drug}",
                drug,
            )
        )
        q(
            QA(
                "ever-on-medication",
                rng.choice([f"Has the patient ever been on {drug}?", f"Has the patient ever taken {drug}?"]),
                f"medline:{drug}",
                drug,
            )
        )
        q(QA("medication-for-problem", f"What medication does the patient take for {indication}?", f"medname:{drug}"))
    for drug in scenario.inpatient:
        q(
            QA(
                "treatment-reason",
                rng.choice([f"Why was the patient given {drug.name}?", f"Why did the patient receive {drug.name}?"]),
                f"indication:{drug.name}",
                drug.name,
            )
        )
        q(
            QA(
                "treatment-for-problem",
                rng.choice(
                    [
                        f"What was the patient given for {drug.indication}?",
                        f"What treatment did the patient receive for {drug.indication}?",
                    ]
                ),
                f"drug:{drug.name}",
            )
        )
        q(QA("inpatient-dose", f"What dose of {drug.name} was given?", f"ipdose:{drug.name}", drug.name))
    for lab in labs:
        q(
            QA(
                "lab-value",
                rng.choice([f"What was the patient's {lab.name} on admission?", f"What was the {lab.name} level?"]),
                f"lab:{lab.name}",
                lab.name,
            )
        )
    for name, _findings in scenario.studies:
        q(
            QA(
                "test-result",
                rng.choice([f"What was the result of the {name}?", f"What did the {name} show?"]),
                f"study:{name}",
                name,
            )
        )
    if scenario.procedure:
        name, article, _findings = scenario.procedure
        q(
            QA(
                "procedure-date",
                rng.choice([f"When did the patient undergo {article}?", f"On what date was the {name} performed?"]),
                "procdate",
            )
        )
        q(QA("procedure-finding", f"What were the findings of the {name}?", "procfinding"))
    for name, article, _details in procedures:
        q(
            QA(
                "ever-had-procedure",
                rng.choice([f"Has the patient ever had {article}?", f"Has the patient had {article} in the past?"]),
                f"pastproc:{name}",
                name,
            )
        )
        if f"pastyear:{name}" in note.spans:
            q(QA("procedure-year", f"When did the patient have {article}?", f"pastyear:{name}", name))
    q(QA("smoking", rng.choice(["What is the patient's smoking status?", "Does the patient smoke?"]), "smoking"))
    if allergy:
        q(
            QA(
                "allergy",
                rng.choice(["What is the patient allergic to?", "What are the patient's allergies?"]),
                "allergen",
            )
        )
        q(QA("allergic-reaction", f"What reaction does the patient have to {allergy[0]}?", "reaction", allergy[0]))
    else:
        q(QA("allergy", "Does the patient have any drug allergies?", "nkda"))
    q(
        QA(
            "vital-sign",
            rng.choice(
                ["What was the patient's blood pressure on admission?", "What was the admission blood pressure?"]
            ),
            "bp",
        )
    )
    q(QA("vital-sign", "What was the heart rate on admission?", "hr"))
    q(QA("vital-sign", "What was the oxygen saturation on admission?", "spo2"))
    if complication:
        q(
            QA(
                "complication",
                rng.choice(
                    ["What complications did the patient have?", "Was the hospital course complicated by anything?"]
                ),
                "complication",
            )
        )
        q(
            QA(
                "complication-treatment",
                rng.choice([f"How was the {complication[1]} managed?", f"What was done for the {complication[1]}?"]),
                "comptreatment",
            )
        )
    q(
        QA(
            "diagnosis",
            rng.choice(["What was the discharge diagnosis?", "What was the patient diagnosed with?"]),
            "diagnosis",
        )
    )
    q(
        QA(
            "disposition",
            rng.choice(["Where was the patient discharged to?", "What was the discharge disposition?"]),
            "disposition",
        )
    )
    q(
        QA(
            "follow-up",
            rng.choice(
                ["Who should the patient follow up with?", "Which doctor will see the patient after discharge?"]
            ),
            "followdoc",
        )
    )
    q(
        QA(
            "follow-up-time",
            rng.choice(["When should the patient follow up?", "When is the follow-up appointment?"]),
            "followwhen",
        )
    )
    return note.text(), qas, note


def unanswerable(rng: random.Random, context: str) -> QA:
    """A question about something the note never mentions."""
    low = context.lower()
    choices = [
        ("no-answer:dosage", "What is the dosage of {}?", ABSENT_DRUGS),
        ("no-answer:treatment-reason", "Why was the patient given {}?", ABSENT_DRUGS),
        ("no-answer:test-result", "What was the result of the {}?", ABSENT_TESTS),
        ("no-answer:lab-value", "What was the patient's {} on admission?", ABSENT_LABS),
        ("no-answer:ever-had-procedure", "Has the patient ever had {}?", ABSENT_PROCEDURES),
    ]
    rng.shuffle(choices)
    for family, template, pool in choices:
        absent = [term for term in pool if term.lower() not in low and term.lower().split(" ", 1)[-1] not in low]
        if absent:
            return QA(family, template.format(rng.choice(absent)), None)
    raise AssertionError("no absent term for an unanswerable question")


def build_rows(seed: int, n_notes: int) -> list[dict]:
    """All rows, in a fixed order, with every answer offset checked."""
    rng = random.Random(seed)
    rows: list[dict] = []
    for index in range(1, n_notes + 1):
        context, candidates, note = build_note(rng)
        low = context.lower()
        clear = [c for c in candidates if c.subject is None or low.count(c.subject.lower()) == 1]
        families = sorted({c.family for c in clear})
        chosen_families = rng.sample(families, min(len(families), rng.randint(4, 6)))
        chosen = [rng.choice([c for c in clear if c.family == f]) for f in chosen_families]
        if rng.random() < UNANSWERABLE_RATE:
            chosen.insert(rng.randint(0, len(chosen)), unanswerable(rng, context))
        for j, qa in enumerate(chosen, 1):
            if qa.answer_key is None:
                answers: dict[str, list] = {"text": [], "answer_start": []}
            else:
                start, text = note.spans[qa.answer_key]
                if context[start : start + len(text)] != text:
                    raise AssertionError(f"span {qa.answer_key} is wrong in note {index}")
                answers = {"text": [text], "answer_start": [start]}
            rows.append(
                {
                    "id": f"synth-{index:04d}-q{j:02d}",
                    "title": f"synthetic-discharge-{index:04d}",
                    "context": context,
                    "question": qa.question,
                    "answers": answers,
                    "family": qa.family,  # removed before writing; kept for the data card counts
                }
            )
    return rows


def render_card(rows: list[dict], seed: int, n_notes: int, size: int) -> str:
    answerable = sum(1 for r in rows if r["answers"]["text"])
    families = Counter(r["family"] for r in rows)
    table = "\n".join(f"| {name} | {count} |" for name, count in sorted(families.items()))
    default = " (the default)" if seed == DEFAULT_SEED and n_notes == DEFAULT_NOTES else ""
    return f"""# Synthetic emrQA-MedSQuAD-style corpus

<!-- Written by scripts/build_emrqa.py; change the script, not this file. -->

## What it is

`emrqa-medsquad-synthetic.json` is a small, **invented**, template-generated stand-in for the
emrQA-MedSQuAD stage-1 corpus (emrQA converted to SQuAD v2 form). It exists so the harness can be
tested offline and the CPU demo can run without credentialed data. It uses the flat-row layout of
Hugging Face `datasets`: a JSON array of `{{"id", "title", "context", "question",
"answers": {{"text": [...], "answer_start": [...]}}}}`; empty answer lists mark unanswerable questions.
Load it with `systems.qunlp.generator.emrqa.load_stage1_corpus("synthetic")`.

## What it is not

- It is **not emrQA** and contains no emrQA, n2c2 or i2b2 text. Every patient, clinician, date, value
  and sentence was produced from templates in `scripts/build_emrqa.py`; any resemblance to a real
  person is accidental.
- It is **not clinically valid**: drug choices, doses, lab values and findings are combined at random
  within loose templates. Do not use it to learn or check medicine, and do not report scores on it as
  if they measured clinical question answering.
- It is far smaller and far more regular than the real corpus, so models fit it easily.

## How it was generated

    python scripts/build_emrqa.py --seed {seed} --notes {n_notes}

Seed {seed}{default}, `random.Random(seed)`, standard library only. The build is byte-reproducible;
`tests/systems/qunlp/test_generator_emrqa.py` rebuilds it and compares it with the shipped file. Answer offsets are
computed while each note is assembled and checked again before writing.

## Counts

| | |
|---|---|
| notes (discharge summaries) | {n_notes} |
| question-answer rows | {len(rows)} |
| answerable | {answerable} |
| unanswerable (empty answers) | {len(rows) - answerable} |
| question families | {len(families)} |
| file size (bytes) | {size} |

Rows per question family (`no-answer:*` are the unanswerable ones):

| family | rows |
|---|---|
{table}
"""


def build(out: Path, seed: int = DEFAULT_SEED, n_notes: int = DEFAULT_NOTES, card: Path | None = None) -> None:
    rows = build_rows(seed, n_notes)
    payload = [{k: v for k, v in row.items() if k != "family"} for row in rows]
    data = (json.dumps(payload, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    card = card or out.parent / CARD_NAME
    card.write_bytes(render_card(rows, seed, n_notes, len(data)).encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON corpus")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--notes", type=int, default=DEFAULT_NOTES, help=f"number of notes (default {DEFAULT_NOTES})")
    parser.add_argument("--card", type=Path, default=None, help=f"data card path (default: {CARD_NAME} next to --out)")
    args = parser.parse_args(argv)
    if args.notes < 1:
        parser.error("--notes must be at least 1")
    build(args.out, args.seed, args.notes, args.card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
