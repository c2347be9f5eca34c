"""A bare JSON-RPC peer over a server's stdio, for sending what no well-behaved client would."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from typing import Any

SERVER = [sys.executable, "-m", "deepeval_lsp", "serve", "--stdio"]


class Wire:
    def __init__(self, cmd: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            cmd or SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.junk: list[bytes] = []  # stdout lines that are not LSP headers
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("utf-8", "replace").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() != "content-type":
                    self.junk.append(line)
            if length is None:
                continue
            self.inbox.put(json.loads(out.read(length)))

    def write(self, data: bytes) -> None:
        """Bytes as they are: no header added."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send_raw(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def request(self, id_: Any, method: str, params: Any = None) -> None:
        self.send({"id": id_, "method": method, "params": params})

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    def wait_for(self, predicate, timeout: float = 60.0) -> dict[str, Any]:
        """The next message matching `predicate` (others seen meanwhile are kept in `seen`)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for a message from the server")
            try:
                msg = self.inbox.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(msg)
            if predicate(msg):
                return msg

    seen: list[dict[str, Any]]

    def response(self, id_: Any, timeout: float = 60.0) -> dict[str, Any]:
        return self.wait_for(lambda m: m.get("id") == id_ and "method" not in m, timeout)

    def initialize(self, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        self.seen = []
        self.request(
            0,
            "initialize",
            {
                "processId": None,
                "rootUri": None,
                "capabilities": {},
                "initializationOptions": {"settings": settings or {}},
            },
        )
        result = self.response(0)
        self.notify("initialized", {})
        return result

    def close(self) -> int:
        try:
            self.request("bye", "shutdown")
            self.response("bye", 10)
            self.notify("exit")
            return self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
