"""The sandboxed child's result channel, held so that the checked program cannot write its verdict.

The zygote reads each child's result from a pipe. A pipe's write end cannot be protected by
descriptor number alone: any process may re-open its own descriptors through /proc/self/fd/N, and
Landlock lets that through (a pipe lives on no path it governs), so a C-level writer such as
`tf.io.write_file("/proc/self/fd/5", ...)` would reach the pipe under a fresh number. So the child
never holds the pipe while the program runs:

1. `park()`, before the sandbox is entered: the pipe's write end is sent over a private Unix socket
   pair (SCM_RIGHTS) and closed. From then on it is in no descriptor table, only in flight in the
   socket's queue; the child keeps only the receiving socket.
2. `seal()`, once the job is read and right before it runs: every other descriptor but stdin,
   stdout and stderr is closed, and a second seccomp filter (filters stack, so it only adds to
   seccomp.py's) makes the kernel refuse every way of taking the pipe out of that socket but one:
   read, readv, preadv, recvfrom, recvmsg, splice and sendfile from it; write, send or connect
   on it; dup, dup2, dup3, fcntl, close, close_range and shutdown of it; pidfd_getfd, io_uring
   and Linux AIO altogether. Only recvmmsg stays, which Python's os and socket modules do not
   expose. A socket cannot be re-opened
   through /proc. fd arguments are compared on their low 32 bits, as the kernel reads them.
3. `take_back()`, after the job: recvmmsg takes the pipe back, the report is written, the pipe
   closed. take_back answers one caller only: the report path (entry.run_child → _after_job →
   _report, with no other run_child frame below and no other thread alive), so a program that
   calls it, or a copy of that chain, from its own code or its own thread is refused; compiling
   code under the checker's file names is refused by the audit hook.

Limits, honestly: in Python 3.11, calling a foreign function through ctypes raises no audit event,
and `ctypes._memmove_addr` and the like are addresses anyone can call; a program that runs native
code that way can call recvmmsg itself, as it can do anything else the process may. The audit hook
refuses what it can see of that (audit.py), the integrity check (child/integrity.py) whatever
changes the checker's code, and the parent validates what comes back; this layer holds against
every program that writes through Python's own functions or through a library's C code.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import socket
import sys
from dataclasses import dataclass
from typing import Any

from deepeval_lsp.diagnostics.sandbox.seccomp import (
    _JEQ_K,
    _JGE_K,
    _LD_W_ABS,
    _RET_ALLOW,
    _RET_ERRNO,
    _RET_K,
    _SockFilter,
    _SockFprog,
)

_JGT_K = 0x25
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1  # every thread of the process, not only the caller
_PR_SET_NO_NEW_PRIVS = 38
_MSG_CMSG_CLOEXEC = 0x40000000
_MSG_DONTWAIT = 0x40  # the descriptor is there or lost: never wait for it
_SOL_SOCKET = 1
_SCM_RIGHTS = 1

# fd arguments checked per syscall: "any" refuses when one of them is the socket; "range" is
# close_range's (first, last) bounds.
_ANY, _RANGE, _ALWAYS = "any", "range", "always"

# arch: (AUDIT_ARCH value, the seccomp syscall's number, {name: number})
_ARCHES = {
    "x86_64": (
        0xC000003E,
        317,
        {
            "read": 0,
            "write": 1,
            "close": 3,
            "pwrite64": 18,
            "writev": 20,
            "connect": 42,
            "sendto": 44,
            "sendmsg": 46,
            "pwritev": 296,
            "sendmmsg": 307,
            "pwritev2": 328,
            "pread64": 17,
            "readv": 19,
            "dup": 32,
            "dup2": 33,
            "sendfile": 40,
            "recvfrom": 45,
            "recvmsg": 47,
            "shutdown": 48,
            "fcntl": 72,
            "io_setup": 206,
            "splice": 275,
            "dup3": 292,
            "preadv": 295,
            "preadv2": 327,
            "copy_file_range": 326,
            "io_uring_setup": 425,
            "close_range": 436,
            "pidfd_getfd": 438,
        },
    ),
    "aarch64": (
        0xC00000B7,
        277,
        {
            "io_setup": 0,
            "dup": 23,
            "dup3": 24,
            "fcntl": 25,
            "close": 57,
            "read": 63,
            "write": 64,
            "readv": 65,
            "writev": 66,
            "pwrite64": 68,
            "pwritev": 70,
            "connect": 203,
            "sendto": 206,
            "sendmsg": 211,
            "sendmmsg": 269,
            "pwritev2": 287,
            "pread64": 67,
            "preadv": 69,
            "sendfile": 71,
            "splice": 76,
            "recvfrom": 207,
            "shutdown": 210,
            "recvmsg": 212,
            "preadv2": 286,
            "copy_file_range": 285,
            "io_uring_setup": 425,
            "close_range": 436,
            "pidfd_getfd": 438,
        },
    ),
}
# name: (how, the argument positions that name a descriptor, errno)
_RULES: dict[str, tuple[str, tuple[int, ...], int]] = {
    "read": (_ANY, (0,), errno.EPERM),
    "readv": (_ANY, (0,), errno.EPERM),
    "pread64": (_ANY, (0,), errno.EPERM),
    "preadv": (_ANY, (0,), errno.EPERM),
    "preadv2": (_ANY, (0,), errno.EPERM),
    "recvfrom": (_ANY, (0,), errno.EPERM),
    "recvmsg": (_ANY, (0,), errno.EPERM),
    # nothing may be sent or connected either: it would not reach the zygote, and on some
    # socket types it drops what the socket holds
    "write": (_ANY, (0,), errno.EPERM),
    "writev": (_ANY, (0,), errno.EPERM),
    "pwrite64": (_ANY, (0,), errno.EPERM),
    "pwritev": (_ANY, (0,), errno.EPERM),
    "pwritev2": (_ANY, (0,), errno.EPERM),
    "sendto": (_ANY, (0,), errno.EPERM),
    "sendmsg": (_ANY, (0,), errno.EPERM),
    "sendmmsg": (_ANY, (0,), errno.EPERM),
    "connect": (_ANY, (0,), errno.EPERM),
    "splice": (_ANY, (0, 2), errno.EPERM),  # fd_in, fd_out
    "sendfile": (_ANY, (0, 1), errno.EPERM),  # out_fd, in_fd
    "copy_file_range": (_ANY, (0, 2), errno.EPERM),  # fd_in, fd_out
    "dup": (_ANY, (0,), errno.EPERM),
    "dup2": (_ANY, (0, 1), errno.EPERM),  # replacing it would close it
    "dup3": (_ANY, (0, 1), errno.EPERM),
    "fcntl": (_ANY, (0,), errno.EPERM),  # F_DUPFD*, and nothing else the program needs on it
    "close": (_ANY, (0,), errno.EPERM),
    "shutdown": (_ANY, (0,), errno.EPERM),
    "close_range": (_RANGE, (0, 1), errno.EPERM),  # the C library falls back to close() each
    "pidfd_getfd": (_ALWAYS, (), errno.EPERM),
    "io_uring_setup": (_ALWAYS, (), errno.ENOSYS),
    "io_setup": (_ALWAYS, (), errno.ENOSYS),
}


def _low(i: int) -> int:
    """The offset of args[i]'s low 32 bits in struct seccomp_data (little-endian ABIs)."""
    return 16 + 8 * i


