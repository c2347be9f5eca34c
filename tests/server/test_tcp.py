"""`deepeval-lsp serve --tcp HOST:PORT`: the same server over a socket; bad addresses refused."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _frame(msg: dict) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, b""

    def message(self) -> dict:
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        headers = dict(line.split(b":", 1) for line in head.split(b"\r\n"))
        length = int(headers[b"Content-Length"])
        while len(self.buf) < length:
            self.buf += self.sock.recv(4096)
        body, self.buf = self.buf[:length], self.buf[length:]
        return json.loads(body)

    def response(self, id_: int) -> dict:
        while True:
            msg = self.message()
            if msg.get("id") == id_ and "method" not in msg:
                return msg


def test_serve_over_tcp():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "deepeval_lsp", "serve", "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "server not listening"
                time.sleep(0.1)
        with sock:
            sock.sendall(
                _frame(
                    {
                        "id": 1,
                        "method": "initialize",
                        "params": {
                            "processId": None,
                            "rootUri": None,
                            "capabilities": {},
                            "initializationOptions": {"settings": {"dynamicChecks": False}},
                        },
                    }
                )
            )
            reader = _Reader(sock)
            reply = reader.response(1)
            assert reply["id"] == 1 and "codeActionProvider" in reply["result"]["capabilities"]
            assert reply["result"]["serverInfo"]["name"] == "deepeval-lsp"
            sock.sendall(_frame({"id": 2, "method": "shutdown"}))
            assert "error" not in reader.response(2)
    finally:
        proc.kill()
        proc.wait()


def test_bad_tcp_address_is_one_line_error():
    proc = subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "serve", "--tcp", "localhost"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "expected HOST:PORT" in proc.stderr and "Traceback" not in proc.stderr
