"""Lying frames sent to a real `deepeval-lsp serve --stdio`: after each, a valid request is
answered within 10 s and the process lives (the frame reader's rules, end to end)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_framing import MALFORMED
from .wire import Wire

ANSWER_S = 10.0


@pytest.fixture(scope="module")
def wire():
    w = Wire()
    w.initialize({"dynamicChecks": False})
    yield w
    if w.proc.poll() is None:
        w.proc.kill()
        w.proc.wait()


def _valid_request_answered(wire: Wire, msg_id: str) -> None:
    wire.request(
        msg_id, "workspace/executeCommand", {"command": "deepeval.server.info", "arguments": []}
    )
    reply = wire.response(msg_id, ANSWER_S)
    assert reply["result"]["version"], reply
    assert wire.proc.poll() is None


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_each_malformed_frame_is_followed_by_an_answer(wire: Wire, kind: str):
    wire.write(MALFORMED[kind])
    _valid_request_answered(wire, f"after {kind}")


def test_a_frame_over_the_size_limit_is_refused_and_dropped(wire: Wire):
    body = json.dumps({"jsonrpc": "2.0", "id": "huge", "method": "x", "params": "y" * 100})
    wire.write(b"Content-Length: 100000000\r\n\r\n" + body.encode())
    reply = wire.response("huge", ANSWER_S)
    assert reply["error"]["code"] == -32600 and "limit" in reply["error"]["message"]
    _valid_request_answered(wire, "after huge")


def _request(msg_id: int, pad: int) -> bytes:
    params: dict[str, Any] = {"pad": "p" * pad}
    return json.dumps(
        {"jsonrpc": "2.0", "id": msg_id, "method": "deepeval/fuzz", "params": params}
    ).encode()


@st.composite
def frames(draw) -> bytes:
    """A frame with any of its parts mutated: header name's case, line ends, the length's
    value, extra or missing headers, a body of any size or no JSON at all."""
    body = draw(
        st.one_of(
            st.builds(_request, st.integers(1, 10**6), st.sampled_from([0, 10, 5000, 300_000])),
            st.binary(max_size=200),
        )
    )
    name = draw(st.sampled_from([b"Content-Length", b"content-length", b"CONTENT-LENGTH"]))
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    length = draw(
        st.one_of(
            st.just(b"%d" % len(body)),
            st.integers(-50, 50).map(lambda d: b"%d" % max(0, len(body) + d)),
            st.sampled_from([b"-1", b"", b"abc", b"1e3", b"99999999999999"]),
        )
    )
    head = [name + b": " + length + eol]
    if draw(st.booleans()):
        head.insert(draw(st.integers(0, 1)), b"Content-Type: application/vscode-jsonrpc" + eol)
    if draw(st.integers(0, 9)) == 0:
        head = []  # no header at all
    blank = draw(st.sampled_from([eol, eol, b""]))  # sometimes no blank line
    cut = draw(st.one_of(st.none(), st.integers(0, 400)))
    data = b"".join(head) + blank + body
    return data if cut is None else data[: len(data) - cut]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(junk=st.lists(frames(), min_size=1, max_size=3))
def test_fuzzed_frames_never_hang_or_kill_the_server(wire: Wire, junk: list[bytes]):
    wire.write(b"".join(junk))
    wire.seen.clear()
    _valid_request_answered(wire, "after fuzz")