def program(arch: str, fd: int) -> list[tuple[int, int, int, int]]:
    """The BPF program that guards descriptor `fd` on `arch` (see the module's docstring)."""
    audit_arch, _, nrs = _ARCHES[arch]
    prog = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch: a foreign ABI is seccomp.py's to refuse
        (_JEQ_K, 1, 0, audit_arch),
        (_RET_K, 0, 0, _RET_ALLOW),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if arch == "x86_64":
        prog += [(_JGE_K, 0, 1, 0x40000000), (_RET_K, 0, 0, _RET_ALLOW)]  # x32: likewise
    for name, (how, positions, err) in _RULES.items():
        deny = (_RET_K, 0, 0, _RET_ERRNO | err)
        if how == _ALWAYS:
            prog += [(_JEQ_K, 0, 1, nrs[name]), deny]
            continue
        if how == _RANGE:
            first, last = positions
            body = [
                (_LD_W_ABS, 0, 0, _low(first)),
                (_JGT_K, 3, 0, fd),  # first > fd: fd is not in the range
                (_LD_W_ABS, 0, 0, _low(last)),
                (_JGE_K, 0, 1, fd),
                deny,
                (_RET_K, 0, 0, _RET_ALLOW),
            ]
        else:
            body = []
            for i in positions:
                body += [(_LD_W_ABS, 0, 0, _low(i)), (_JEQ_K, 0, 1, fd), deny]
            body.append((_RET_K, 0, 0, _RET_ALLOW))
        prog += [(_JEQ_K, 0, len(body), nrs[name]), *body]
    prog.append((_RET_K, 0, 0, _RET_ALLOW))
    return prog


_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_prctl = _libc.prctl
_recvmmsg = _libc.recvmmsg  # resolved in the zygote: the audit hook refuses dlsym later


class _Iovec(ctypes.Structure):
    _fields_ = (("base", ctypes.c_void_p), ("len", ctypes.c_size_t))


class _Msghdr(ctypes.Structure):
    _fields_ = (
        ("name", ctypes.c_void_p),
        ("namelen", ctypes.c_uint32),
        ("iov", ctypes.c_void_p),
        ("iovlen", ctypes.c_size_t),
        ("control", ctypes.c_void_p),
        ("controllen", ctypes.c_size_t),
        ("flags", ctypes.c_int),
    )


