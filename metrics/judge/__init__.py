"""The LLM judge (not official): rubric-based verdicts on answers, blind or non-blind, pointwise or pairwise,
the self-preference bias experiment and agreement statistics (docs/llm_judge.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.data.model import Split
from harness.tasks import Task
from metrics.judge.config import JudgeConfig, JudgeConfigError, load_config
from metrics.judge.core import (
    JUDGE_TASKS,
    Author,
    Judge,
    JudgeError,
    JudgeItem,
    JudgeResult,
    Rubric,
    add_to_report,
    answer_texts,
    author_for,
    check_task,
    judge_items,
    load_rubric,
    parse_preference,
    parse_verdict,
)

__all__ = [
    "JUDGE_TASKS",
    "Author",
    "Judge",
    "JudgeConfig",
    "JudgeConfigError",
    "JudgeError",
    "JudgeItem",
    "JudgeResult",
    "Rubric",
    "add_to_report",
    "answer_texts",
    "author_for",
    "check_task",
    "judge_items",
    "judge_report",
    "load_config",
    "load_rubric",
    "parse_preference",
    "parse_verdict",
]


def judge_report(
    report: Any, entries: Any, split: Split, task: Task, config: JudgeConfig, *, cache_dir: str | Path, file: str
) -> Any:
    """``report`` with the judge section: the configured protocol over the report's cases (non-blind: the
    judge is told ``config.author`` wrote the answers)."""
    check_task(task)
    if config.protocol == "non-blind" and not config.author:
        raise JudgeConfigError(
            "judge config: protocol non-blind needs author (the system named as the answers' author)"
        )
    answers = answer_texts(task, entries, report.case_ids, file)
    items = judge_items(task, split, answers)
    judge = Judge.open(config, cache_dir)
    try:
        result = judge.pointwise(items, author_for(config, config.author if config.protocol == "non-blind" else None))
    finally:
        judge.close()
    return add_to_report(report, result)
