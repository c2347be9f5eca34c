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


def _serve() -> tuple[subprocess.Popen, socket.socket]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "deepeval_lsp", "serve", "--tcp", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            return proc, socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("server not listening") from None
            time.sleep(0.1)


def test_lying_frames_over_tcp_are_survived():
    """The TCP transport reads frames as stdio does: lower case, LF only, wrong lengths."""
    proc, sock = _serve()
    try:
        with sock:
            reader = _Reader(sock)
            # Each is answered (an error: no such method): it was read, whatever its frame said.
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "deepeval/none"}).encode()
            sock.sendall(b"content-length: %d\n\n" % len(body) + body)
            assert reader.response(1)["error"]
            sock.sendall(b"Content-Length: 5\r\n\r\n" + body.replace(b": 1", b": 2"))
            assert reader.response(2)["error"]
            sock.sendall(b"Content-Length: 900\r\n\r\n" + body.replace(b": 1", b": 3"))
            assert reader.response(3)["error"]  # the quiet client: not waited
            sock.sendall(_frame({"id": 4, "method": "shutdown"}))
            assert "error" not in reader.response(4)
    finally:
        proc.kill()
        proc.wait()


def test_serve_over_tcp():
    proc, sock = _serve()
    try:
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
