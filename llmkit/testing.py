"""A scripted OpenAI-compatible server (stdlib only) for tests of parsing, retries and bookkeeping.

It answers ``POST /v1/chat/completions`` from a script: each item is a reply text, or an ``int`` HTTP status
to fail with (``Retry-After: 0``). A callable script gets the request body and returns either. It is a real
HTTP server on 127.0.0.1; tests of the model itself use the local server (:mod:`llmkit.server`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | int
Script = Callable[[dict[str, Any]], Reply]


class ScriptedServer:
    def __init__(self, script: Iterable[Reply] | Script) -> None:
        if callable(script):
            self._script: Script = script
        else:
            replies = list(script)
            lock = threading.Lock()

            def next_reply(body: dict[str, Any]) -> Reply:
                with lock:
                    if not replies:
                        return 500
                    return replies.pop(0)

            self._script = next_reply
        self.bodies: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.bodies.append(body)
                reply = server._script(body)
                if isinstance(reply, int):
                    payload = json.dumps({"error": {"message": f"scripted status {reply}"}}).encode()
                    self.send_response(reply)
                    self.send_header("Retry-After", "0")
                else:
                    payload = json.dumps(
                        {
                            "id": "scripted",
                            "object": "chat.completion",
                            "created": 0,
                            "model": body.get("model", ""),
                            "choices": [
                                {
                                    "index": 0,
                                    "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": reply},
                                }
                            ],
                            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                        }
                    ).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
