"""A seccomp filter through ctypes: no new processes, no program execution, no network, no escape.

Installed in each sandboxed child after its setup, it makes the kernel refuse, with an errno the
program sees as an ordinary OSError:

- processes and programs: fork/vfork, clone without CLONE_THREAD or with a namespace flag
  (threads still work), clone3 (ENOSYS, so the C library falls back to clone, which the filter
  can inspect), execve/execveat;
- the network, whatever the descriptor came from: socket and socketpair, and connect, bind,
  listen, accept, sendto, sendmsg, sendmmsg on any descriptor (the child has no socket, and an
  inherited one must not become a way out); io_uring (its rings open and connect sockets and
  send on them without any of these syscalls);
- memory outside the address-space limit: memfd_create, memfd_secret, userfaultfd;
- reaching other processes: ptrace, process_vm_readv/writev, pidfd_getfd, pidfd_send_signal,
  and kill/tgkill/tkill/rt_sigqueueinfo/rt_tgsigqueueinfo aimed anywhere but at the child itself
  (its own process, group or threads);
- the kernel's privileged interfaces, in case a capability survived: bpf, perf_event_open,
  keyctl/add_key/request_key, mount and the new mount API, umount2, pivot_root, chroot,
  unshare, setns, kexec_load/kexec_file_load, init_module/finit_module/delete_module,
  open_by_handle_at/name_to_handle_at, and personality other than its query.

Unlike RLIMIT_NPROC it also holds for root. Syscalls of a foreign ABI (i386 or x32 on x86_64) are
refused wholesale.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_CLONE_THREAD = 0x00010000
# CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
# CLONE_NEWNET, CLONE_NEWTIME (0x80): no new namespace, even alongside CLONE_THREAD.
_CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000
_CLONE_NAMESPACES |= 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080
_PERSONALITY_QUERY = 0xFFFFFFFF

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

# seccomp_data: nr at 0, arch at 4, args[i] at 16 + 8 i (their low halves on little-endian).
_ARG0 = 16

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
            "connect": 42,
            "accept": 43,
            "sendto": 44,
            "sendmsg": 46,
            "bind": 49,
            "listen": 50,
            "socketpair": 53,
            "accept4": 288,
            "sendmmsg": 307,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "memfd_create": 319,
            "memfd_secret": 447,
            "userfaultfd": 323,
            "bpf": 321,
            "perf_event_open": 298,
            "add_key": 248,
            "request_key": 249,
            "keyctl": 250,
            "mount": 165,
            "umount2": 166,
            "pivot_root": 155,
            "chroot": 161,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "unshare": 272,
            "setns": 308,
            "kexec_load": 246,
            "kexec_file_load": 320,
            "init_module": 175,
            "finit_module": 313,
            "delete_module": 176,
            "pidfd_getfd": 438,
            "pidfd_send_signal": 424,
            "open_by_handle_at": 304,
            "name_to_handle_at": 303,
            "personality": 135,
            "kill": 62,
            "tkill": 200,
            "tgkill": 234,
            "rt_sigqueueinfo": 129,
            "rt_tgsigqueueinfo": 297,
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
            "connect": 203,
            "accept": 202,
            "sendto": 206,
            "sendmsg": 211,
            "bind": 200,
            "listen": 201,
            "socketpair": 199,
            "accept4": 242,
            "sendmmsg": 269,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "memfd_create": 279,
            "memfd_secret": 447,
            "userfaultfd": 282,
            "bpf": 280,
            "perf_event_open": 241,
            "add_key": 217,
            "request_key": 218,
            "keyctl": 219,
            "mount": 40,
            "umount2": 39,
            "pivot_root": 41,
            "chroot": 51,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "unshare": 97,
            "setns": 268,
            "kexec_load": 104,
            "kexec_file_load": 294,
            "init_module": 105,
            "finit_module": 273,
            "delete_module": 106,
            "pidfd_getfd": 438,
            "pidfd_send_signal": 424,
            "open_by_handle_at": 265,
            "name_to_handle_at": 264,
            "personality": 92,
            "kill": 129,
            "tkill": 130,
            "tgkill": 131,
            "rt_sigqueueinfo": 138,
            "rt_tgsigqueueinfo": 240,
        },
    ),
}
_NETWORK = ("connect", "accept", "accept4", "sendto", "sendmsg", "sendmmsg", "bind", "listen")
# Features a library may probe for and do without: ENOSYS, as on a kernel that lacks them.
_ABSENT = (
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "memfd_create",
    "memfd_secret",
    "userfaultfd",
    "bpf",
    "perf_event_open",
)
_PRIVILEGED = (
    "add_key",
    "request_key",
    "keyctl",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "unshare",
    "setns",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "pidfd_getfd",
    "pidfd_send_signal",
    "open_by_handle_at",
    "name_to_handle_at",
    "tkill",
)
_REFUSALS = {
    "socket": errno.EACCES,
    "socketpair": errno.EACCES,
    "fork": errno.EAGAIN,
    "vfork": errno.EAGAIN,
    "execve": errno.EACCES,
    "execveat": errno.EACCES,
    "ptrace": errno.EPERM,
    "process_vm_readv": errno.EPERM,
    "process_vm_writev": errno.EPERM,
    "clone3": errno.ENOSYS,
    **dict.fromkeys(_NETWORK, errno.EACCES),
    **dict.fromkeys(_ABSENT, errno.ENOSYS),
    **dict.fromkeys(_PRIVILEGED, errno.EPERM),
}
# Signals: allowed only when the first argument names the child itself (kill: its pid, 0 for its
# group, -pid for the group it leads; the others: its thread group).
_SIGNALS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")


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


def _only_if_arg0(nr: int, allowed: list[int], err: int) -> list[tuple[int, int, int, int]]:
    """If the syscall is `nr`: allowed when the low half of its first argument is one of
    `allowed`, else refused with `err`. The kernel reads these arguments as 32-bit ints."""
    n = len(allowed)
    block = [(_JEQ_K, 0, n + 3, nr), (_LD_W_ABS, 0, 0, _ARG0)]
    block += [(_JEQ_K, n - i, 0, value & 0xFFFFFFFF) for i, value in enumerate(allowed)]
    block += [(_RET_K, 0, 0, _RET_ERRNO | err), (_RET_K, 0, 0, _RET_ALLOW)]
    return block


def _program(arch: str, pid: int | None = None) -> list[tuple[int, int, int, int]]:
    audit_arch, nrs = _ARCHES[arch]
    pid = os.getpid() if pid is None else pid
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
    # Each block below loads an argument, so it ends by returning: they come last.
    prog += _only_if_arg0(nrs["personality"], [_PERSONALITY_QUERY], errno.EPERM)
    prog += _only_if_arg0(nrs["kill"], [pid, 0, -pid], errno.EPERM)
    for name in _SIGNALS[1:]:
        prog += _only_if_arg0(nrs[name], [pid], errno.EPERM)
    prog += [
        (_JEQ_K, 0, 6, nrs["clone"]),
        (_LD_W_ABS, 0, 0, _ARG0),  # low half of args[0]: the clone flags
        (_JSET_K, 0, 1, _CLONE_NAMESPACES),
        (_RET_K, 0, 0, _RET_ERRNO | errno.EPERM),
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


def install(pid: int | None = None) -> None:
    """Install the filter on the calling thread for good; raises OSError when the kernel refuses.
    `pid` (default: the caller's) is the process that signals may still reach."""
    arch = platform.machine()
    if arch not in _ARCHES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for the {arch} architecture")
    prog = _program(arch, pid)
    filters = (_SockFilter * len(prog))(*(_SockFilter(*ins) for ins in prog))
    fprog = _SockFprog(len(prog), filters)
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"PR_SET_NO_NEW_PRIVS: {errno.errorcode.get(err, err)}")
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter refused: {errno.errorcode.get(err, err)}")
