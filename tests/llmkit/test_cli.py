from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from llmkit.cli import llm_group


def test_stop_without_a_running_server_is_one_line_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(llm_group, ["stop", "--state-file", str(tmp_path / "none.json")])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: no running server recorded in")
    assert "Traceback" not in result.output


def test_a_corrupt_state_file_is_reported(tmp_path: Path) -> None:
    state = tmp_path / "server.json"
    state.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(llm_group, ["status", "--state-file", str(state)])
    assert result.exit_code == 1
    assert "not a server state file" in result.output


def test_serve_refuses_a_public_listen_address() -> None:
    result = CliRunner().invoke(llm_group, ["serve", "--host", "8.8.8.8"])
    assert result.exit_code == 2
    assert "not a loopback or private address" in result.output
