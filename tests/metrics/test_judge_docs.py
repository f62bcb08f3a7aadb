"""docs/llm_judge.md runs: its files are written and its bash block runs in order, in an empty folder, on the
synthetic data. The judge config's endpoint (the local server) is pointed at a scripted server instead, which
always answers one valid verdict: the local server itself is exercised by test_judge_end_to_end.py."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archehr.cli import cli
from llmkit.testing import ScriptedServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "llm_judge.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)
VERDICT = '{"grounded": 4, "answers": 4, "consistent": 3, "patient": 5, "rationale": "scripted"}'


def test_the_doc_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [(m.group(1), m.group(2).strip(), m.group(3)) for m in FENCE.finditer(DOC.read_text(encoding="utf-8"))]
    monkeypatch.chdir(tmp_path)
    ran = 0
    with ScriptedServer(_reply) as server:
        for language, info, body in blocks:
            if info.startswith("file="):
                if language == "yaml":
                    assert "base_url: http://127.0.0.1:8011/v1" in body and "model: local" in body
                    body = body.replace("http://127.0.0.1:8011/v1", server.base_url).replace("model: local", "model: s")
                Path(info.removeprefix("file=")).write_text(body, encoding="utf-8")
            elif language == "bash":
                for line in body.splitlines():
                    words = shlex.split(line, comments=True)
                    if not words:
                        continue
                    assert words[0] == "archehr", line
                    result = CliRunner().invoke(cli, [*words[1:], "--format", "json"] if _formats(words) else words[1:])
                    assert result.exit_code == 0, f"{line}\n{result.output}"
                    ran += 1
        asked = len(server.bodies)
    assert ran == 7
    # score --judge: 2 cases; bias: 2 systems x 2 protocols x 2 cases; pairwise: 2 cases x 2 orders
    assert asked == 2 + 2 * 2 * 2 + 2 * 2
    report: dict[str, Any] = json.loads((tmp_path / "runs" / "bl3" / "judged.json").read_text())
    assert report["judge"]["scores"]["judge_mean"] == 75.0 and report["judge"]["n_valid"] == 2
    bias = json.loads((tmp_path / "runs" / "bias.json").read_text())
    assert bias["systems"]["baseline"]["is_judge"] and bias["self_minus_other"]["delta"] == 0.0
    from leaderboard.store import LeaderboardStore

    with LeaderboardStore(tmp_path / "runs" / "board.sqlite") as store:  # --leaderboard: its own table
        (stored,) = store.bias_experiments()
        assert stored.result == bias and store.entries() == []


def _reply(body: dict[str, Any]) -> str:
    return '{"better": "tie"}' if "Answer 1" in body["messages"][-1]["content"] else VERDICT


def _formats(words: list[str]) -> bool:
    return words[1] in {"score", "judge"}
