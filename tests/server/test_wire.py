"""What no well-behaved editor sends: every request gets an answer and the server stays up."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .wire import Wire

NO_FRAMEWORKS = [
    sys.executable,
    "-c",
    # The server's Python as it would be without torch and keras installed.
    "import sys; sys.modules['torch'] = None; sys.modules['keras'] = None; "
    "from deepeval_lsp.cli import main; raise SystemExit(main(['serve', '--stdio']))",
]


@pytest.fixture
def wire():
    w = Wire()
    w.initialize({"dynamicChecks": False})
    yield w
    if w.proc.poll() is None:
        w.proc.kill()
        w.proc.wait()


def _error(msg):
    assert "error" in msg, msg
    return msg["error"]["code"]


def test_malformed_messages_get_errors_and_the_server_lives(wire: Wire):
    wire.send_raw(b'{"jsonrpc": "2.0", "id": 1, "method": ')  # cut short: not JSON
    assert _error(wire.response(1)) == -32700  # its id shows, so the request is answered
    wire.send_raw(b'{"jsonrpc": "2.0", "method": "x", "id": ')  # no id to be read
    assert _error(wire.wait_for(lambda m: "error" in m and m.get("id") is None)) == -32700

    wire.request(2, "deepeval/noSuchMethod", {})
    assert _error(wire.response(2)) == -32601

    wire.request(3, "textDocument/hover", {"textDocument": 3})
    assert _error(wire.response(3)) == -32602

    wire.send_raw(b"[1, 2, 3]")
    assert _error(wire.wait_for(lambda m: "error" in m and m.get("id") is None)) == -32600

    wire.send_raw(b'{"jsonrpc": "2.0", "id": 4}')
    assert _error(wire.response(4)) == -32600

    wire.notify("deepeval/noSuchNotification", {"x": 1})
    wire.send_raw(b"\xff\xfe not utf-8")
    wire.request(5, "textDocument/codeAction", {"bogus": True})
    assert _error(wire.response(5)) == -32602

    wire.request(
        6, "workspace/executeCommand", {"command": "deepeval.server.info", "arguments": []}
    )
    info = wire.response(6)
    assert info["result"]["version"]
    assert wire.close() == 0


def test_binary_and_huge_documents_do_not_crash(wire: Wire, tmp_path: Path):
    uri = (tmp_path / "bin.py").as_uri()
    wire.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": uri,
                "languageId": "python",
                "version": 1,
                "text": "x = 1\x00\x01\x02 = (\n",
            }
        },
    )
    pub = wire.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    assert pub["params"]["uri"] == uri

    big = (tmp_path / "big.py").as_uri()
    text = "x = [" + "1, " * 1_200_000 + "]\n"  # 3.6 MB
    wire.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": big, "languageId": "python", "version": 1, "text": text}},
    )
    status = wire.wait_for(
        lambda m: m.get("method") == "deepeval/status" and m["params"]["uri"] == big
    )
    assert "too large" in status["params"]["text"]

    nested = (tmp_path / "nested.py").as_uri()
    wire.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": nested,
                "languageId": "python",
                "version": 1,
                "text": "x = " + "(" * 5000 + ")" * 5000,
            }
        },
    )
    wire.wait_for(lambda m: m.get("method") == "deepeval/status" and m["params"]["uri"] == nested)
    wire.request(7, "shutdown")
    assert "result" in wire.response(7)


def test_without_torch_static_checks_still_run_with_one_message(tmp_path: Path):
    w = Wire(NO_FRAMEWORKS)
    try:
        w.initialize()
        shown = w.wait_for(lambda m: m.get("method") == "window/showMessage")
        assert "only static checks run" in shown["params"]["message"]
        uri = (tmp_path / "m.py").as_uri()
        w.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": "import torch\nx = (\n",
                }
            },
        )
        pub = w.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        assert [d["code"] for d in pub["params"]["diagnostics"]] == ["DL001"]
        status = w.wait_for(lambda m: m.get("method") == "deepeval/status")
        assert status["params"]["final"] is True  # no dynamic check follows
        w.request(
            8, "workspace/executeCommand", {"command": "deepeval.server.info", "arguments": []}
        )
        assert w.response(8)["result"]["dynamic"]["enabled"] is False
        assert w.close() == 0
        messages = [m for m in w.seen if m.get("method") == "window/showMessage"]
        assert len(messages) == 1
    finally:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


STRAY_PRINTS = [
    sys.executable,
    "-c",
    # Code that prints to standard output while the server runs (as an import might).
    "import os, sys, threading; from deepeval_lsp.cli import main; "
    "threading.Timer(2.5, lambda: (print('stray print'), sys.stdout.flush(), "
    "os.write(1, b'stray write\\n'))).start(); "
    "raise SystemExit(main(['serve', '--stdio']))",
]


def test_stray_output_goes_to_stderr_not_into_the_protocol():
    w = Wire(STRAY_PRINTS)
    try:
        w.initialize({"dynamicChecks": False})
        import time

        time.sleep(3.0)  # the prints come 2.5 s after start, once the server runs
        w.request(
            9, "workspace/executeCommand", {"command": "deepeval.server.info", "arguments": []}
        )
        assert "result" in w.response(9)
        assert w.close() == 0
        assert w.junk == []
        err = w.proc.stderr.read().decode()
        assert "stray print" in err and "stray write" in err
    finally:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()
