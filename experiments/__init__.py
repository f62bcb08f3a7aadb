"""Experiments that study systems (they may use any package; nothing imports them but their commands).

- :mod:`experiments.forgetting`: sequential vs separate fine-tuning of the classify-generate adapters on the
  FHIR track (``archehr fhir forgetting``).
"""
