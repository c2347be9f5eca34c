"""Escape attempts past the audit hook, for test_escapes.py; each one runs in a sandboxed child.

The pool imports them as "tests.diagnostics.sandbox.escape_jobs:NAME". The C library's functions
are looked up here, at import, in the zygote: a checked program that finds them some other way
calls them without any audit event, so only the kernel layers stand in the way. Each job raises
OSError when the kernel refuses it, and returns what it managed to do otherwise.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import socket
import struct
import time
from typing import Any

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_open = _libc.open
_SYS_IO_URING_SETUP, _SYS_IO_URING_ENTER = 425, 426  # the generic numbers, x86_64 and aarch64
_IORING_OFF_SQ_RING, _IORING_OFF_CQ_RING, _IORING_OFF_SQES = 0, 0x8000000, 0x10000000
_IORING_OP_SENDMSG, _IORING_OP_CONNECT, _IORING_OP_SOCKET = 9, 16, 45
_IORING_ENTER_GETEVENTS = 1


class _Params(ctypes.Structure):
    _fields_ = (
        ("sq_entries", ctypes.c_uint32),
        ("cq_entries", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("sq_thread_cpu", ctypes.c_uint32),
        ("sq_thread_idle", ctypes.c_uint32),
        ("features", ctypes.c_uint32),
        ("wq_fd", ctypes.c_uint32),
        ("resv", ctypes.c_uint32 * 3),
        ("sq_off", ctypes.c_uint32 * 10),  # head tail mask entries flags dropped array resv1 u64
        ("cq_off", ctypes.c_uint32 * 10),  # head tail mask entries overflow cqes flags resv1 u64
    )


class _Ring:
    """A one-entry io_uring, driven by hand: submit one operation, wait for its result."""

    def __init__(self) -> None:
        self.params = _Params()
        fd = _syscall(_SYS_IO_URING_SETUP, 4, ctypes.byref(self.params))
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"io_uring_setup: {os.strerror(err)}")
        self.fd = int(fd)
        p = self.params
        self.sq = mmap.mmap(self.fd, p.sq_off[6] + p.sq_entries * 4, offset=_IORING_OFF_SQ_RING)
        self.cq = mmap.mmap(self.fd, p.cq_off[5] + p.cq_entries * 16, offset=_IORING_OFF_CQ_RING)
        self.sqes = mmap.mmap(self.fd, p.sq_entries * 64, offset=_IORING_OFF_SQES)

    def _u32(self, ring: mmap.mmap, at: int) -> ctypes.c_uint32:
        return ctypes.c_uint32.from_buffer(ring, at)

    def run(self, opcode: int, fd: int, off: int, addr: int, length: int) -> int:
        """Submit one SQE (its fields as io_uring_sqe names them) and return its CQE's res."""
        p = self.params
        tail = self._u32(self.sq, p.sq_off[1])
        index = tail.value & self._u32(self.sq, p.sq_off[2]).value
        self.sqes[index * 64 : index * 64 + 64] = struct.pack(
            "<BBHiQQIIQHHi16x", opcode, 0, 0, fd, off, addr, length, 0, 1, 0, 0, 0
        )
        self._u32(self.sq, p.sq_off[6] + 4 * index).value = index
        tail.value += 1
        if _syscall(_SYS_IO_URING_ENTER, self.fd, 1, 1, _IORING_ENTER_GETEVENTS, None, 0) < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"io_uring_enter: {os.strerror(err)}")
        head = self._u32(self.cq, p.cq_off[0])
        cqe = p.cq_off[5] + 16 * (head.value & self._u32(self.cq, p.cq_off[2]).value)
        res = struct.unpack_from("<i", self.cq, cqe + 8)[0]
        head.value += 1
        if res < 0:
            raise OSError(-res, f"io_uring operation {opcode}: {os.strerror(-res)}")
        return res