class _Mmsghdr(ctypes.Structure):
    _fields_ = (("hdr", _Msghdr), ("len", ctypes.c_uint))


class _Cmsg(ctypes.Structure):  # struct cmsghdr followed by one int, CMSG_SPACE(sizeof(int))
    _fields_ = (
        ("len", ctypes.c_size_t),
        ("level", ctypes.c_int),
        ("type", ctypes.c_int),
        ("fd", ctypes.c_int),
        ("pad", ctypes.c_int),
    )


_Byte = ctypes.c_char * 1
_recvmmsg.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True)
class Parked:
    """The receiving end of the socket that holds the result pipe; `state` says how guarded."""

    sock: int
    state: str = "parked"


def park(result_fd: int) -> Parked:
    """Move the result pipe's write end `result_fd` into a private socket's queue, and close it."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        socket.send_fds(a, [b"r"], [result_fd])
        os.close(result_fd)
        return Parked(b.detach())


def seal(parked: Parked) -> Parked:
    """Close every descriptor but 0-2 and the socket, and install the filter that guards the
    socket. The returned state is "enforced", or "unavailable: why" (the report still works)."""
    keep = parked.sock
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 20)
    arch = platform.machine()
    if arch not in _ARCHES:
        return Parked(keep, f"unavailable: no filter for the {arch} architecture")
    prog = program(arch, keep)
    filters = (_SockFilter * len(prog))(*(_SockFilter(*ins) for ins in prog))
    fprog = _SockFprog(len(prog), filters)
    _prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    nr = _ARCHES[arch][1]
    rc = _syscall(
        ctypes.c_long(nr),
        ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
        ctypes.c_long(_SECCOMP_FILTER_FLAG_TSYNC),
        ctypes.byref(fprog),
    )
    if rc != 0:
        err = ctypes.get_errno() if rc < 0 else errno.EBUSY  # > 0: a thread that did not sync
        return Parked(keep, f"unavailable: {errno.errorcode.get(err, err)}")
    return Parked(keep, "enforced")


# The one call chain allowed to take the pipe back: entry.run_child → _after_job → _report.
_REPORT_PATH = ("_report", "_after_job", "run_child")
_ENTRY_FILE = os.path.join("dynamic", "child", "entry.py")


def take_back(
    parked: Parked,
    _recv: Any = _recvmmsg,
    _addressof: Any = ctypes.addressof,
    _sizeof: Any = ctypes.sizeof,
    _errno: Any = ctypes.get_errno,
    _types: tuple[Any, ...] = (_Byte, _Iovec, _Cmsg, _Mmsghdr),
    _frame: Any = sys._getframe,
    _threads: Any = sys._current_frames,
    _path: tuple[str, ...] = _REPORT_PATH,
    _entry: str = _ENTRY_FILE,
    _len: Any = len,
) -> int:
    """The result pipe's write end, out of the socket (through recvmmsg, the one way left).
    Everything it calls is bound at import: no patched module can run code in it.

    Only the report path may call it: entry.run_child → _after_job → _report, with no other
    run_child below it (a copy of that chain called from the program has the real one under it)
    and no other thread alive (the program's thread would have none). Anything else is refused
    before the socket is touched, so the program cannot take the pipe with a Python call."""
    if _len(_threads()) != 1:
        raise OSError(errno.EPERM, "the result pipe is taken back with one thread alive only")
    frame = _frame(1)
    for name in _path:
        code = frame.f_code if frame is not None else None
        if code is None or code.co_name != name or not code.co_filename.endswith(_entry):
            raise OSError(errno.EPERM, "the result pipe is taken back by the report path only")
        frame = frame.f_back
    while frame is not None:
        code = frame.f_code
        if code.co_name == _path[-1] and code.co_filename.endswith(_entry):
            raise OSError(errno.EPERM, "the result pipe is taken back by the report path only")
        frame = frame.f_back
    byte_t, iov_t, cmsg_t, msg_t = _types
    byte = byte_t()
    iov = iov_t(_addressof(byte), 1)
    cmsg = cmsg_t()
    msg = msg_t()
    msg.hdr.iov = _addressof(iov)
    msg.hdr.iovlen = 1
    msg.hdr.control = _addressof(cmsg)
    msg.hdr.controllen = _sizeof(cmsg)
    n = _recv(parked.sock, _addressof(msg), 1, _MSG_CMSG_CLOEXEC | _MSG_DONTWAIT, None)
    if n != 1:
        raise OSError(_errno(), "recvmmsg on the result socket failed")
    if (cmsg.level, cmsg.type) != (_SOL_SOCKET, _SCM_RIGHTS):
        raise OSError(errno.EBADMSG, "the result socket held no descriptor")
    return cmsg.fd
