"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions API, scripted by tests.

A script is a function of (the request's last user message, how many requests with that
message came before) returning a `Reply`: a status, a body (JSON-encoded unless raw), extra
headers, and a delay before answering. With `by_request`, it is a function of (the request's
body, with the whole conversation in its messages, and how many requests with that same
conversation came before), for scripts that answer each turn of a conversation. Every request
is logged with its arrival time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def completion(text: str, prompt_tokens: int = 11, completion_tokens: int = 22) -> Reply:
    return Reply(
        body={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "test-model",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": text},
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status=status, body={"error": {"message": message, "type": "test"}}, headers=headers or {}
    )


@dataclass
class Logged:
    at: float
    user: str
    model: str
    body: dict[str, Any]
    status: int = 0


Script = Callable[[str, int], Reply]
RequestScript = Callable[[dict[str, Any], int], Reply]


class FakeOpenAI:
    def __init__(self, script: Script | RequestScript, *, by_request: bool = False) -> None:
        self.script = script
        self.by_request = by_request
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                users = [m["content"] for m in body.get("messages", []) if m["role"] == "user"]
                user = users[-1] if users else ""
                seen = (
                    json.dumps(body.get("messages"), sort_keys=True) if server.by_request else user
                )
                with server._lock:
                    n = server._seen.get(seen, 0)
                    server._seen[seen] = n + 1
                    entry = Logged(time.monotonic(), user, body.get("model", ""), body)
                    server.log.append(entry)
                if not self.path.endswith("/chat/completions"):
                    reply = error(404, f"no route {self.path}")
                else:
                    reply = server.script(body if server.by_request else user, n)
                entry.status = reply.status
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout the test asked for)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_for(self, needle: str) -> list[Logged]:
        with self._lock:
            return [e for e in self.log if needle in e.user]
