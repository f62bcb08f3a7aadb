"""The application layer: the ``archehr`` command line, the run pipeline, the demo and ``reproduce``.

It composes the core (:mod:`harness`: data model, tasks, systems registry, run store) and the feature
packages (:mod:`systems`, :mod:`metrics`, :mod:`submissions`, :mod:`leaderboard`, :mod:`fhirqa`); nothing
imports it. docs/architecture.md explains the layers.
"""
