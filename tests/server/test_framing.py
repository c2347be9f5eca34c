"""The frame reader on its own: every malformed frame is answered or dropped, and the next good
frame is read, whatever lies the headers told (fast: no server process)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from deepeval_lsp.server.framing import ChunkSource, FrameReader, find_block, known_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


class Sink:
    def __init__(self) -> None:
        self.handled: list[Any] = []
        self.rejected: list[tuple[Any, int]] = []
        self.warnings: list[str] = []

    def parse(self, body: bytes) -> Any:
        return json.loads(body)

    def handle(self, message: Any) -> None:
        self.handled.append(message)

    def reject(self, msg_id: Any, code: int, text: str) -> None:
        self.rejected.append((msg_id, code))

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def failed(self, error: Exception) -> None:
        raise AssertionError(f"unexpected failure: {error!r}")


def body(msg_id: Any, method: str = "m") -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method}).encode()


def frame(data: bytes, header: bytes | None = None) -> bytes:
    head = header if header is not None else b"Content-Length: %d\r\n\r\n" % len(data)
    return head + data


async def read_all(chunks: list[bytes], *, end: bool = True, max_bytes: int = 1 << 20) -> Sink:
    """Feed `chunks`; then the end of the stream, or (end=False) a client that waits for ever,
    in which case reading stops once the reader waits with nothing left to decide."""
    queue = list(chunks)
    never = asyncio.Event()

    async def read() -> bytes:
        if queue:
            return queue.pop(0)
        if end:
            return b""
        await never.wait()
        return b""

    sink = Sink()
    reader = FrameReader(ChunkSource(read), sink, max_bytes=max_bytes, idle_s=0.05, stall_s=0.2)
    task = asyncio.ensure_future(reader.run())
    if end:
        await asyncio.wait_for(task, 10)
    else:
        await asyncio.sleep(0.6)  # longer than every quiet-time rule of the reader
        assert not task.done(), "the reader stopped although the stream goes on"
        task.cancel()
    return sink


def run(coro):
    return asyncio.run(coro)


GOOD = frame(body(99, "final"))

MALFORMED = {
    "lower-case header": frame(body(1), b"content-length: %d\r\n\r\n" % len(body(1))),
    "LF-only header": frame(body(1), b"Content-Length: %d\n\n" % len(body(1))),
    "missing length": frame(body(1), b"Content-Type: application/json\r\n\r\n"),
    "no headers at all": body(1),
    "non-numeric length": frame(body(1), b"Content-Length: lots\r\n\r\n"),
    "negative length": frame(body(1), b"Content-Length: -5\r\n\r\n"),
    "absurd length": frame(body(1), b"Content-Length: 99999999999999999999\r\n\r\n"),
    "too short": frame(body(1), b"Content-Length: 10\r\n\r\n"),
    "too long": frame(body(1), b"Content-Length: %d\r\n\r\n" % (len(body(1)) + 500)),
    "slightly too long": frame(body(1), b"Content-Length: %d\r\n\r\n" % (len(body(1)) + 3)),
    "not JSON": frame(b"\xff\xfe garbage"),
    "garbage line": b"hello there\r\n" + frame(body(1)),
    "header without blank line": b"Content-Length: %d\r\n" % len(body(1)) + body(1),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_each_malformed_frame_then_a_good_one(kind: str):
    """The frame is handled, answered with an error or dropped with a warning; the next good
    frame is read either way, with the stream going on (the client waits) or ending."""
    for end in (True, False):
        sink = run(read_all([MALFORMED[kind], GOOD], end=end))
        assert sink.handled[-1]["id"] == 99, (kind, end, sink.__dict__)
        assert len(sink.handled) + len(sink.rejected) + len(sink.warnings) >= 2, sink.__dict__


@pytest.mark.parametrize("kind", ["too short", "too long", "missing length", "lower-case header"])
def test_a_wrong_or_missing_length_still_gets_its_request_answered(kind: str):
    sink = run(read_all([MALFORMED[kind], GOOD]))
    assert [m["id"] for m in sink.handled] == [1, 99]


def test_a_too_long_length_is_not_waited_for():
    """The client sends one frame whose length claims more, then waits for the answer."""
    sink = run(read_all([MALFORMED["too long"]], end=False))
    assert [m["id"] for m in sink.handled] == [1]


def test_a_body_that_is_not_json_gets_a_parse_error_with_its_id_when_it_shows():
    cut = b'{"jsonrpc": "2.0", "id": 7, "method": '
    sink = run(read_all([frame(cut), GOOD]))
    assert sink.rejected == [(7, -32700)]
    sink = run(read_all([frame(b'{"method": "x", "id": '), GOOD]))
    assert sink.rejected == [(None, -32700)]


def test_a_frame_over_the_limit_is_dropped_and_answered():
    big = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "m", "params": "x" * 5000}).encode()
    sink = run(read_all([frame(big), GOOD], max_bytes=1000))
    assert sink.rejected == [(5, -32600)] and [m["id"] for m in sink.handled] == [99]
    assert any("limit" in w for w in sink.warnings)


def test_byte_by_byte_delivery_and_mixed_line_ends():
    data = (
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
        b"CONTENT-LENGTH:%d\n\r\n" % len(body(1)) + body(1) + GOOD
    )
    sink = run(read_all([data[i : i + 1] for i in range(len(data))]))
    assert [m["id"] for m in sink.handled] == [1, 99] and not sink.warnings


def test_header_blocks_are_found_only_where_json_cannot_be():
    assert find_block(bytearray(b'{"a": "Content-Length: 5"\n}')) is None
    assert find_block(bytearray(b"}}Content-Length: 5\r\n\r\n")) == 2
    assert find_block(bytearray(b"x}Content-Type: t\r\nContent-Length: 5\r\n")) == 2
    assert known_id(b'{"jsonrpc":"2.0","id":"a-1","method":') == "a-1"
    assert known_id(b'{"params": {"id": 3}}') is None


_PIECES = st.sampled_from(
    [
        b"Content-Length: 10\r\n",
        b"content-length: 3\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: x\r\n",
        b"Content-Type: a\r\n",
        b"\r\n",
        b"\n",
        b"{",
        b"}",
        b'"id": 1',
        b"\xff",
        b"garbage",
        body(3),
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.lists(_PIECES, max_size=12), split=st.integers(1, 64))
def test_random_junk_never_hides_the_next_good_frame(junk: list[bytes], split: int):
    """Whatever comes before it, in whatever chunks, a good frame after a line break (junk
    cannot swallow it) is read."""
    data = b"".join(junk) + b"\r\n" + GOOD
    chunks = [data[i : i + split] for i in range(0, len(data), split)]
    sink = run(read_all(chunks))
    assert sink.handled and sink.handled[-1]["id"] == 99
