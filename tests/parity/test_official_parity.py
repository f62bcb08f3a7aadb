"""Parity with the official scorers: every submission of ``fixtures/official-goldens`` (what the official 2025 and
2026 scorers printed, run without neural models) is scored here lexical-only and must agree to 1e-9 on every key
both sides compute; where the official scorer raised, we must refuse. See docs/scoring.md, "Parity".
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archehr.score_cli import score_command
from harness.data.loader import load_split
from harness.data.model import Split
from harness.errors import InputError
from harness.tasks import Task, get_task
from metrics.combine import combine
from metrics.registry import metric_specs
from metrics.scoring import ScoringOptions, SubmissionScorer

FIXTURES = Path(__file__).parent / "fixtures" / "official-goldens"
INDEX: dict[str, Any] = json.loads((FIXTURES / "index.json").read_text(encoding="utf-8"))
TOLERANCE = 1e-9
TASKS: dict[str, Task] = {
    "st1": get_task("2026/1"),
    "st2": get_task("2026/2"),
    "st3": get_task("2026/3"),
    "st4": get_task("2026/4"),
    "y2025": get_task("2025"),
}
#: our key -> the official scorer's name for it (only the 2025 combined keys differ)
OFFICIAL_NAMES = {"overall_relevance": "overall_relevance_score", "overall_factuality": "overall_factuality_score"}
#: keys the official run left at 0.0 (no neural models); we report them unavailable under --lexical-only
NOT_RUN = frozenset(k for spec in metric_specs() if spec.kind == "neural" for k in spec.output_keys)
#: what the official scorer raised -> the words our refusal must use
OFFICIAL_ERRORS = {"No citations found": "no citations at all"}
GROUPS = sorted({(s["dataset"], s["task"]) for s in INDEX["submissions"]})


def _json(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


@functools.cache
def _split(dataset: str) -> Split:
    info = INDEX["datasets"][dataset]
    return load_split(FIXTURES / info["folder"], info["split_as_in_project"])


@functools.cache
def _scorer(dataset: str, task: str) -> SubmissionScorer:
    return SubmissionScorer(_split(dataset), TASKS[task], options=ScoringOptions(lexical_only=True))


def _close(got: float | None, want: float) -> bool:
    return got is not None and abs(got - want) <= TOLERANCE


def test_fixtures_are_the_shared_bundle() -> None:
    assert len(INDEX["submissions"]) == 384
    for name, info in INDEX["datasets"].items():
        for file, digest in info["sha256"].items():
            data = (FIXTURES / info["folder"] / file).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, f"{name}/{file} is not the bundle's file"
    for item in INDEX["submissions"]:
        assert (FIXTURES / item["submission"]).is_file() and (FIXTURES / item["official"]).is_file()
        assert item["task"] in TASKS and item["dataset"] in INDEX["datasets"]


@pytest.mark.parametrize(("dataset", "task"), GROUPS)
def test_official_parity(dataset: str, task: str) -> None:
    scorer = _scorer(dataset, task)
    formula = scorer.task
    combined = [c.key for c in formula.combined]
    items = [s for s in INDEX["submissions"] if (s["dataset"], s["task"]) == (dataset, task)]
    differences: list[str] = []
    compared = 0
    for item in items:
        file, official = item["submission"], _json(item["official"])
        entries = _json(file)
        if "official_error" in official:
            _check_refused(scorer, entries, file, official["official_error"])
            continue
        try:
            report = scorer.score(entries, file=file)
        except InputError as exc:
            differences.append(f"{file}: refused ({exc}) but the official scorer scored it")
            continue
        assert sorted(official) == sorted(OFFICIAL_NAMES.get(k, k) for k in formula.output_keys), file
        # the official formula evaluated on our values, with the official run's 0.0 for the components it skipped
        base = {k: official[k] if k in NOT_RUN else report.scores[k] for k in formula.output_keys if k not in combined}
        recomputed = combine(formula, base).values
        for key in formula.output_keys:
            want = official[OFFICIAL_NAMES.get(key, key)]
            if key in NOT_RUN:
                assert want == 0.0 and report.scores[key] is None, f"{file}: {key}"
                continue
            got = recomputed[key] if key in combined else report.scores[key]
            compared += 1
            if not _close(got, want):
                differences.append(f"{file}: {key} official {want!r}, ours {got!r}")
            if key in combined and report.scores[key] is not None and not _close(report.scores[key], want):
                differences.append(f"{file}: {key} in our report {report.scores[key]!r}, official {want!r}")
    assert not differences, f"{len(differences)} differences:\n" + "\n".join(differences[:40])
    assert compared > 0


def _check_refused(scorer: SubmissionScorer, entries: Any, file: str, official_error: str) -> None:
    """Where the official scorer raised we refuse: one line naming the file, the case and the field."""
    case = re.search(r"\[case ([^\]]+)\]", official_error)
    reason = next((ours for theirs, ours in OFFICIAL_ERRORS.items() if theirs in official_error), None)
    assert case and reason, f"{file}: no refusal rule for the official error {official_error!r}"
    with pytest.raises(InputError) as info:
        scorer.score(entries, file=file)
    assert "\n" not in str(info.value)
    named = [p for p in info.value.problems if (p.file, p.case_id) == (file, case.group(1)) and p.field]
    assert named and any(reason in p.message for p in named), f"{file}: {info.value}"


# ------------------------------------------------------------------ inputs the official scorers crash on


def _edited(task: str, name: str, case_index: int, value: Any) -> list[dict[str, Any]]:
    entries = _json(f"submissions/syn-dev/{task}/{name}.json")
    field = "answer" if task == "y2025" else "prediction"
    entries[case_index] = {**entries[case_index], field: value}
    return entries


@pytest.mark.parametrize(
    ("task", "name", "value", "field", "words"),
    [
        ("st3", "gold", "<skipped>", "prediction", "divides by zero"),  # 13a deletes it: no BLEU token
        ("st3", "gold", "<skipped> -\n<skipped>", "prediction", "divides by zero"),
        ("y2025", "gold", "|1|\n |2,3|", "answer", "no answer text"),  # citation lines only: empty answer
        ("st1", "gold", json.loads('"Why was \\ud800 it done?"'), "prediction", "lone surrogate U+D800"),
        ("y2025", "gold", json.loads('"It was \\udfff done. |1|"'), "answer", "lone surrogate U+DFFF"),
    ],
)
@pytest.mark.parametrize("validate", [True, False])
def test_refuses_what_the_official_scorer_crashes_on(task, name, value, field, words, validate) -> None:
    entries = _edited(task, name, 1, value)
    scorer = SubmissionScorer(
        _split("syn-dev"), TASKS[task], options=ScoringOptions(lexical_only=True, validate=validate)
    )
    with pytest.raises(InputError) as info:
        scorer.score(entries, file="sub.json")
    (problem,) = info.value.problems
    assert (problem.file, problem.case_id, problem.field) == ("sub.json", entries[1]["case_id"], field)
    assert words in problem.message and "\n" not in str(info.value)
    str(info.value).encode("utf-8")  # the message itself holds no surrogate


@pytest.mark.parametrize("validate", [True, False])
def test_refuses_a_case_listed_twice_and_says_what_the_official_scorer_does(validate) -> None:
    entries = _json("submissions/syn-dev/st2/gold_essential.json")
    scorer = SubmissionScorer(
        _split("syn-dev"), get_task("2026/2"), options=ScoringOptions(lexical_only=True, validate=validate)
    )
    with pytest.raises(InputError) as info:
        scorer.score([*entries, entries[0]], file="sub.json")
    (problem,) = info.value.problems
    assert (problem.case_id, problem.field) == (entries[0]["case_id"], "case_id")
    assert "refused, while the official 2026 scorers count it" in problem.message


def test_score_command_refuses_a_lone_surrogate_in_one_line(tmp_path) -> None:
    entries = _edited("st1", "gold", 0, json.loads('"Why \\ud83d?"'))
    sub = tmp_path / "submission.json"
    sub.write_text(json.dumps(entries), encoding="utf-8")  # ensure_ascii writes the escape "\ud83d"
    out = tmp_path / "report.json"
    data = FIXTURES / INDEX["datasets"]["syn-dev"]["folder"]
    args = [str(sub), "--data", str(data), "--split", "syn-dev", "--subtask", "1", "--lexical-only", "--out", str(out)]
    result = CliRunner().invoke(score_command, args)
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.splitlines()
    assert f"file {sub}, case {entries[0]['case_id']}, field prediction: lone surrogate U+D83D" in line
    assert result.stdout == "" and not out.exists()


def test_the_documented_command_prints_the_official_numbers() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "scoring.md").read_text(encoding="utf-8")
    (command,) = [line for line in doc.splitlines() if line.startswith("archehr score tests/parity/")]
    args = shlex.split(command)[2:]
    root = Path(__file__).parents[2]
    args = [str(root / a) if a.startswith("tests/") else a for a in args]
    result = CliRunner().invoke(score_command, args)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)["scores"]
    official = _json("official/syn-dev/st3/gold.json")
    formula = _scorer("syn-dev", "st3").task
    for key in (k for k in formula.base_keys if k in official):
        assert _close(scores[key], official[key]) if key not in NOT_RUN else scores[key] is None, key
