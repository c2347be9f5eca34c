"""Reading LSP frames (`Content-Length: N` headers, a blank line, N bytes of JSON) that may lie.

pygls's reader only knows `Content-Length: N\\r\\n` spelled exactly so, and trusts N: a header in
another case, LF-only line ends, a missing or non-numeric length, or a wrong N leave it waiting
for bytes that never come, and every later message is lost. This reader:

- accepts header names in any case, CRLF or LF line ends, and ignores unknown headers;
- when a header block cannot be used (no length, a length that is not a whole number, a line
  that is not a header) or the body is not JSON, it reads the message as "whatever lies between
  here and the next header", which is what a wrong length hides: a valid JSON message there is
  handled (the client gets its answer), anything else gets a ParseError;
- resynchronises on the next `Content-Length:` line. Such a line can never be part of a JSON
  body: it ends in a raw line break, which JSON only allows between tokens, where no letters are;
- never waits for bytes only a wrong length claims: it stops reading a body as soon as the next
  header shows up in it, and, when the client goes quiet, handles what it has if that is JSON;
- drops a frame over `max_bytes` without keeping it in memory (an error answer if its id shows).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_HEADER_LINE = 8 * 1024
# Quiet time after which a body that is complete JSON is taken as the whole message.
IDLE_S = 0.5
# Quiet time after which a body that is not (yet) JSON is given up (a very slow sender loses).
STALL_S = 5.0

_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_HEADER = re.compile(rb"(" + _TOKEN + rb")[ \t]*:[ \t]*(.*?)[ \t]*")
# The start of a header block, found anywhere in the stream. No '"' in the values: that keeps
# the pattern from matching across the end of a JSON string in a pretty-printed body.
# Both end where the search range ends (the line end found with a fast `find`).
_LENGTH_LINE = re.compile(rb"(?i)content-length[ \t]*:[^\r\n\"]{0,200}\r?\n\Z")
_TYPE_LINE = re.compile(rb"(?i)content-type[ \t]*:[^\r\n\"]{0,200}\r?\n\Z")
_LINE_MAX = 240  # longer than either line
_OVERLAP = 512  # longer than any header block's start: a search resumes this far back
_CONTENT_LENGTH = re.compile(rb"(?i)content-length[ \t]*:")
_ID = re.compile(
    rb'^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d{1,18}|"[^"\\]{0,200}")'
)


class Sink(Protocol):
    """Where the reader's results go (the server's protocol)."""

    def parse(self, body: bytes) -> Any:
        """The message in `body`; raises ValueError when it is not JSON."""

    def handle(self, message: Any) -> None: ...

    def reject(self, msg_id: Any, code: int, text: str) -> None:
        """Answer a frame that could not be read (`msg_id` None when it is unknown)."""

    def warn(self, text: str) -> None: ...

    def failed(self, error: Exception) -> None:
        """A message was read but handling it raised."""


def known_id(head: bytes) -> Any:
    """The request id at the start of a body that could not be read, or None."""
    m = _ID.match(head)
    if m is None:
        return None
    try:
        return json.loads(m.group(1))
    except ValueError:
        return None


def find_block(data: bytearray, start: int = 0, end: int | None = None) -> int | None:
    """Where the next header block starts in `data[start:end]` (a Content-Length line, or the
    Content-Type line just before one), or None."""
    stop = len(data) if end is None else end
    # A line end is rare in a body (clients write JSON on one line): find them with memchr
    # and look at the line each ends, rather than run a pattern over megabytes.
    nl = data.find(b"\n", start, stop)
    while nl >= 0:
        hit = _LENGTH_LINE.search(data, max(start, nl + 1 - _LINE_MAX), nl + 1)
        if hit is not None:
            at = hit.start()
            before = _TYPE_LINE.search(data, max(start, at - _LINE_MAX), at)
            return at if before is None else before.start()
        nl = data.find(b"\n", nl + 1, stop)
    return None


class ChunkSource:
    """Chunks of bytes from `read` (b"" at the end), waited for without ever losing one."""

    def __init__(self, read: Callable[[], Awaitable[bytes]]) -> None:
        self._read = read
        self._pending: asyncio.Future[bytes] | None = None

    async def next(self, timeout: float | None) -> bytes | None:
        """The next chunk, or None if none came within `timeout` (the read stays pending)."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._read())
        done, _ = await asyncio.wait({self._pending}, timeout=timeout)
        if not done:
            return None
        fut, self._pending = self._pending, None
        return fut.result()


