"""Landlock through ctypes: confine a process's filesystem access, TCP and signals (Linux ≥ 5.13).

A process that calls `restrict()` can afterwards read only beneath the given read paths, write
only beneath the given write paths, execute nothing, bind or connect no TCP port (ABI ≥ 4), reach
no abstract UNIX socket and signal no process outside its own domain (ABI ≥ 6). The restriction
is irrevocable and inherited by every child. Files opened before the call stay usable.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Iterable

# The three Landlock syscalls share one number on every architecture (generic table).
_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem access rights, by the ABI that introduced them.
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ = FS_READ_FILE | FS_READ_DIR
WRITE_TREE = ((1 << 16) - 1) & ~FS_EXECUTE  # everything except execution, beneath a directory
WRITE_FILE = FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class LandlockError(OSError):
    """Landlock is missing, disabled, or refused the ruleset."""


def _syscall(nr: int, *args: object) -> int:
    res = _libc.syscall(ctypes.c_long(nr), *args)
    if res < 0:
        err = ctypes.get_errno()
        raise LandlockError(err, os.strerror(err))
    return int(res)


def abi_version() -> int:
    """The kernel's Landlock ABI version; raises LandlockError when Landlock is unavailable."""
    return _syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))


def probe() -> str:
    """A one-line status for users: "enforced (ABI n)" or "unavailable: why"."""
    try:
        abi = abi_version()
    except LandlockError as e:
        return unavailable(e)
    return f"enforced (ABI {abi})"


def unavailable(error: OSError) -> str:
    """The one-line status for a failure of Landlock."""
    reasons = {
        errno.ENOSYS: "the kernel has no Landlock support (ENOSYS)",
        errno.EOPNOTSUPP: "Landlock is off (EOPNOTSUPP; add landlock to the kernel's lsm= list)",
    }
    return "unavailable: " + reasons.get(error.errno or 0, error.strerror or str(error))


def _handled_fs(abi: int) -> int:
    mask = (1 << 13) - 1
    if abi >= 2:
        mask |= FS_REFER
    if abi >= 3:
        mask |= FS_TRUNCATE
    if abi >= 5:
        mask |= FS_IOCTL_DEV
    return mask


def restrict(
    read: Iterable[str],
    write_dirs: Iterable[str] = (),
    write_files: Iterable[str] = (),
) -> int:
    """Confine the calling thread (and, before any thread is started, the process) for good.

    Returns the ABI version enforced. Paths that do not exist are skipped. Raises LandlockError
    when the kernel cannot enforce it; the caller decides whether to go on unconfined.
    """
    abi = abi_version()
    handled_fs = _handled_fs(abi)
    attr = _RulesetAttr(handled_fs, 0, 0)
    size = 8
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    ruleset = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    try:
        rules = [(p, READ) for p in read]
        rules += [(p, WRITE_TREE) for p in write_dirs]
        rules += [(p, WRITE_FILE) for p in write_files]
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                allowed = access & handled_fs
                if not os.path.isdir(path):
                    allowed &= _FILE_RIGHTS
                rule = _PathBeneathAttr(allowed, fd)
                _syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0)
            finally:
                os.close(fd)
        _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        _syscall(_SYS_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)
    return abi
