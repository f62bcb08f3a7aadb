"""``archehr demo`` follows the registry: systems declare their demo plan, trainer and commands on their entries."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import archehr.demo
import harness.systems
from archehr.cli import cli
from archehr.demo import demo_plan, run_demo
from harness.data.model import Case, Subtask
from harness.errors import HarnessError
from harness.systems import (
    DemoPlan,
    Prediction,
    SystemCard,
    TrainOptions,
    get_system_entry,
    list_systems,
    register_system,
    register_trainer,
)


class FirstSentences:
    """Subtask 2: the first ``pick`` note sentences."""

    def __init__(self, name: str, pick: int) -> None:
        self.pick = pick
        self.card = SystemCard(name, "0", (2,), "test", {"pick": pick})

    def predict(self, cases: Sequence[Case], subtask: Subtask) -> Iterator[Prediction]:
        for case in cases:
            yield Prediction(case.case_id, case.sentence_ids()[: self.pick])


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[TrainOptions]:
    """A private copy of the registry holding two demo systems: one trained, one reusing that training."""
    list_systems()  # discover the built-in systems first
    monkeypatch.setattr(harness.systems, "_REGISTRY", dict(harness.systems._REGISTRY))
    trained: list[TrainOptions] = []
    config = tmp_path / "leader.yaml"
    config.write_text("pick: 2\n", encoding="utf-8")

    @register_system("zz-leader", subtasks=(2,), description="t", demo=DemoPlan((2,), train_config=config))
    def leader(overrides: Mapping[str, Any]) -> FirstSentences:
        return FirstSentences("zz-leader", int(overrides.get("pick", 1)))

    @register_trainer("zz-leader")
    def train(options: TrainOptions) -> dict[str, Any]:
        trained.append(options)
        return {"run_config": {"pick": 3}}

    @register_system("aa-follower", subtasks=(2,), description="t", demo=DemoPlan((2,), trained_by="zz-leader"))
    def follower(overrides: Mapping[str, Any]) -> FirstSentences:
        return FirstSentences("aa-follower", int(overrides.get("pick", 1)))

    return trained


def test_the_demo_runs_the_plans_the_registry_holds(registry: list[TrainOptions], tmp_path: Path) -> None:
    assert [e.name for e in demo_plan(("aa-follower", "zz-leader"))] == ["zz-leader", "aa-follower"]  # trainer first
    summary = run_demo(tmp_path / "out", only=("aa-follower", "zz-leader"))
    assert len(registry) == 1 and registry[0].config.endswith("leader.yaml") and registry[0].split == "dev"
    runs = {Path(r["report"]).parts[-3]: r for r in summary["runs"]}
    assert set(runs) == {"zz-leader", "aa-follower"}
    for run in runs.values():
        submission = json.loads(Path(run["submission"]).read_text(encoding="utf-8"))
        assert all(len(item["prediction"]) == 3 for item in submission)  # the follower got the leader's run_config
    assert Path(summary["leaderboard"]["html"]).is_file()
    with pytest.raises(HarnessError, match="no demo system named nope"):
        demo_plan(("nope",))


def test_a_demo_plan_runs_inside_its_service_on_its_cases(
    registry: list[TrainOptions], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan's service (a local server, for llm-prompt) is running during the runs and gives config overrides;
    ``run_config`` and ``case_ids`` reach the run and the scorer."""
    events: list[str] = []
    seen: list[Mapping[str, Any]] = []
    run_config = tmp_path / "run.yaml"
    run_config.write_text("pick: 1\n", encoding="utf-8")

    @contextlib.contextmanager
    def service() -> Iterator[dict[str, Any]]:
        events.append("start")
        yield {"pick": 4}  # what a server would give: its URL; here a setting the system reads
        events.append("stop")

    def build(overrides: Mapping[str, Any]) -> FirstSentences:
        seen.append(dict(overrides))
        assert events == ["start"]  # built while the service runs
        return FirstSentences("served", int(overrides.get("pick", 1)))

    plan = DemoPlan((2,), run_config=run_config, case_ids=("21", "22"), service=service)
    register_system("served", subtasks=(2,), description="t", demo=plan)(build)
    summary = run_demo(tmp_path / "out", only=("served",))
    assert events == ["start", "stop"]
    assert seen[0]["config"] == str(run_config) and seen[0]["pick"] == 4
    (run,) = summary["runs"]
    submission = json.loads(Path(run["submission"]).read_text(encoding="utf-8"))
    assert [item["case_id"] for item in submission] == ["21", "22"]
    report = json.loads(Path(run["report"]).read_text(encoding="utf-8"))
    assert report["case_ids"] == ["21", "22"]


def test_the_demo_module_names_no_system_and_no_config_path() -> None:
    source = Path(archehr.demo.__file__).read_text(encoding="utf-8")
    assert "configs" not in source and ".yaml" not in source
    for entry in list_systems():
        assert f'"{entry.name}"' not in source, entry.name
    assert {e.name for e in demo_plan()} >= {"baseline", "qunlp", "qunlp-aligner", "qunlp-evidence"}


def test_system_commands_and_trainers_live_on_registry_entries() -> None:
    aligner = get_system_entry("qunlp-aligner")
    assert [c.name for c in aligner.commands] == ["ablate"] and cli.commands["ablate"] is aligner.commands[0]
    assert aligner.trainer is not None and aligner.trainer is get_system_entry("qunlp-evidence").trainer
    assert get_system_entry("baseline").trainer is None