def io_uring_udp(payload: dict[str, Any]) -> dict[str, Any]:
    """Send a datagram to 127.0.0.1:port with no socket(), connect() or sendto() syscall."""
    ring = _Ring()
    sock = ring.run(_IORING_OP_SOCKET, socket.AF_INET, socket.SOCK_DGRAM, 0, 0)
    name = ctypes.create_string_buffer(
        struct.pack("<H", socket.AF_INET)
        + struct.pack(">H", payload["port"])
        + bytes([127, 0, 0, 1])
        + bytes(8)
    )
    data = ctypes.create_string_buffer(payload["data"].encode())
    iov = (ctypes.c_uint64 * 2)(ctypes.addressof(data), len(payload["data"]))
    msghdr = ctypes.create_string_buffer(
        struct.pack("<QI4xQQQQi4x", ctypes.addressof(name), 16, ctypes.addressof(iov), 1, 0, 0, 0)
    )
    sent = ring.run(_IORING_OP_SENDMSG, sock, 0, ctypes.addressof(msghdr), 0)
    return {"status": "ok", "sent": sent}


def io_uring_unix(payload: dict[str, Any]) -> dict[str, Any]:
    """Connect to a pathname UNIX socket (as docker.sock is) through io_uring."""
    ring = _Ring()
    sock = ring.run(_IORING_OP_SOCKET, socket.AF_UNIX, socket.SOCK_STREAM, 0, 0)
    path = payload["path"].encode()
    addr = ctypes.create_string_buffer(struct.pack("<H", socket.AF_UNIX) + path + b"\0", 110)
    ring.run(_IORING_OP_CONNECT, sock, 2 + len(path) + 1, ctypes.addressof(addr), 0)
    return {"status": "ok", "connected": sock}


def memfd_fill(payload: dict[str, Any]) -> dict[str, Any]:
    """Hold memory in memfds, which no address-space limit counts (each one under the file-size
    limit, which write() to a memfd obeys)."""
    chunk = b"x" * (1 << 20)
    fds = []
    for i in range(payload["files"]):
        fds.append(os.memfd_create(f"hoard{i}"))
        for _ in range(payload["megabytes_each"]):
            os.write(fds[-1], chunk)
    return {"status": "ok", "bytes": sum(os.fstat(fd).st_size for fd in fds)}


def unlinked_fill(payload: dict[str, Any]) -> dict[str, Any]:
    """Write files that are deleted as soon as they are open (or born without a name, with
    O_TMPFILE): the folder's walk finds none of them, the disk holds them all."""
    chunk = b"x" * (1 << 20)
    kept = []
    for i in range(payload["files"]):
        if payload.get("tmpfile"):
            fd = os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o600)
        else:
            fd = os.open(f"f{i}", os.O_CREAT | os.O_WRONLY, 0o600)
            os.unlink(f"f{i}")
        for _ in range(payload["megabytes_each"]):
            os.write(fd, chunk)
        kept.append(fd)
    time.sleep(payload.get("hold_s", 2.0))  # long enough for the zygote's checks to look
    return {"status": "ok", "files": len(kept)}


def read_raw(payload: dict[str, Any]) -> dict[str, Any]:
    """Read a file with open(2) itself (no audit event), as C code of a library would."""
    fd = _open(payload["path"].encode(), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{payload['path']}: {os.strerror(err)}")
    data = os.read(fd, 200)
    os.close(fd)
    return {"status": "ok", "text": data.decode("latin-1")}


def identity(payload: dict[str, Any]) -> dict[str, Any]:
    """Who the child is, and what network it sees."""
    with open("/proc/self/net/dev") as f:
        interfaces = [line.split(":")[0].strip() for line in f.readlines()[2:]]
    with open("/proc/self/status") as f:
        caps = dict(line.split(":\t") for line in f if line.startswith("Cap"))
    return {
        "status": "ok",
        "uid": os.getuid(),
        "gid": os.getgid(),
        "groups": os.getgroups(),
        "interfaces": interfaces,
        "cap_eff": caps["CapEff"].strip(),
        "cwd_owner": os.stat(".").st_uid,
    }