class FrameReader:
    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600

    def __init__(
        self,
        source: ChunkSource,
        sink: Sink,
        *,
        max_bytes: int = MAX_MESSAGE_BYTES,
        idle_s: float = IDLE_S,
        stall_s: float = STALL_S,
    ) -> None:
        self.source = source
        self.sink = sink
        self.max_bytes = max_bytes
        self.idle_s = idle_s
        self.stall_s = stall_s
        self.buf = bytearray()
        self.eof = False

    async def _more(self, timeout: float | None = None) -> bool:
        """Read one more chunk into the buffer; False at the end or after `timeout` quiet s."""
        if self.eof:
            return False
        chunk = await self.source.next(timeout)
        if chunk is None:
            return False
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    async def run(self, stop: threading.Event | None = None) -> None:
        """Read and hand over messages until the end of the stream (or `stop`)."""
        while not (stop and stop.is_set()):
            if not await self._frame():
                break

    # -- one frame ----------------------------------------------------------------------------

    async def _frame(self) -> bool:
        """Read one frame (or resynchronise past a bad one); False at the end of the stream."""
        length: int | None = None
        bad: str | None = None
        headers = 0
        while True:  # the header block
            if headers == 0:
                self._skip_blank()
            end = self.buf.find(b"\n")
            if end < 0:
                if len(self.buf) > MAX_HEADER_LINE:
                    return await self._salvage(0, "a header line without a line end")
                pending = bool(self.buf.strip())
                if await self._more(self.idle_s if pending else None):
                    continue
                if not pending:
                    return False  # the end of the stream, between frames
                return await self._salvage(0, "an unfinished header line")
            line = bytes(self.buf[:end]).rstrip(b"\r")
            cut = _CONTENT_LENGTH.search(line, 1)
            if cut is not None:  # junk run into the next header: what came before is a body
                return await self._salvage(0, "a header block cut short", stop_at=cut.start())
            if not line:
                del self.buf[: end + 1]
                break
            m = _HEADER.fullmatch(line)
            if m is None:
                reason = "a message without headers" if headers == 0 else "a broken header block"
                return await self._salvage(0, reason)
            del self.buf[: end + 1]
            headers += 1
            if m.group(1).lower() == b"content-length" and length is None and bad is None:
                value = m.group(2)
                if value.isdigit():
                    length = int(value)
                else:
                    bad = f"Content-Length {value[:40]!r} is not a byte count"
        if bad is None and length is None:
            bad = "a header block without Content-Length"
        if bad is not None:
            return await self._salvage(0, bad)
        assert length is not None
        if length > self.max_bytes:
            return await self._drop_large(length)
        return await self._body(length)

    def _skip_blank(self) -> None:
        i = 0
        while i < len(self.buf) and self.buf[i] in b" \t\r\n":
            i += 1
        if i:
            del self.buf[:i]

    def _at_end(self) -> bool:
        if self.buf.strip():
            self.sink.warn(f"the stream ended inside a frame ({len(self.buf)} bytes dropped)")
        return False

    async def _body(self, length: int) -> bool:
        scanned = 0
        quiet = 0.0
        while len(self.buf) < length:
            hit = find_block(self.buf, max(0, scanned - _OVERLAP), length)
            if hit is not None:  # the next frame starts inside this one: the length was wrong
                return await self._salvage(
                    0, f"Content-Length {length} runs into the next frame", stop_at=hit
                )
            scanned = len(self.buf)
            if await self._more(self.idle_s):
                quiet = 0.0
                continue
            if self.eof:
                return await self._salvage(
                    0, f"the stream ended {length - len(self.buf)} bytes short of the frame"
                )
            quiet += self.idle_s
            if self._parses(self.buf) or quiet >= self.stall_s:
                return await self._salvage(
                    0, f"Content-Length {length} claims bytes that did not come"
                )
        try:
            message = self.sink.parse(bytes(self.buf[:length]))
        except ValueError:
            return await self._salvage(0, f"the {length} bytes framed are not a JSON message")
        except Exception as e:
            del self.buf[:length]
            self.sink.failed(e)
            return True
        del self.buf[:length]
        self._deliver(message)
        return True

    def _deliver(self, message: Any) -> None:
        try:
            self.sink.handle(message)
        except Exception as e:  # a handler's bug is the protocol's to report; reading goes on
            self.sink.failed(e)

    @staticmethod
    def _parses(data: bytearray) -> bool:
        text = bytes(data).strip()
        if not text.endswith((b"}", b"]")):
            return False
        try:
            json.loads(text)
        except ValueError:
            return False
        return True

    async def _salvage(self, start: int, why: str, stop_at: int | None = None) -> bool:
        """Take the bytes from `start` up to the next header block (or the quiet end of the
        stream) as one message: handle it if it is JSON, else answer ParseError."""
        end = stop_at
        scanned = start
        while end is None:
            end = find_block(self.buf, max(start, scanned - _OVERLAP))
            if end is not None:
                break
            scanned = len(self.buf)
            if len(self.buf) - start > self.max_bytes:
                return await self._drop_large(None, why)
            if not await self._more(self.idle_s):
                end = len(self.buf)
        candidate = bytes(self.buf[start:end])
        del self.buf[:end]
        text = candidate.strip()
        if not text:
            self.sink.warn(f"dropped a frame: {why}")
            return not self.eof or bool(self.buf)
        try:
            message = self.sink.parse(text)
        except ValueError as e:
            self.sink.warn(f"dropped {len(candidate)} bytes ({why}): {e}")
            self.sink.reject(known_id(text[:512]), self.PARSE_ERROR, f"Parse error: {why}")
        except Exception as e:
            self.sink.failed(e)
        else:
            self.sink.warn(f"read a message despite {why}")
            self._deliver(message)
        return not self.eof or bool(self.buf)

    async def _drop_large(self, length: int | None, why: str | None = None) -> bool:
        """Skip a frame over the size limit up to the next header block, keeping only a tail."""
        while len(self.buf) < 256 and await self._more(self.idle_s):
            pass
        msg_id = known_id(bytes(self.buf[:512]))
        size = f"{length} bytes" if length is not None else f"over {self.max_bytes} bytes"
        text = f"dropped a message of {size} (the limit is {self.max_bytes} bytes)"
        if why:
            text += f" after {why}"
        self.sink.warn(text)
        if msg_id is not None:
            self.sink.reject(msg_id, self.INVALID_REQUEST, text)
        while True:
            hit = find_block(self.buf)
            if hit is not None:
                del self.buf[:hit]
                return True
            if len(self.buf) > _OVERLAP:
                del self.buf[: len(self.buf) - _OVERLAP]
            if not await self._more():
                return self._at_end()
