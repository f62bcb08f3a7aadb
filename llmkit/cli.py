"""``archehr llm serve|stop|status``: the local OpenAI-compatible server (see docs/llm_systems.md).

``serve`` runs in the foreground until Ctrl-C or SIGTERM, or with ``--detach`` leaves the server running and
writes its state file, which ``stop`` and ``status`` read. The server JSON (URL, model name) goes to stdout.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from harness.assets import cache_dir
from harness.atomic import atomic_write_text
from harness.cli_support import print_json, report_errors
from llmkit.guard import host_is_private
from llmkit.server import DEFAULT_HOST, DEFAULT_PORT, LocalServer, ServerError, stop_process_group

logger = logging.getLogger(__name__)


def default_state_file() -> Path:
    return cache_dir() / "llm-server" / "server.json"


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ServerError(
            f"no running server recorded in {path} (start one with `archehr llm serve --detach`)"
        ) from None
    except ValueError:
        raise ServerError(f"{path}: not a server state file; remove it") from None
    if not isinstance(state, dict) or not isinstance(state.get("pid"), int):
        raise ServerError(f"{path}: not a server state file; remove it")
    return state


def _is_our_server(pid: int) -> bool:
    """The pid still runs ``transformers serve`` (not a reused pid of another program)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"transformers.cli.transformers" in cmdline and b"serve" in cmdline


@click.group("llm")
def llm_group() -> None:
    """The local OpenAI-compatible LLM server (SmolLM2-135M-Instruct on 127.0.0.1)."""


@llm_group.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Listen address (loopback or private only).")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads of the server (default: all).")
@click.option("--detach", is_flag=True, help="Leave the server running in the background; stop it with `llm stop`.")
@click.option(
    "--state-file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Where --detach records it."
)
@click.option("--timeout", type=click.FloatRange(1), default=300.0, show_default=True, help="Start-up limit (s).")
@report_errors
def serve_command(
    host: str, port: int, threads: int | None, detach: bool, state_file: Path | None, timeout: float
) -> None:
    """Start the local server; prints its base URL and model name (JSON) once it answers."""
    if not host_is_private(host):
        raise click.UsageError(f"--host {host} is not a loopback or private address")
    state_path = state_file or default_state_file()
    if detach and state_path.exists():
        old = _read_state(state_path)
        if _is_our_server(old["pid"]):
            raise ServerError(f"a server is already running (pid {old['pid']}, {old['base_url']}); `archehr llm stop`")
    log_path = state_path.parent / f"server-{port}.log"
    server = LocalServer(host=host, port=port, threads=threads, log_path=log_path)
    click.echo(f"starting the local LLM server on {server.base_url} (log {log_path})", err=True)
    server.start(timeout_s=timeout)
    state = server.state()
    if detach:
        atomic_write_text(state_path, json.dumps(state, indent=1))
        print_json({**state, "state_file": str(state_path)})
        return
    print_json(state)
    sys.stdout.flush()
    stopped = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stopped.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        click.echo("serving; Ctrl-C stops it", err=True)
        while not stopped.is_set():
            if server.process is not None and server.process.poll() is not None:
                raise ServerError(f"local server exited with code {server.process.returncode} (log {log_path})")
            stopped.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        click.echo("local LLM server stopped", err=True)


@llm_group.command("stop")
@click.option("--state-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@report_errors
def stop_command(state_file: Path | None) -> None:
    """Stop a server started with ``serve --detach``."""
    path = state_file or default_state_file()
    state = _read_state(path)
    pid = state["pid"]
    stopped = _is_our_server(pid) and stop_process_group(pid)
    path.unlink(missing_ok=True)
    print_json({"pid": pid, "stopped": bool(stopped), "base_url": state.get("base_url")})


@llm_group.command("status")
@click.option("--state-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@report_errors
def status_command(state_file: Path | None) -> None:
    """The detached server's URL and model, and whether it still runs."""
    state = _read_state(state_file or default_state_file())
    print_json({**state, "running": _is_our_server(state["pid"])})
