"""The system's bookkeeping against scripted replies (votes, retries, invalid outputs, resume); the real
model runs in test_end_to_end.py."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from archehr.pipeline import run_system
from harness.data.loader import load_dataset
from harness.data.model import Subtask
from harness.data.tasks import inputs_for
from llmkit.testing import ScriptedServer

SPLIT = load_dataset("synthetic").split("test")
IDS = ["21", "22"]


def _run(server: ScriptedServer, subtask: int, out: Path, **config: Any) -> dict[str, Any]:
    cases = inputs_for(SPLIT, Subtask(subtask), IDS)
    settings = {"base_url": server.base_url, "model": "scripted", "max_retries": 0, **config}
    return run_system("llm-prompt", SPLIT, cases, Subtask(subtask), out, config=settings)


def _predictions(summary: dict[str, Any]) -> dict[str, Any]:
    entries = json.loads(Path(summary["submission"]).read_text(encoding="utf-8"))
    return {e["case_id"]: e["prediction"] for e in entries}


def test_self_consistency_votes_with_the_threshold(tmp_path: Path) -> None:
    replies = iter(['["1", "2"]', '["1"]', '["1", "3"]'] * 2)
    with ScriptedServer(lambda body: next(replies)) as server:
        summary = _run(server, 2, tmp_path, samples=3, vote_threshold=0.6, concurrency=1)
    assert _predictions(summary) == {"21": ["1"], "22": ["1"]}
    temperatures = {body["temperature"] for body in server.bodies}
    assert temperatures == {0.7}
    assert len({body["seed"] for body in server.bodies}) == 3  # one seed per sample
    assert summary["system_stats"]["usage"]["requests"] == 6


def test_invalid_outputs_are_retried_then_recorded_with_a_safe_prediction(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def reply(body: dict[str, Any]) -> str:
        prompt = body["messages"][-1]["content"]
        return "no idea" if "splenic" in prompt.lower() or "spleen" in prompt.lower() else '{"1": ["2"]}'

    with caplog.at_level(logging.WARNING), ScriptedServer(reply) as server:
        summary = _run(server, 4, tmp_path, parse_retries=2)
    predictions = _predictions(summary)
    assert all(link["evidence_id"] == [] for link in predictions["21"])  # case 21 is the spleen case
    assert [link["answer_id"] for link in predictions["21"]] == [a.id for a in SPLIT.case("21").answer_sentences]
    assert predictions["22"][0]["evidence_id"] == ["2"]
    assert "case 21 subtask 4: no valid output after 3 attempt(s)" in caplog.text
    records = [json.loads(line) for line in Path(summary["predictions"]).read_text().splitlines()[1:]]
    meta = {r["case_id"]: r["meta"] for r in records}
    assert meta["21"]["invalid"] is True and meta["21"]["invalid_outputs"] == ["no idea"] * 3
    assert "invalid" not in meta["22"]
    retried = [b for b in server.bodies if "spleen" in b["messages"][-1]["content"].lower()]
    assert len(retried) == 3 and retried[0]["temperature"] == 0.0 and retried[1]["temperature"] == 0.7


def test_text_subtasks_never_submit_an_empty_answer(tmp_path: Path) -> None:
    with ScriptedServer(lambda body: "   ") as server:
        summary = _run(server, 3, tmp_path, parse_retries=1, fallback_text="No answer available.")
    assert _predictions(summary) == {"21": "No answer available.", "22": "No answer available."}


def test_a_killed_run_resumes_from_the_response_cache(tmp_path: Path) -> None:
    with ScriptedServer(lambda body: "When can I return to work?") as server:
        first = _run(server, 1, tmp_path)
        assert len(server.bodies) == 2
        Path(first["predictions"]).unlink()  # the run store lost everything; the cache did not
        second = _run(server, 1, tmp_path)
    assert len(server.bodies) == 2  # nothing asked again
    assert second["system_stats"]["usage"]["cache_hits"] == 2
    assert _predictions(second) == _predictions(first)
    usage = json.loads((Path(second["predictions"]).parent / "llm_usage.json").read_text())
    assert usage["usage"]["cache_hits"] == 2


def test_answer_first_keeps_the_cited_sentences(tmp_path: Path) -> None:
    with ScriptedServer(lambda body: "Rest for two weeks. |2| Then walk. |5,99|") as server:
        summary = _run(server, 2, tmp_path, evidence_mode="answer-first")
    assert _predictions(summary) == {"21": ["2", "5"], "22": ["2", "5"]}
    assert "between bars" in server.bodies[0]["messages"][-1]["content"]
