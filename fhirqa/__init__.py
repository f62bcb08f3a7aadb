"""The FHIR patient-record QA track: questions about a patient's FHIR R4 bundle.

Task 1 (relevance) picks the resources that answer a question (scored by precision/recall/F1 over
resource ids); task 2 (answer) writes the answer (scored by METEOR). Records and questions map onto
the harness data model (one question = one case, one resource = one numbered "note sentence"), so every
registered system answering subtasks 2 and 3 runs on this track through the usual run store and
submission files.

- :mod:`fhirqa.model`: records, record items, questions, datasets; the task ↔ subtask mapping.
- :mod:`fhirqa.bundle`: reading FHIR bundles (Synthea, carebundle, bulk ndjson) into records.
- :mod:`fhirqa.render`: one line of text per resource (what systems read, what answers quote).
- :mod:`fhirqa.questions`: questions, relevant ids and reference answers generated from a record.
- :mod:`fhirqa.build`: building a data folder: seeded synthetic (``carebundle`` bundles) or from your bundles.
- :mod:`fhirqa.dataset`: the data folder (bundles, questions, harness view) and the harness split.
- :mod:`fhirqa.scoring`: task scores (METEOR: :mod:`metrics.meteor`) and the score report the leaderboard reads.
- ``experiments.forgetting`` (outside this package): the experiment behind ``archehr fhir forgetting``.
- :mod:`archehr.fhir_cli`: ``archehr fhir …``.

Importing this package is light: no torch, no nltk, no carebundle.
"""

from __future__ import annotations
