"""The leaderboard: score reports in a local SQLite board, terminal and HTML views, paired significance tests.
Reads score reports only; imports no model and runs no system (``archehr reproduce`` lives in the app layer).

``leaderboard_group`` and ``reproduce_command`` (click) live in :mod:`archehr.leaderboard_cli`;
:func:`add_reports_and_render` (for ``archehr demo``) in :mod:`leaderboard.api`, also importable from here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["add_reports_and_render"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so ``import leaderboard`` stays light.
    if name == "add_reports_and_render":
        from leaderboard.api import add_reports_and_render

        return add_reports_and_render
    raise AttributeError(f"module 'leaderboard' has no attribute {name!r}")
