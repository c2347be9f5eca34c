"""A seccomp filter through ctypes: no new processes, no program execution, no sockets.

Installed in each sandboxed child after its setup, it makes the kernel refuse, with an errno the
program sees as an ordinary OSError: fork/vfork and clone without CLONE_THREAD (threads still
work), clone3 (ENOSYS, so the C library falls back to clone, which the filter can inspect),
execve/execveat, socket (so no network at all), ptrace and process_vm_readv/writev. Unlike
RLIMIT_NPROC it also holds for root. Syscalls of a foreign ABI (i386 or x32 on x86_64) are
refused wholesale.
"""

from __future__ import annotations

import ctypes
import errno
import platform

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_CLONE_THREAD = 0x00010000

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

# arch: (AUDIT_ARCH value, syscall numbers). aarch64 has no fork/vfork syscalls.
_ARCHES = {
    "x86_64": (
        0xC000003E,
        {
            "socket": 41,
            "clone": 56,
            "fork": 57,
            "vfork": 58,
            "execve": 59,
            "ptrace": 101,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "execveat": 322,
            "clone3": 435,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "socket": 198,
            "clone": 220,
            "execve": 221,
            "ptrace": 117,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "execveat": 281,
            "clone3": 435,
        },
    ),
}
_REFUSALS = {
    "socket": errno.EACCES,
    "fork": errno.EAGAIN,
    "vfork": errno.EAGAIN,
    "execve": errno.EACCES,
    "execveat": errno.EACCES,
    "ptrace": errno.EPERM,
    "process_vm_readv": errno.EPERM,
    "process_vm_writev": errno.EPERM,
    "clone3": errno.ENOSYS,
}


class _SockFilter(ctypes.Structure):
    _fields_ = (
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter)))


_libc = ctypes.CDLL(None, use_errno=True)


def _program(arch: str) -> list[tuple[int, int, int, int]]:
    audit_arch, nrs = _ARCHES[arch]
    refuse_all = _RET_ERRNO | errno.ENOSYS
    prog = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ_K, 1, 0, audit_arch),
        (_RET_K, 0, 0, refuse_all),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if arch == "x86_64":
        prog += [(_JGE_K, 0, 1, 0x40000000), (_RET_K, 0, 0, refuse_all)]  # the x32 ABI
    for name, err in _REFUSALS.items():
        if name in nrs:
            prog += [(_JEQ_K, 0, 1, nrs[name]), (_RET_K, 0, 0, _RET_ERRNO | err)]
    prog += [
        (_JEQ_K, 0, 4, nrs["clone"]),
        (_LD_W_ABS, 0, 0, 16),  # low half of args[0]: the clone flags
        (_JSET_K, 0, 1, _CLONE_THREAD),
        (_RET_K, 0, 0, _RET_ALLOW),
        (_RET_K, 0, 0, _RET_ERRNO | errno.EAGAIN),
        (_RET_K, 0, 0, _RET_ALLOW),
    ]
    return prog


def probe() -> str:
    """A one-line status: "enforced" where the filter can be installed, else "unavailable: why"."""
    arch = platform.machine()
    if arch not in _ARCHES:
        return f"unavailable: no filter for the {arch} architecture"
    return "enforced"


def install() -> None:
    """Install the filter on the calling thread for good; raises OSError when the kernel refuses."""
    arch = platform.machine()
    if arch not in _ARCHES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for the {arch} architecture")
    prog = _program(arch)
    filters = (_SockFilter * len(prog))(*(_SockFilter(*ins) for ins in prog))
    fprog = _SockFprog(len(prog), filters)
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"PR_SET_NO_NEW_PRIVS: {errno.errorcode.get(err, err)}")
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter refused: {errno.errorcode.get(err, err)}")
