"""The frames the parent, the zygote and the sandboxed child exchange, and their pipe framing.

Parent and zygote talk over two private pipes in length-prefixed JSON frames (`send`, `recv`):
- parent → zygote: `RunFrame` (a job), `CancelFrame` (kill that job's child), `CloseFrame`;
- zygote → parent: one `ReadyFrame` once warm, then one `ResultFrame` per job.
The zygote forwards a `RunFrame` as it came to the child that runs it, framed the same way, over
the child's job pipe. The child answers with one `ChildReport` on its own result pipe, unframed:
the whole pipe up to end of file (the zygote caps its size and can tell a child that died
mid-write from one that finished). The job's result itself is the job's own dict.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

HEADER = struct.Struct("!I")  # the length of the JSON body that follows, in bytes


class RunFrame(TypedDict):
    """A job: run `func` ("module:function") on `payload` under `limits` (SandboxLimits.to_json)
    for at most `timeout_s` seconds."""

    op: Literal["run"]
    id: int
    func: str
    payload: dict[str, Any]
    timeout_s: float
    limits: dict[str, int]


class CancelFrame(TypedDict):
    op: Literal["cancel"]
    id: int


class CloseFrame(TypedDict):
    op: Literal["close"]


class ReadyFrame(TypedDict):
    """The zygote is warm: what its kernel offers the sandbox, and what warming it met."""

    op: Literal["ready"]
    pid: int
    landlock: str
    seccomp: str
    warm_ms: int
    problems: list[str]


class ResultFrame(TypedDict):
    op: Literal["result"]
    id: int
    result: dict[str, Any]


class ChildReport(TypedDict):
    """What a child writes on its result pipe: the job's result, and what its sandbox achieved
    (SandboxState.to_json; absent when the result says why the job could not run)."""

    result: dict[str, Any]
    sandbox: NotRequired[dict[str, str] | None]


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def send(fd: int, frame: Mapping[str, Any]) -> None:
    data = json.dumps(frame, separators=(",", ":")).encode()
    write_all(fd, HEADER.pack(len(data)) + data)


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = os.read(fd, n - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def recv(fd: int) -> dict[str, Any] | None:
    """One whole frame (the peer always writes whole frames), or None at end of file."""
    head = _read_exact(fd, HEADER.size)
    if head is None:
        return None
    body = _read_exact(fd, HEADER.unpack(head)[0])
    return None if body is None else json.loads(body)
